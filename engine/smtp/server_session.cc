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

Reply SizeExceeded() {
  return MakeReply(552, "5.3.4",
                   "Message size exceeds fixed maximum message size");
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
