#include "engine/smtp/dot_stuffer.h"

#include <cstring>

namespace ferry::smtp {
namespace {

// Returns the index of the first CR or LF in text[from, size), or size.
size_t FindCrOrLf(std::string_view text, size_t from) {
  const char* start = text.data() + from;
  const size_t n = text.size() - from;
  const char* lf = static_cast<const char*>(std::memchr(start, '\n', n));
  const size_t line_length = lf != nullptr ? lf - start : n;
  const char* cr =
      static_cast<const char*>(std::memchr(start, '\r', line_length));
  return from + (cr != nullptr ? cr - start : line_length);
}

bool HasHighBit(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

}  // namespace

DotStuffer::DotStuffer(BareLineEnding policy) : policy_(policy) {}

void DotStuffer::Append(std::string_view raw, MessageBody* out) {
  if (!has_8bit_) has_8bit_ = HasHighBit(raw);
  size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    if (cr_pending_) {
      cr_pending_ = false;
      const bool crlf = c == '\n';
      EndLine(/*bare=*/!crlf, out);
      if (crlf) {
        ++i;
        continue;
      }
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r') {
        cr_pending_ = true;
      } else {
        EndLine(/*bare=*/true, out);
      }
      ++i;
      continue;
    }
    if (at_line_start_ && c == '.') out->Append(".");
    at_line_start_ = false;
    // Bytes that may spell a header field name go one by one.
    const size_t stop = received_.matching() ? i + 1 : FindCrOrLf(raw, i);
    for (size_t j = i; j < stop && received_.matching(); ++j) {
      received_.Feed(raw[j]);
    }
    out->Append(raw.substr(i, stop - i));
    size_ += stop - i;
    i = stop;
  }
}

void DotStuffer::Finish(MessageBody* out) {
  if (cr_pending_) {
    cr_pending_ = false;
    EndLine(/*bare=*/true, out);
  } else if (!at_line_start_) {
    EndLine(/*bare=*/false, out);
  }
}

void DotStuffer::EndLine(bool bare, MessageBody* out) {
  if (bare && policy_ == BareLineEnding::kReject) bare_rejected_ = true;
  out->Append("\r\n");
  size_ += 2;
  received_.EndLine(at_line_start_);
  at_line_start_ = true;
}

std::string DotStuff(std::string_view crlf_text) {
  DotStuffer stuffer(BareLineEnding::kNormalize);
  MessageBody body;
  stuffer.Append(crlf_text, &body);
  stuffer.Finish(&body);
  return body.ToString();
}

std::string DotUnstuff(std::string_view transfer_form) {
  std::string out;
  out.reserve(transfer_form.size());
  bool at_line_start = true;
  for (size_t i = 0; i < transfer_form.size(); ++i) {
    const char c = transfer_form[i];
    if (!(at_line_start && c == '.')) out.push_back(c);
    at_line_start = c == '\n' && i > 0 && transfer_form[i - 1] == '\r';
  }
  return out;
}

}  // namespace ferry::smtp
