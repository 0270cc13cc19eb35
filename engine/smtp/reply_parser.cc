#include "engine/smtp/reply_parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace ferry::smtp {
namespace {

// Returns the length of the RFC 3463 status code ("2.1.5", each detail
// field 1 to 3 digits) at the start of `text` when a space or the end of
// the text follows it, else 0.
size_t EnhancedCodeLength(std::string_view text) {
  if (text.size() < 5 || !absl::ascii_isdigit(text[0]) || text[1] != '.') {
    return 0;
  }
  size_t i = 2;
  for (int field = 0; field < 2; ++field) {
    const size_t start = i;
    while (i < text.size() && i - start < 4 && absl::ascii_isdigit(text[i])) {
      ++i;
    }
    const size_t digits = i - start;
    if (digits < 1 || digits > 3) return 0;
    if (field == 0) {
      if (i >= text.size() || text[i] != '.') return 0;
      ++i;
    }
  }
  if (i < text.size() && text[i] != ' ') return 0;
  return i;
}

// Removes `code` and the space after it from the front of `text`, if there.
void StripEnhancedCode(std::string_view code, std::string* text) {
  if (text->compare(0, code.size(), code) != 0) return;
  if (text->size() == code.size()) {
    text->clear();
  } else if ((*text)[code.size()] == ' ') {
    text->erase(0, code.size() + 1);
  }
}

absl::Status ProtocolError(const std::string& problem, std::string_view line) {
  constexpr size_t kQuoted = 64;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid reply from next hop: ", problem, ": \"",
                   absl::CHexEscape(absl::string_view(
                       line.data(), std::min(line.size(), kQuoted))),
                   line.size() > kQuoted ? "...\"" : "\""));
}

}  // namespace

ReplyParser::ReplyParser(const ReplyParserOptions& options)
    : options_(options) {}

absl::Status ReplyParser::Feed(std::string_view bytes) {
  while (status_.ok() && !bytes.empty()) {
    const char* lf =
        static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    const size_t take = lf != nullptr ? lf - bytes.data() : bytes.size();
    // One byte of slack for the CR that may precede the LF.
    if (line_.size() + take > options_.max_line_length + 1) {
      status_ = ProtocolError(
          absl::StrCat("line longer than ", options_.max_line_length,
                       " octets"),
          line_.empty() ? bytes.substr(0, take) : std::string_view(line_));
      break;
    }
    line_.append(bytes.data(), take);
    if (lf == nullptr) break;
    bytes.remove_prefix(take + 1);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (line_.size() > options_.max_line_length) {
      status_ = ProtocolError(absl::StrCat("line longer than ",
                                           options_.max_line_length, " octets"),
                              line_);
      break;
    }
    status_ = ParseLine(line_);
    line_.clear();
  }
  return status_;
}

absl::Status ReplyParser::ParseLine(std::string_view line) {
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' ||
      !absl::ascii_isdigit(line[1]) || !absl::ascii_isdigit(line[2])) {
    return ProtocolError("no reply code", line);
  }
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
    return ProtocolError("no space or hyphen after the reply code", line);
  }
  const int code =
      (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (in_reply_ && code != partial_.code) {
    return ProtocolError(
        absl::StrCat("reply code changed from ", partial_.code), line);
  }
  if (partial_.lines.size() >= options_.max_lines) {
    return ProtocolError(
        absl::StrCat("reply longer than ", options_.max_lines, " lines"), line);
  }
  partial_.code = code;
  partial_.lines.emplace_back(line.size() > 4 ? line.substr(4) : "");
  in_reply_ = true;
  const bool last = line.size() == 3 || line[3] == ' ';
  return last ? FinishReply() : absl::OkStatus();
}

absl::Status ReplyParser::FinishReply() {
  const std::string& first = partial_.lines.front();
  const size_t length = EnhancedCodeLength(first);
  // RFC 2034: the class digit repeats the first digit of the reply code.
  if (length > 0 && first[0] - '0' == partial_.code / 100) {
    partial_.enhanced = first.substr(0, length);
    for (std::string& text : partial_.lines) {
      StripEnhancedCode(partial_.enhanced, &text);
    }
  }
  ready_.push_back(std::move(partial_));
  partial_ = Reply();
  in_reply_ = false;
  return absl::OkStatus();
}

std::optional<Reply> ReplyParser::Next() {
  if (ready_.empty()) return std::nullopt;
  Reply reply = std::move(ready_.front());
  ready_.pop_front();
  return reply;
}

}  // namespace ferry::smtp
