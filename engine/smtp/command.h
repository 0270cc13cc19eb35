// Parser for one SMTP command line (RFC 5321 section 4.1) and the ESMTP
// parameters of MAIL and RCPT: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8
// (RFC 6531), RET, ENVID, NOTIFY and ORCPT (RFC 3461), the BDAT
// arguments (RFC 3030) and the ETRN argument (RFC 1985). A pure function over
// plain value types, safe to call from any thread.
#ifndef FERRY_ENGINE_SMTP_COMMAND_H_
#define FERRY_ENGINE_SMTP_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/smtp/address.h"
#include "engine/smtp/etrn.h"
#include "engine/smtp/reply.h"

namespace ferry::smtp {

enum class Verb {
  kEhlo,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kHelp,
  kEtrn,
  kUnknown,
};

struct MailParameters {
  std::optional<uint64_t> size;  // SIZE=, the declared message size in octets
  bool body_8bitmime = false;    // BODY=8BITMIME (BODY=7BIT leaves it false)
  bool smtputf8 = false;         // SMTPUTF8
  std::string ret;               // "FULL", "HDRS" or empty (upper case)
  std::string envid;             // ENVID=, xtext exactly as sent
};

struct RcptParameters {
  // NOTIFY=: "NEVER" or a comma-separated subset of SUCCESS, FAILURE and
  // DELAY, in upper case. Empty when absent.
  std::string notify;
  std::string orcpt;  // ORCPT=, "addr-type;xtext" exactly as sent
};

struct Command {
  Verb verb = Verb::kUnknown;
  // EHLO/HELO: the client's domain or address literal. VRFY, HELP, NOOP:
  // the argument text, or empty.
  std::string argument;
  Path path;  // the sender for MAIL, the recipient for RCPT
  MailParameters mail;
  RcptParameters rcpt;
  uint64_t chunk_size = 0;  // BDAT: octets that follow the command line
  bool last_chunk = false;  // BDAT ... LAST
  EtrnNode etrn;            // ETRN
};

struct CommandLimits {
  // A MAIL SIZE= above this gets 552 5.3.4.
  uint64_t max_message_size = 10 * 1024 * 1024;
};

struct ParsedCommand {
  // The verb is set even when `error` is, so that the caller can tell
  // which command failed. The other fields are valid only when ok().
  Command command;
  std::optional<Reply> error;  // the reply that rejects the line

  bool ok() const { return !error.has_value(); }
};

// Parses `line`, one command line without its CRLF. Verbs and parameter
// keywords are case-insensitive, and paths keep their case. Errors:
//   500 5.5.1  unknown verb
//   500 5.5.2  empty line
//   501 5.5.4  invalid arguments, or a malformed, duplicate or invalid
//              parameter
//   501 5.1.7  invalid sender path
//   501 5.1.3  invalid recipient path
//   555 5.5.4  a well-formed parameter that the verb does not support
//   552 5.3.4  SIZE above limits.max_message_size, or too large for 64 bits
// The first problem found, from left to right, decides the reply.
ParsedCommand ParseCommand(std::string_view line, const CommandLimits& limits);

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_COMMAND_H_
