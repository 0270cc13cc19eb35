// DataScanner: finds the end of DATA content (RFC 5321 section 4.1.1.4)
// in bytes that were received straight into a MessageBody, and checks the
// content on the way: bare CR or LF, size, Received: count, 8-bit bytes.
//
// Only CRLF "." CRLF ends DATA, where the first CRLF may be the one that
// ended the DATA command. A bare CR or LF is never taken as a line ending
// for that purpose. After Scan() returns true the body holds exactly the
// transfer form to relay: every line ends in CRLF, no line is a lone ".",
// and the end-of-data line itself is not stored.
//
// One scanner per DATA transaction; owned by the session; not thread-safe.
#ifndef FERRY_ENGINE_SMTP_DATA_SCANNER_H_
#define FERRY_ENGINE_SMTP_DATA_SCANNER_H_

#include <cstdint>
#include <string>

#include "engine/smtp/message_body.h"

namespace ferry::smtp {

// What to do with a CR or LF that is not part of a CRLF pair.
enum class BareLineEnding {
  kReject,     // read to the end of data, then reject the message (5xx)
  kNormalize,  // rewrite it as CRLF; a resulting "." line is stuffed to ".."
};

struct DataScannerOptions {
  BareLineEnding bare_line_ending = BareLineEnding::kNormalize;
  // Content larger than this (counted unstuffed, with each bare CR or LF
  // counted as the CRLF it becomes) is not stored: scanning goes on to the end
  // of data, then too_large() holds.
  uint64_t max_size = 10 * 1024 * 1024;
};

// Counts "Received:" header fields (name matched case-insensitively at the
// start of a line) in the header section, which ends at the first empty
// line. DataScanner and DotStuffer feed it one byte at a time.
class ReceivedFieldCounter {
 public:
  // True while the bytes of the current line may still spell the field
  // name: the caller must Feed() each byte of the line until it is false.
  bool matching() const { return matched_ >= 0; }

  // Feeds the next byte of the current line (not CR or LF).
  void Feed(char c);

  // Ends the current line. `empty` is true when the line had no bytes.
  void EndLine(bool empty);

  int count() const { return count_; }

 private:
  bool in_header_ = true;
  int matched_ = 0;  // bytes of the name matched so far; -1: no match
  int count_ = 0;
};

class DataScanner {
 public:
  explicit DataScanner(const DataScannerOptions& options);

  // Scans the bytes at body offsets [scanned, body->size()), where
  // `scanned` is the body size after the previous call (0 at first).
  // Returns true when the end-of-data line is found; then the body is cut
  // right before it and the bytes that followed it (pipelined commands) are
  // appended to *rest. In kNormalize mode bare CR/LF are rewritten in place,
  // which may grow the body. Once the content is too large, stored bytes
  // past max_size are dropped to keep memory bounded.
  bool Scan(MessageBody* body, std::string* rest);

  bool done() const { return done_; }
  // Valid once done(): the content broke the bare CR/LF policy (kReject).
  bool bare_line_ending_rejected() const { return bare_rejected_; }
  bool too_large() const { return too_large_; }
  // Content size in octets, unstuffed (what SIZE counts).
  uint64_t size() const { return size_; }
  // Number of "Received:" header fields (case-insensitive) before the
  // first empty line, for mail loop detection.
  int received_count() const { return received_count_; }
  // True if any byte >= 0x80 was seen (the message needs 8BITMIME).
  bool has_8bit() const { return has_8bit_; }

 private:
  // How much of the current line has been seen.
  enum class LineState : uint8_t {
    kStart,  // no byte yet
    kDot,    // exactly "." so far, which the client sent as its first byte
    kText,   // anything else
  };
  // Destination of the scanned bytes during one Scan() call.
  enum class Mode : uint8_t {
    kInPlace,  // left where they arrived: no byte has moved yet
    kCopy,     // a rewrite moved them: read from copy_, appended to the body
    kDiscard,  // not stored (too large, or rejected for a bare CR/LF)
  };

  // Scans input bytes p[0, n). Returns how many were consumed: fewer than
  // n when the end of data was found, or when p points into the body and a
  // rewrite moved the unread input to copy_.
  size_t ScanSpan(const char* p, size_t n);
  // Consumes the plain line text at p[i, n) up to a CR or LF, and the
  // CRLF after it if there is one. Returns the index after what it took.
  size_t ScanText(const char* p, size_t i, size_t n);
  void HandleByte(char c);
  void HandleTextByte(char c);
  void EndCrlfLine();
  void EndBareLfLine();
  void EndBareCrLine();
  void FinishLine(bool bare);

  // Output: Keep stores input bytes as they are, Emit inserts new bytes
  // before the next input byte, DropLastStored removes the byte stored
  // last (a CR).
  void Keep(const char* p, size_t n);
  void Emit(std::string_view bytes);
  void DropLastStored();
  void SwitchToCopy(size_t from);
  // Stops storing. The body keeps its first `keep_size` bytes.
  void StopStoring(size_t keep_size);
  void RejectBareLineEnding();
  void CheckSize();
  size_t OutputSize() const;

  DataScannerOptions options_;
  bool done_ = false;
  bool bare_rejected_ = false;
  bool too_large_ = false;
  uint64_t size_ = 0;
  int received_count_ = 0;
  bool has_8bit_ = false;

  // Line state, carried across calls.
  LineState line_ = LineState::kStart;
  bool after_bare_ = false;  // the current line began after a bare CR/LF
  bool cr_pending_ = false;  // the last byte was a CR, stored already
  size_t line_start_ = 0;    // body offset where the current line starts
  ReceivedFieldCounter received_;
  size_t scanned_ = 0;  // body size after the previous call
  bool storing_ = true;
  size_t keep_size_ = 0;  // body size to keep once storing_ is false

  // Valid during one Scan() call.
  MessageBody* body_ = nullptr;
  Mode mode_ = Mode::kInPlace;
  size_t in_place_next_ = 0;   // kInPlace: body offset of the next byte
  bool reading_copy_ = false;  // the input is copy_, not the body
  std::string copy_;           // unread input moved out of the body
  size_t copy_from_ = 0;       // body offset that copy_[0] came from
};

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_DATA_SCANNER_H_
