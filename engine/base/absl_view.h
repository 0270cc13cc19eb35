// Debian's Abseil is built with its own absl::string_view, which is not
// std::string_view, so Abseil functions need this conversion.
#ifndef FERRY_ENGINE_BASE_ABSL_VIEW_H_
#define FERRY_ENGINE_BASE_ABSL_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ferry {

// Returns an absl::string_view of the same characters as `text`.
inline absl::string_view ToAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

}  // namespace ferry

#endif  // FERRY_ENGINE_BASE_ABSL_VIEW_H_
