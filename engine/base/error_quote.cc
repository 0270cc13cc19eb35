#include "engine/base/error_quote.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace ferry {

std::string QuoteForError(absl::string_view text) {
  if (text.size() <= kMaxQuotedLength) {
    return absl::StrCat("\"", absl::CHexEscape(text), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxQuotedLength)),
                      "...\" (", text.size(), " octets)");
}

}  // namespace ferry
