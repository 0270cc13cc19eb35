#include "engine/smtp/data_scanner.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/strings/ascii.h"

namespace ferry::smtp {
namespace {

constexpr std::string_view kReceivedName = "received:";

// Returns true if any of p[0, n) is >= 0x80.
bool HasHighBit(const char* p, size_t n) {
  uint64_t any = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    any |= word;
  }
  for (; i < n; ++i) any |= static_cast<unsigned char>(p[i]);
  return (any & 0x8080808080808080ULL) != 0;
}

}  // namespace

void ReceivedFieldCounter::Feed(char c) {
  if (matched_ < 0) return;
  if (absl::ascii_tolower(static_cast<unsigned char>(c)) !=
      kReceivedName[matched_]) {
    matched_ = -1;
    return;
  }
  if (++matched_ == static_cast<int>(kReceivedName.size())) {
    ++count_;
    matched_ = -1;
  }
}

void ReceivedFieldCounter::EndLine(bool empty) {
  if (empty) in_header_ = false;
  matched_ = in_header_ ? 0 : -1;
}

DataScanner::DataScanner(const DataScannerOptions& options)
    : options_(options) {}

bool DataScanner::Scan(MessageBody* body, std::string* rest) {
  if (done_) return true;
  body_ = body;
  const size_t end = body->size();
  mode_ = storing_ ? Mode::kInPlace : Mode::kDiscard;
  in_place_next_ = scanned_;
  reading_copy_ = false;

  size_t offset = scanned_;  // body offset of the next unread byte
  while (offset < end && !done_ && !reading_copy_) {
    std::string_view span = body->ContiguousAt(offset).substr(0, end - offset);
    offset += ScanSpan(span.data(), span.size());
  }
  size_t copy_next = 0;  // when reading_copy_: index of the next unread byte
  if (reading_copy_) {
    copy_next = offset - copy_from_;
    while (copy_next < copy_.size() && !done_) {
      copy_next += ScanSpan(copy_.data() + copy_next, copy_.size() - copy_next);
    }
  }

  if (done_) {
    // Bytes after the end-of-data line are the client's next commands.
    if (reading_copy_) {
      rest->append(copy_, copy_next);
    } else {
      body->CopyOut(offset, end - offset, rest);
    }
    body->Truncate(std::min(line_start_, OutputSize()));
  } else if (mode_ == Mode::kDiscard) {
    body->Truncate(keep_size_);
  }
  copy_.clear();
  scanned_ = body->size();
  received_count_ = received_.count();
  body_ = nullptr;
  return done_;
}

size_t DataScanner::ScanSpan(const char* p, size_t n) {
  const bool from_body = !reading_copy_;
  size_t i = 0;
  while (i < n) {
    if (!cr_pending_ && !received_.matching()) {
      // Fast path: a line that starts with an ordinary byte is plain text
      // up to its CR or LF.
      const char c = p[i];
      if (line_ == LineState::kStart && c != '.' && c != '\r' && c != '\n') {
        line_ = LineState::kText;
      }
      if (line_ == LineState::kText) {
        const size_t stop = ScanText(p, i, n);
        const bool advanced = stop > i;
        i = stop;
        if (advanced) continue;
      }
    }
    HandleByte(p[i]);
    ++i;
    // After a rewrite p may point into bytes the body no longer contains.
    if (done_ || (from_body && reading_copy_)) break;
  }
  return i;
}

size_t DataScanner::ScanText(const char* p, size_t i, size_t n) {
  const char* start = p + i;
  const char* lf = static_cast<const char*>(std::memchr(start, '\n', n - i));
  const size_t line_length = lf != nullptr ? lf - start : n - i;
  const char* cr =
      static_cast<const char*>(std::memchr(start, '\r', line_length));
  const size_t length = cr != nullptr ? cr - start : line_length;
  size_ += length;
  if (!has_8bit_) has_8bit_ = HasHighBit(start, length);
  if (cr != nullptr && cr + 1 == lf) {
    // The usual case: the line ends in CRLF, and being text it cannot be
    // the end-of-data line.
    Keep(start, length + 2);
    FinishLine(/*bare=*/false);
    return i + length + 2;
  }
  Keep(start, length);
  CheckSize();
  return i + length;
}

void DataScanner::HandleByte(char c) {
  if (cr_pending_) {
    cr_pending_ = false;
    if (c == '\n') {
      EndCrlfLine();
      return;
    }
    EndBareCrLine();
  }
  if (c == '\r') {
    cr_pending_ = true;
    Keep(&c, 1);
    return;
  }
  if (c == '\n') {
    EndBareLfLine();
    return;
  }
  HandleTextByte(c);
}

void DataScanner::HandleTextByte(char c) {
  if (static_cast<unsigned char>(c) >= 0x80) has_8bit_ = true;
  if (line_ == LineState::kStart && c == '.') {
    if (after_bare_) {
      // No line started here for the client, so it did not stuff this
      // dot. Now that the bare line ending became CRLF, a line does start
      // here and the next hop will remove one dot: add one.
      Emit(".");
      ++size_;
      line_ = LineState::kText;
    } else {
      line_ = LineState::kDot;
    }
  } else {
    line_ = LineState::kText;
    ++size_;
  }
  if (received_.matching()) received_.Feed(c);
  Keep(&c, 1);
}

void DataScanner::EndCrlfLine() {
  if (line_ == LineState::kDot && !after_bare_) {
    done_ = true;
    return;
  }
  const char lf = '\n';
  Keep(&lf, 1);
  FinishLine(/*bare=*/false);
}

void DataScanner::EndBareLfLine() {
  const char lf = '\n';
  if (options_.bare_line_ending == BareLineEnding::kReject) {
    RejectBareLineEnding();
  } else if (line_ == LineState::kDot) {
    // A lone "." would end the data at the next hop: send ".." instead.
    Emit(".\r");
  } else {
    Emit("\r");
  }
  Keep(&lf, 1);
  FinishLine(/*bare=*/true);
}

void DataScanner::EndBareCrLine() {
  // The CR is stored already.
  if (options_.bare_line_ending == BareLineEnding::kReject) {
    RejectBareLineEnding();
  } else if (line_ == LineState::kDot) {
    DropLastStored();
    Emit(".\r\n");
  } else {
    Emit("\n");
  }
  FinishLine(/*bare=*/true);
}

void DataScanner::FinishLine(bool bare) {
  // A lone "." that does not end the data is content, stored as "..".
  size_ += line_ == LineState::kDot ? 3 : 2;
  received_.EndLine(line_ == LineState::kStart);
  line_ = LineState::kStart;
  after_bare_ = bare;
  line_start_ = OutputSize();
  CheckSize();
}

void DataScanner::Keep(const char* p, size_t n) {
  switch (mode_) {
    case Mode::kInPlace:
      in_place_next_ += n;
      break;
    case Mode::kCopy:
      body_->Append(std::string_view(p, n));
      break;
    case Mode::kDiscard:
      break;
  }
}

void DataScanner::Emit(std::string_view bytes) {
  if (mode_ == Mode::kInPlace) SwitchToCopy(in_place_next_);
  if (mode_ == Mode::kCopy) body_->Append(bytes);
}

void DataScanner::DropLastStored() {
  if (mode_ == Mode::kInPlace) {
    // The dropped byte becomes copy_[0], which the reader skips: it has
    // been scanned already.
    SwitchToCopy(in_place_next_ - 1);
  } else if (mode_ == Mode::kCopy) {
    body_->Truncate(body_->size() - 1);
  }
}

void DataScanner::SwitchToCopy(size_t from) {
  copy_.clear();
  body_->CopyOut(from, body_->size() - from, &copy_);
  body_->Truncate(from);
  copy_from_ = from;
  reading_copy_ = true;
  mode_ = Mode::kCopy;
}

void DataScanner::StopStoring(size_t keep_size) {
  if (!storing_) return;
  keep_size_ = keep_size;
  storing_ = false;
  mode_ = Mode::kDiscard;
}

void DataScanner::RejectBareLineEnding() {
  bare_rejected_ = true;
  // Keep whole lines only, so that what is stored has no bare CR or LF.
  StopStoring(line_start_);
}

void DataScanner::CheckSize() {
  if (too_large_ || size_ <= options_.max_size) return;
  too_large_ = true;
  StopStoring(OutputSize());
}

size_t DataScanner::OutputSize() const {
  switch (mode_) {
    case Mode::kInPlace:
      return in_place_next_;
    case Mode::kCopy:
      return body_->size();
    case Mode::kDiscard:
      return keep_size_;
  }
  return 0;
}

}  // namespace ferry::smtp
