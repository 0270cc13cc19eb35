// ReplyParser: splits the bytes a next hop sends into complete SMTP replies
// (RFC 5321 section 4.2), single- or multi-line, and takes the enhanced
// status code (RFC 2034) off their text. Memory stays bounded by the
// line-length and line-count limits: input past them is a protocol error.
//
// One parser per outbound connection; owned by its ClientSession; not
// thread-safe.
#ifndef FERRY_ENGINE_SMTP_REPLY_PARSER_H_
#define FERRY_ENGINE_SMTP_REPLY_PARSER_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/smtp/reply.h"

namespace ferry::smtp {

struct ReplyParserOptions {
  size_t max_lines = 1000;        // lines per reply
  size_t max_line_length = 4096;  // octets per line, CRLF not counted
};

class ReplyParser {
 public:
  explicit ReplyParser(const ReplyParserOptions& options = {});

  // Parses `bytes`, which continue the bytes of earlier calls. Replies
  // completed by them become available through Next(). Returns the
  // protocol error, if any: once there is one, later input is ignored and
  // the same error is returned, but replies completed before it stay
  // available.
  absl::Status Feed(std::string_view bytes);

  // Returns the oldest complete reply not returned yet, or nullopt.
  std::optional<Reply> Next();

  bool has_reply() const { return !ready_.empty(); }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status ParseLine(std::string_view line);
  absl::Status FinishReply();

  ReplyParserOptions options_;
  std::string line_;       // bytes of the line not ended yet
  Reply partial_;          // lines of the reply not ended yet
  bool in_reply_ = false;  // partial_ has at least one line
  std::deque<Reply> ready_;
  absl::Status status_;
};

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_REPLY_PARSER_H_
