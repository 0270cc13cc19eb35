// QuoteForError: how a value that came from a client or an operator is
// quoted inside an error message.
#ifndef FERRY_ENGINE_BASE_ERROR_QUOTE_H_
#define FERRY_ENGINE_BASE_ERROR_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace ferry {

// The maximum number of octets of a value that an error message quotes.
// gRPC clients reject a status whose metadata exceeds their limit (8 KiB
// by default) and print that limit instead of the error, so a long value
// is cut.
inline constexpr size_t kMaxQuotedLength = 200;

// Returns `text` C-escaped in double quotes, cut after kMaxQuotedLength
// octets with its full length added.
std::string QuoteForError(absl::string_view text);

}  // namespace ferry

#endif  // FERRY_ENGINE_BASE_ERROR_QUOTE_H_
