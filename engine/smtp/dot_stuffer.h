// DotStuffer: turns raw message content (BDAT chunks, generated DSNs) into
// the SMTP transfer form that MessageBody stores: every line ends in CRLF
// and every line that starts with "." gets one more "." (RFC 5321 section
// 4.5.2). Content may arrive in pieces split anywhere, including between
// the CR and the LF of a line ending.
//
// One stuffer per message; owned by its caller; not thread-safe.
#ifndef FERRY_ENGINE_SMTP_DOT_STUFFER_H_
#define FERRY_ENGINE_SMTP_DOT_STUFFER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/smtp/data_scanner.h"
#include "engine/smtp/message_body.h"

namespace ferry::smtp {

class DotStuffer {
 public:
  explicit DotStuffer(BareLineEnding policy);

  // Appends the transfer form of `raw` to *out. A bare CR or LF becomes
  // CRLF under either policy, so *out never contains one, and with kReject it
  // also sets bare_line_ending_rejected(). A CR at the end of `raw` is held
  // back until the next call shows whether an LF follows.
  void Append(std::string_view raw, MessageBody* out);

  // Ends the content: writes a held-back CR as CRLF, and adds CRLF when the
  // last line has no line ending. Call once, after the last Append().
  void Finish(MessageBody* out);

  // True if the content held a bare CR or LF and the policy is kReject.
  bool bare_line_ending_rejected() const { return bare_rejected_; }
  // True if any byte >= 0x80 was seen (the message needs 8BITMIME).
  bool has_8bit() const { return has_8bit_; }
  // Number of "Received:" header fields before the first empty line.
  int received_count() const { return received_.count(); }
  // Content size in octets, unstuffed, with every line ending counted as
  // CRLF (the CRLF that Finish() may add included).
  uint64_t size() const { return size_; }

 private:
  void EndLine(bool bare, MessageBody* out);

  BareLineEnding policy_;
  bool at_line_start_ = true;
  bool cr_pending_ = false;  // a CR ended the last Append(), not yet written
  bool bare_rejected_ = false;
  bool has_8bit_ = false;
  uint64_t size_ = 0;
  ReceivedFieldCounter received_;
};

// Returns the transfer form of a small CRLF text, such as a generated DSN:
// lines that start with "." are stuffed, and a last line without a line
// ending gets CRLF. Bare CR or LF become CRLF.
std::string DotStuff(std::string_view crlf_text);

// Returns the content of a transfer form: the first "." is removed from
// every line that starts with one. Lines are split at CRLF only.
std::string DotUnstuff(std::string_view transfer_form);

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_DOT_STUFFER_H_
