#include "engine/smtp/server_session.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ferry::smtp {
namespace {

// RFC 5321 section 4.5.3.1.4: a server must accept command lines of 512
// octets, CRLF included.
constexpr size_t kMinCommandLine = 512;
// Largest read offered while BDAT chunk octets are expected.
constexpr size_t kBdatReadSize = 64 * 1024;

Reply Ok(std::string_view enhanced, std::string_view text) {
  return MakeReply(250, std::string(enhanced), std::string(text));
}

Reply BadSequence(std::string_view text) {
  return MakeReply(503, "5.5.1", std::string(text));
}

Reply SizeExceeded() {
  return MakeReply(552, "5.3.4",
                   "Message size exceeds fixed maximum message size");
}

// A non-ASCII address without SMTPUTF8 gets 553 with 5.6.7, the enhanced
// code that RFC 6531 registers for it.
Reply Utf8Required(std::string_view role) {
  return MakeReply(553, "5.6.7",
                   absl::StrCat("Non-ASCII ", std::string(role),
                                " address requires SMTPUTF8"));
}

}  // namespace

// ---- InputBuffer ----

std::string_view ServerSession::InputBuffer::pending() const {
  return std::string_view(data_.get() + begin_, end_ - begin_);
}

void ServerSession::InputBuffer::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void ServerSession::InputBuffer::Prepend(std::string_view bytes) {
  if (bytes.empty()) return;
  if (bytes.size() <= begin_) {
    begin_ -= bytes.size();
    std::memcpy(data_.get() + begin_, bytes.data(), bytes.size());
    return;
  }
  const std::string_view old = pending();
  const size_t size = bytes.size() + old.size();
  auto data = std::make_unique<char[]>(size);
  std::memcpy(data.get(), bytes.data(), bytes.size());
  if (!old.empty()) {
    std::memcpy(data.get() + bytes.size(), old.data(), old.size());
  }
  data_ = std::move(data);
  capacity_ = size;
  begin_ = 0;
  end_ = size;
}

std::pair<char*, size_t> ServerSession::InputBuffer::Space(size_t limit) {
  const size_t size = end_ - begin_;
  if (size >= limit) return {nullptr, 0};
  if (begin_ > 0) {
    std::memmove(data_.get(), data_.get() + begin_, size);
    begin_ = 0;
    end_ = size;
  }
  if (capacity_ < limit) {
    auto data = std::make_unique<char[]>(limit);
    if (size > 0) std::memcpy(data.get(), data_.get(), size);
    data_ = std::move(data);
    capacity_ = limit;
  }
  return {data_.get() + end_, limit - size};
}

// ---- Construction and I/O surface ----

ServerSession::ServerSession(const ServerSessionOptions& options,
                             const RecipientPolicy& policy,
                             std::string client_ip)
    : options_(options),
      policy_(policy),
      client_ip_(std::move(client_ip)),
      max_command_line_(std::max(options.max_command_line, kMinCommandLine)) {
  // RFC 2034 puts no enhanced status code in the greeting, in the EHLO and
  // HELO replies, or in 3xx replies such as 354.
  Respond(MakeReply(220, "", absl::StrCat(options_.hostname, " ESMTP ferry")),
          false);
}

std::string ServerSession::TakeOutput() { return std::exchange(output_, {}); }

std::pair<char*, size_t> ServerSession::ReadBuffer() {
  switch (state_) {
    case State::kClosed:
      return {nullptr, 0};
    case State::kData:
      return body_.TailSpace();
    default:
      return input_.Space(ReadLimit());
  }
}

size_t ServerSession::ReadLimit() const {
  if (state_ != State::kBdatChunk) return max_command_line_;
  const uint64_t chunk_read =
      std::min<uint64_t>(chunk_.remaining, kBdatReadSize);
  return std::max<size_t>(max_command_line_, chunk_read);
}

void ServerSession::Commit(size_t n) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kData) {
    body_.Commit(n);
  } else {
    input_.Commit(n);
  }
  ProcessInput();
}

ServerSession::Phase ServerSession::phase() const {
  const bool data = state_ == State::kData || state_ == State::kBdatChunk;
  return data ? Phase::kData : Phase::kCommand;
}

void ServerSession::TimedOut() {
  if (state_ == State::kClosed) return;
  Close(
      MakeReply(421, "4.4.2",
                absl::StrCat(options_.hostname,
                             " Error: timeout exceeded, closing connection")));
}

void ServerSession::OutOfMemory() {
  if (state_ == State::kClosed) return;
  ResetTransaction();
  body_.Clear();
  Close(MakeReply(421, "4.3.2",
                  absl::StrCat(options_.hostname,
                               " Error: too much mail in progress, try again "
                               "later")));
}

void ServerSession::ShuttingDown() {
  shutting_down_ = true;
  MaybeCloseForShutdown();
}

void ServerSession::MaybeCloseForShutdown() {
  if (!shutting_down_ || state_ == State::kClosed) return;
  if (TransactionInProgress()) return;
  Close(MakeReply(421, "4.3.2",
                  absl::StrCat(options_.hostname,
                               " Service shutting down, closing connection")));
}

bool ServerSession::TransactionInProgress() const {
  return mail_given_ || state_ == State::kData || state_ == State::kBdatChunk ||
         state_ == State::kAwaitMessageAnswer;
}

void ServerSession::Respond(const Reply& reply, bool command_error) {
  output_ += reply.Format();
  if (command_error && reply.permanent() && ++errors_ > options_.max_errors) {
    Close(MakeReply(421, "4.7.0",
                    absl::StrCat(options_.hostname,
                                 " Too many errors, closing connection")));
  }
}

void ServerSession::Close(const Reply& reply) {
  output_ += reply.Format();
  state_ = State::kClosed;
}

// ---- Input handlers, one per state ----

void ServerSession::ProcessInput() {
  while (true) {
    bool progress = false;
    switch (state_) {
      case State::kCommand:
        progress = HandleCommandInput();
        break;
      case State::kDiscardLine:
        progress = HandleDiscardInput();
        break;
      case State::kData:
        progress = HandleDataInput();
        break;
      case State::kBdatChunk:
        progress = HandleBdatInput();
        break;
      case State::kAwaitMessageAnswer:
      case State::kClosed:
        return;
    }
    if (!progress) return;
    MaybeCloseForShutdown();
  }
}

bool ServerSession::HandleCommandInput() {
  const std::string_view pending = input_.pending();
  const size_t lf = pending.find('\n');
  if (lf == std::string_view::npos) {
    if (pending.size() < max_command_line_) return false;
    // The line is too long already. Reject it now and drop the rest as it
    // arrives, so that the buffer never grows past the limit.
    discarded_ = pending.size();
    input_.Consume(pending.size());
    state_ = State::kDiscardLine;
    Respond(MakeReply(500, "5.5.2", "Line too long"), true);
    return true;
  }
  // Consume() moves offsets only, so `line` stays valid.
  const std::string_view line = pending.substr(0, lf + 1);
  input_.Consume(lf + 1);
  ExecuteLine(line);
  return true;
}

bool ServerSession::HandleDiscardInput() {
  const std::string_view pending = input_.pending();
  const size_t lf = pending.find('\n');
  if (lf != std::string_view::npos) {
    input_.Consume(lf + 1);
    discarded_ = 0;
    state_ = State::kCommand;
    return true;
  }
  discarded_ += pending.size();
  input_.Consume(pending.size());
  // No client sends a command line this long: stop reading it.
  if (discarded_ > options_.max_message_size) {
    Close(MakeReply(
        421, "4.7.0",
        absl::StrCat(options_.hostname, " Line too long, closing connection")));
    return true;
  }
  return false;
}

bool ServerSession::HandleDataInput() {
  // Octets that arrived in the command buffer after the DATA line.
  const std::string_view pending = input_.pending();
  if (!pending.empty()) {
    body_.Append(pending);
    input_.Consume(pending.size());
  }
  std::string rest;
  if (!scanner_->Scan(&body_, &rest)) return false;
  input_.Prepend(rest);
  FinishData();
  return true;
}

bool ServerSession::HandleBdatInput() {
  if (chunk_.remaining > 0) {
    const std::string_view pending = input_.pending();
    if (pending.empty()) return false;
    const size_t n = std::min<uint64_t>(pending.size(), chunk_.remaining);
    // The octets are always consumed, even for a rejected chunk, so that
    // they are never read as commands (RFC 3030).
    if (!chunk_.rejection.has_value() && !chunk_too_large_) {
      stuffer_->Append(pending.substr(0, n), &body_);
      if (stuffer_->size() > options_.max_message_size) {
        chunk_too_large_ = true;
        body_.Clear();
      }
    }
    input_.Consume(n);
    chunk_.remaining -= n;
  }
  if (chunk_.remaining == 0) FinishChunk();
  return true;
}

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
  return Ok("2.1.0", "Ok");
}

std::optional<Reply> ServerSession::OnRcpt(const Command& command) {
  if (!mail_given_) return BadSequence("Send MAIL first");
  if (stuffer_ != nullptr) {
    return BadSequence("RCPT is not allowed after BDAT");
  }
  if (command.path.utf8 && !mail_.smtputf8) return Utf8Required("recipient");
  for (const Recipient& recipient : recipients_) {
    // A repeated recipient gets one copy of the message.
    if (recipient.address == command.path.text) return Ok("2.1.5", "Ok");
  }
  if (recipients_.size() >= static_cast<size_t>(options_.max_recipients)) {
    return MakeReply(452, "4.5.3", "Too many recipients");
  }
  if (std::optional<Reply> rejection = CheckRecipient(command)) {
    return rejection;
  }
  recipients_.push_back(
      Recipient{command.path.text, command.rcpt.orcpt, command.rcpt.notify});
  return Ok("2.1.5", "Ok");
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
  return Ok("2.0.0", "Ok");
}

std::optional<Reply> ServerSession::OnNoop(const Command&) {
  return Ok("2.0.0", "Ok");
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

// ---- End of content ----

void ServerSession::FinishData() {
  const std::optional<Rejection> rejection =
      CheckContent(scanner_->bare_line_ending_rejected(), scanner_->too_large(),
                   scanner_->received_count());
  const bool has_8bit = scanner_->has_8bit();
  const uint64_t size = scanner_->size();
  scanner_.reset();
  state_ = State::kCommand;
  if (rejection.has_value()) {
    RejectContent(*rejection);
    return;
  }
  CompleteMessage(has_8bit, size);
}

void ServerSession::FinishChunk() {
  state_ = State::kCommand;
  if (chunk_.rejection.has_value()) {
    Respond(*chunk_.rejection, true);
    return;
  }
  if (chunk_too_large_) {
    // The rest of the transaction is void, and later BDAT chunks get 503
    // (RFC 3030).
    RejectContent(Rejection{ContentRejection::kTooLarge, SizeExceeded()});
    return;
  }
  if (!chunk_.last) {
    Respond(Ok("2.0.0", absl::StrCat("Ok: ", chunk_.size, " octets received")),
            false);
    return;
  }
  stuffer_->Finish(&body_);
  const std::optional<Rejection> rejection = CheckContent(
      stuffer_->bare_line_ending_rejected(),
      stuffer_->size() > options_.max_message_size, stuffer_->received_count());
  if (rejection.has_value()) {
    RejectContent(*rejection);
    return;
  }
  CompleteMessage(stuffer_->has_8bit(), stuffer_->size());
}

std::optional<ServerSession::Rejection> ServerSession::CheckContent(
    bool bare_line_ending, bool too_large, int received_count) const {
  if (too_large) return Rejection{ContentRejection::kTooLarge, SizeExceeded()};
  if (bare_line_ending) {
    return Rejection{
        ContentRejection::kBareLineEnding,
        MakeReply(550, "5.6.0",
                  "Message contains a bare CR or LF; lines must end in "
                  "CRLF")};
  }
  if (received_count >= options_.max_received_headers) {
    return Rejection{
        ContentRejection::kMailLoop,
        MakeReply(554, "5.4.6",
                  absl::StrCat("Too many Received header fields (",
                               received_count, "): mail loop detected"))};
  }
  return std::nullopt;
}

void ServerSession::RejectContent(const Rejection& rejection) {
  ResetTransaction();
  if (on_content_rejected_) on_content_rejected_(rejection.reason);
  Respond(rejection.reply, false);
}

void ServerSession::CompleteMessage(bool has_8bit, uint64_t size) {
  Transaction transaction;
  transaction.client_ip = client_ip_;
  transaction.helo = helo_;
  transaction.esmtp = esmtp_;
  transaction.sender = sender_.null ? "" : sender_.text;
  transaction.recipients = std::move(recipients_);
  transaction.body_8bitmime = mail_.body_8bitmime || has_8bit;
  transaction.smtputf8 = mail_.smtputf8;
  transaction.envid = mail_.envid;
  transaction.ret = mail_.ret;
  transaction.body = std::move(body_);
  transaction.size = size;
  message_ = std::move(transaction);
  body_ = MessageBody();
  ResetTransaction();
  state_ = State::kAwaitMessageAnswer;
}

Transaction ServerSession::TakeMessage() {
  Transaction transaction = std::move(*message_);
  message_.reset();
  return transaction;
}

void ServerSession::MessageStored(std::string_view queue_id) {
  AnswerMessage(
      Ok("2.0.0", absl::StrCat("Ok: queued as ", std::string(queue_id))));
}

void ServerSession::MessageFailed(const absl::Status& status) {
  if (absl::IsResourceExhausted(status)) {
    AnswerMessage(MakeReply(452, "4.3.1", "Insufficient system storage"));
  } else {
    AnswerMessage(MakeReply(451, "4.3.0", "Local error in processing"));
  }
}

void ServerSession::AnswerMessage(const Reply& reply) {
  if (state_ != State::kAwaitMessageAnswer) return;
  message_.reset();
  state_ = State::kCommand;
  Respond(reply, false);
  MaybeCloseForShutdown();
  ProcessInput();
}

void ServerSession::ResetTransaction() {
  mail_given_ = false;
  sender_ = Path();
  mail_ = MailParameters();
  recipients_.clear();
  body_.Clear();
  scanner_.reset();
  stuffer_.reset();
  chunk_too_large_ = false;
}

}  // namespace ferry::smtp
