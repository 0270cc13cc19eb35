#include "engine/smtp/reply.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ferry::smtp {

std::string Reply::Format() const {
  std::string out;
  const size_t count = lines.empty() ? 1 : lines.size();
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&out, code, i + 1 == count ? " " : "-");
    if (!enhanced.empty()) absl::StrAppend(&out, enhanced, " ");
    if (!lines.empty()) out += lines[i];
    out += "\r\n";
  }
  return out;
}

std::string Reply::Summary() const {
  std::string out = absl::StrCat(code);
  if (!enhanced.empty()) absl::StrAppend(&out, " ", enhanced);
  if (!lines.empty()) absl::StrAppend(&out, " ", lines.front());
  return out;
}

Reply MakeReply(int code, std::string enhanced, std::string text) {
  Reply reply;
  reply.code = code;
  reply.enhanced = std::move(enhanced);
  reply.lines.push_back(std::move(text));
  return reply;
}

}  // namespace ferry::smtp
