// ServerSession's command handlers: one per SMTP verb, each checking the
// session's state and returning the reply. The input handling, end of
// content and the I/O surface are in server_session.cc.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/smtp/server_session.h"

namespace ferry::smtp {
namespace {

Reply Accepted(std::string_view enhanced, std::string_view text) {
  return MakeReply(250, std::string(enhanced), std::string(text));
}

Reply BadSequence(std::string_view text) {
  return MakeReply(503, "5.5.1", std::string(text));
}

// A non-ASCII address without SMTPUTF8 gets 553 with 5.6.7, the enhanced
// code that RFC 6531 registers for it.
Reply Utf8Required(std::string_view role) {
  return MakeReply(553, "5.6.7",
                   absl::StrCat("Non-ASCII ", std::string(role),
                                " address requires SMTPUTF8"));
}

}  // namespace

// ---- Commands ----

void ServerSession::ExecuteLine(std::string_view line) {
  if (line.size() > max_command_line_) {
    // Only possible for input buffered past a DATA end or a BDAT chunk.
    Respond(MakeReply(500, "5.5.2", "Line too long"), true);
    return;
  }
  line.remove_suffix(1);  // LF
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (++commands_ > options_.max_commands) {
    Close(MakeReply(421, "4.7.0",
                    absl::StrCat(options_.hostname,
                                 " Too many commands, closing connection")));
    return;
  }
  CommandLimits limits;
  limits.max_message_size = options_.max_message_size;
  const ParsedCommand parsed = ParseCommand(line, limits);
  if (!parsed.ok()) {
    // A BDAT line that fails to parse has no usable size, so the octets
    // after it are read as commands.
    Respond(*parsed.error, true);
    return;
  }
  const std::optional<Reply> reply =
      (this->*HandlerFor(parsed.command.verb))(parsed.command);
  if (reply.has_value()) Respond(*reply, true);
}

ServerSession::CommandHandler ServerSession::HandlerFor(Verb verb) {
  switch (verb) {
    case Verb::kEhlo:
      return &ServerSession::OnEhlo;
    case Verb::kHelo:
      return &ServerSession::OnHelo;
    case Verb::kMail:
      return &ServerSession::OnMail;
    case Verb::kRcpt:
      return &ServerSession::OnRcpt;
    case Verb::kData:
      return &ServerSession::OnData;
    case Verb::kBdat:
      return &ServerSession::OnBdat;
    case Verb::kRset:
      return &ServerSession::OnRset;
    case Verb::kQuit:
      return &ServerSession::OnQuit;
    case Verb::kVrfy:
      return &ServerSession::OnVrfy;
    case Verb::kHelp:
      return &ServerSession::OnHelp;
    case Verb::kEtrn:
      return &ServerSession::OnEtrn;
    case Verb::kNoop:
    case Verb::kUnknown:
      break;
  }
  // ParseCommand() rejects unknown verbs, so only NOOP gets here.
  return &ServerSession::OnNoop;
}

std::optional<Reply> ServerSession::OnEhlo(const Command& command) {
  ResetTransaction();  // RFC 5321 section 4.1.4
  helo_ = command.argument;
  esmtp_ = true;
  Reply reply;
  reply.code = 250;
  reply.lines = {options_.hostname,
                 "PIPELINING",
                 absl::StrCat("SIZE ", options_.max_message_size),
                 "8BITMIME",
                 "SMTPUTF8",
                 "ENHANCEDSTATUSCODES",
                 "CHUNKING",
                 "HELP"};
  if (queue_starter_ != nullptr) reply.lines.push_back("ETRN");
  return reply;
}

std::optional<Reply> ServerSession::OnHelo(const Command& command) {
  ResetTransaction();
  helo_ = command.argument;
  esmtp_ = false;
  return MakeReply(250, "", options_.hostname);
}

std::optional<Reply> ServerSession::OnMail(const Command& command) {
  if (helo_.empty()) return BadSequence("Send EHLO or HELO first");
  if (mail_given_) return BadSequence("Sender already specified");
  if (command.path.utf8 && !command.mail.smtputf8) {
    return Utf8Required("sender");
  }
  mail_given_ = true;
  sender_ = command.path;
  mail_ = command.mail;
  return Accepted("2.1.0", "Ok");
}

std::optional<Reply> ServerSession::OnRcpt(const Command& command) {
  if (!mail_given_) return BadSequence("Send MAIL first");
  if (stuffer_ != nullptr) {
    return BadSequence("RCPT is not allowed after BDAT");
  }
  if (command.path.utf8 && !mail_.smtputf8) return Utf8Required("recipient");
  for (const Recipient& recipient : recipients_) {
    // A repeated recipient gets one copy of the message.
    if (recipient.address == command.path.text) return Accepted("2.1.5", "Ok");
  }
  if (recipients_.size() >= static_cast<size_t>(options_.max_recipients)) {
    return MakeReply(452, "4.5.3", "Too many recipients");
  }
  if (std::optional<Reply> rejection = CheckRecipient(command)) {
    return rejection;
  }
  recipients_.push_back(
      Recipient{command.path.text, command.rcpt.orcpt, command.rcpt.notify});
  return Accepted("2.1.5", "Ok");
}

std::optional<Reply> ServerSession::CheckRecipient(
    const Command& command) const {
  const std::string address = absl::StrCat("<", command.path.text, ">");
  switch (policy_.Check(command.path)) {
    case RecipientPolicy::Verdict::kAccept:
      return std::nullopt;
    case RecipientPolicy::Verdict::kNoRoute:
      return MakeReply(550, "5.7.1",
                       absl::StrCat(address, ": Relay access denied"));
    case RecipientPolicy::Verdict::kUnknownRecipient:
      break;
  }
  return MakeReply(
      550, "5.1.1",
      absl::StrCat(address, ": Recipient address rejected: User unknown"));
}

std::optional<Reply> ServerSession::OnData(const Command&) {
  if (!mail_given_) return BadSequence("Send MAIL first");
  if (stuffer_ != nullptr) {
    return BadSequence("DATA cannot follow BDAT in one transaction");
  }
  if (recipients_.empty()) return BadSequence("No valid recipients");
  DataScannerOptions scanner_options;
  scanner_options.bare_line_ending = options_.bare_line_ending;
  scanner_options.max_size = options_.max_message_size;
  scanner_ = std::make_unique<DataScanner>(scanner_options);
  body_.Clear();
  state_ = State::kData;
  return MakeReply(354, "", "End data with <CR><LF>.<CR><LF>");
}

std::optional<Reply> ServerSession::OnBdat(const Command& command) {
  chunk_ = Chunk{command.chunk_size, command.chunk_size, command.last_chunk,
                 CheckChunkAllowed()};
  if (!chunk_.rejection.has_value() && stuffer_ == nullptr) {
    stuffer_ = std::make_unique<DotStuffer>(options_.bare_line_ending);
    body_.Clear();
    chunk_too_large_ = false;
  }
  state_ = State::kBdatChunk;
  return std::nullopt;  // FinishChunk() replies once the octets are read
}

std::optional<Reply> ServerSession::CheckChunkAllowed() const {
  if (!mail_given_) return BadSequence("Send MAIL first");
  if (recipients_.empty()) return BadSequence("No valid recipients");
  return std::nullopt;
}

std::optional<Reply> ServerSession::OnRset(const Command&) {
  ResetTransaction();
  return Accepted("2.0.0", "Ok");
}

std::optional<Reply> ServerSession::OnNoop(const Command&) {
  return Accepted("2.0.0", "Ok");
}

std::optional<Reply> ServerSession::OnQuit(const Command&) {
  ResetTransaction();
  state_ = State::kClosed;
  return MakeReply(221, "2.0.0",
                   absl::StrCat(options_.hostname, " closing connection"));
}

std::optional<Reply> ServerSession::OnVrfy(const Command&) {
  return MakeReply(
      252, "2.5.0",
      "Cannot VRFY user, but will accept message and attempt delivery");
}

std::optional<Reply> ServerSession::OnHelp(const Command&) {
  return MakeReply(
      214, "2.0.0",
      "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
}

std::optional<Reply> ServerSession::OnEtrn(const Command& command) {
  if (queue_starter_ == nullptr) {
    return MakeReply(502, "5.5.1", "ETRN is not available");
  }
  if (helo_.empty()) return BadSequence("Send EHLO or HELO first");
  if (mail_given_) {
    return BadSequence("ETRN is not allowed during a mail transaction");
  }
  return StartEtrnQueue(command.etrn, *queue_starter_, client_ip_);
}

}  // namespace ferry::smtp
