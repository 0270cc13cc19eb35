#include "engine/smtp/client_session.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ferry::smtp {
namespace {

// Reply codes for replies the session makes up. 451 is RFC 5321's "local
// error in processing". 554 and 552 are its generic and size failures.
constexpr int kLocalTransient = 451;
constexpr int kLocalPermanent = 554;
constexpr int kLocalTooLarge = 552;

Reply LocalReply(int code, std::string enhanced, std::string text) {
  return MakeReply(code, std::move(enhanced), std::move(text));
}

absl::string_view StateName(ClientState state) {
  const std::string_view name = ClientStateName(state);
  return absl::string_view(name.data(), name.size());
}

}  // namespace

std::string_view ClientStateName(ClientState state) {
  switch (state) {
    case ClientState::kGreeting:
      return "greeting";
    case ClientState::kEhlo:
      return "ehlo";
    case ClientState::kHelo:
      return "helo";
    case ClientState::kReady:
      return "ready";
    case ClientState::kMail:
      return "mail";
    case ClientState::kRcpt:
      return "rcpt";
    case ClientState::kData:
      return "data";
    case ClientState::kBody:
      return "body";
    case ClientState::kDot:
      return "dot";
    case ClientState::kRset:
      return "rset";
    case ClientState::kQuit:
      return "quit";
    case ClientState::kClosed:
      return "closed";
  }
  return "unknown";
}

ClientSession::ClientSession(ClientOptions options)
    : options_(std::move(options)), parser_(options_.reply_limits) {}

void ClientSession::Receive(std::string_view bytes) {
  if (closed()) return;
  const absl::Status status = parser_.Feed(bytes);
  while (!closed()) {
    std::optional<Reply> reply = parser_.Next();
    if (!reply.has_value()) break;
    Dispatch(*reply);
  }
  if (!status.ok() && !closed()) ProtocolError(status);
}

std::string ClientSession::TakeOutput() { return std::exchange(output_, {}); }

ClientSession::Waiting ClientSession::waiting_for() const {
  switch (state_) {
    case ClientState::kGreeting:
      return Waiting::kGreeting;
    case ClientState::kData:
      return Waiting::kDataInitiation;
    case ClientState::kDot:
      return Waiting::kDataTermination;
    case ClientState::kEhlo:
    case ClientState::kHelo:
    case ClientState::kMail:
    case ClientState::kRcpt:
    case ClientState::kRset:
    case ClientState::kQuit:
      return Waiting::kCommandReply;
    case ClientState::kReady:
    case ClientState::kBody:
    case ClientState::kClosed:
      break;
  }
  return Waiting::kNothing;
}

bool ClientSession::ready() const {
  return state_ == ClientState::kReady && !has_result_;
}

void ClientSession::Dispatch(const Reply& reply) {
  if (state_ == ClientState::kQuit) return OnQuit(reply);
  if (reply.code == 421) {
    // The next hop is closing the connection (RFC 5321 section 3.8).
    CloseNow(absl::UnavailableError(absl::StrCat(
                 "next hop closed the session: ", reply.Summary())),
             reply, /*local=*/false);
    return;
  }
  if (reply.code / 100 == 3 && state_ != ClientState::kData) {
    // Only DATA may get 3xx; anywhere else it would read as success.
    return UnexpectedReply(reply);
  }
  switch (state_) {
    case ClientState::kGreeting:
      return OnGreeting(reply);
    case ClientState::kEhlo:
      return OnEhlo(reply);
    case ClientState::kHelo:
      return OnHelo(reply);
    case ClientState::kMail:
      return OnMail(reply);
    case ClientState::kRcpt:
      return OnRcpt(reply);
    case ClientState::kData:
      return OnData(reply);
    case ClientState::kDot:
      return OnDot(reply);
    case ClientState::kRset:
      return OnRset(reply);
    case ClientState::kReady:
    case ClientState::kBody:
    case ClientState::kQuit:
    case ClientState::kClosed:
      return UnexpectedReply(reply);
  }
}

void ClientSession::UnexpectedReply(const Reply& reply) {
  ProtocolError(absl::InvalidArgumentError(
      absl::StrCat("unexpected reply from next hop in state ",
                   StateName(state_), ": ", reply.Summary())));
}

void ClientSession::OnGreeting(const Reply& reply) {
  if (reply.code != 220) {
    SendQuit(absl::UnavailableError(absl::StrCat(
                 "next hop rejected the session: ", reply.Summary())),
             reply);
    return;
  }
  absl::StrAppend(&output_, "EHLO ", options_.helo_name, "\r\n");
  state_ = ClientState::kEhlo;
}

void ClientSession::OnEhlo(const Reply& reply) {
  if (reply.code / 100 == 2) {
    ParseCapabilities(reply);
    state_ = ClientState::kReady;
  } else if (reply.permanent()) {
    // An SMTP server that does not know EHLO replies with 5xx (RFC 5321
    // section 3.2): try HELO, without extensions.
    absl::StrAppend(&output_, "HELO ", options_.helo_name, "\r\n");
    state_ = ClientState::kHelo;
  } else {
    SendQuit(absl::UnavailableError(
                 absl::StrCat("next hop rejected EHLO: ", reply.Summary())),
             reply);
  }
}

void ClientSession::OnHelo(const Reply& reply) {
  if (reply.code / 100 == 2) {
    state_ = ClientState::kReady;
    return;
  }
  SendQuit(absl::UnavailableError(
               absl::StrCat("next hop rejected HELO: ", reply.Summary())),
           reply);
}

void ClientSession::ParseCapabilities(const Reply& reply) {
  Capabilities caps;
  caps.esmtp = true;
  // The first line is the greeting, and each later line names one
  // extension.
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::vector<absl::string_view> words =
        absl::StrSplit(reply.lines[i], ' ', absl::SkipEmpty());
    if (words.empty()) continue;
    const std::string keyword = absl::AsciiStrToUpper(words[0]);
    if (keyword == "PIPELINING") caps.pipelining = true;
    if (keyword == "8BITMIME") caps.eight_bit_mime = true;
    if (keyword == "SMTPUTF8") caps.smtputf8 = true;
    if (keyword == "CHUNKING") caps.chunking = true;
    if (keyword == "ENHANCEDSTATUSCODES") caps.enhanced_status_codes = true;
    if (keyword == "DSN") caps.dsn = true;
    if (keyword == "STARTTLS") caps.starttls = true;
    if (keyword == "SIZE") {
      caps.size = true;
      // A missing or invalid argument states no fixed limit.
      if (words.size() < 2 || !absl::SimpleAtoi(words[1], &caps.max_size)) {
        caps.max_size = 0;
      }
    }
  }
  capabilities_ = caps;
}

void ClientSession::StartMessage(const OutboundMessage& message) {
  message_ = message;
  recipient_states_.assign(message.recipients.size(), RecipientState::kWaiting);
  result_ = MessageResult();
  result_.recipients.resize(message.recipients.size());
  rcpt_replies_ = 0;
  mail_accepted_ = false;
  in_transaction_ = true;
  if (RejectUnsendable(message)) return;

  SendMail();
  if (capabilities_.pipelining) {
    // RFC 2920 lets DATA end the group: one round trip to the 354. A
    // server with no recipient accepted rejects it (see OnData).
    for (size_t i = 0; i < message_.recipients.size(); ++i) SendRcpt(i);
    output_ += "DATA\r\n";
  }
  state_ = ClientState::kMail;
}

bool ClientSession::RejectUnsendable(const OutboundMessage& message) {
  Reply failure;
  if (message.needs_8bitmime && !capabilities_.eight_bit_mime) {
    // No conversion to 7 bit: the content is relayed as it arrived or not.
    failure = LocalReply(kLocalPermanent, "5.6.3",
                         "message has 8-bit content but the next hop does "
                         "not support 8BITMIME");
  } else if (message.needs_smtputf8 && !capabilities_.smtputf8) {
    failure = LocalReply(kLocalPermanent, "5.6.7",
                         "message needs SMTPUTF8 but the next hop does not "
                         "support it");
  } else if (capabilities_.size && capabilities_.max_size > 0 &&
             message.size > capabilities_.max_size) {
    failure =
        LocalReply(kLocalTooLarge, "5.3.4",
                   absl::StrCat("message size ", message.size,
                                " exceeds the next hop's fixed maximum of ",
                                capabilities_.max_size));
  } else {
    return false;
  }
  FailWaiting(failure, /*local=*/true);
  FinishTransaction(/*connection_failed=*/false);
  return true;
}

void ClientSession::SendMail() {
  absl::StrAppend(&output_, "MAIL FROM:<", message_.sender, ">");
  if (capabilities_.size) absl::StrAppend(&output_, " SIZE=", message_.size);
  if (message_.needs_8bitmime) absl::StrAppend(&output_, " BODY=8BITMIME");
  if (message_.needs_smtputf8) absl::StrAppend(&output_, " SMTPUTF8");
  if (capabilities_.dsn && !message_.ret.empty()) {
    absl::StrAppend(&output_, " RET=", message_.ret);
  }
  if (capabilities_.dsn && !message_.envid.empty()) {
    absl::StrAppend(&output_, " ENVID=", message_.envid);
  }
  output_ += "\r\n";
}

void ClientSession::SendRcpt(size_t index) {
  absl::StrAppend(&output_, "RCPT TO:<", message_.recipients[index], ">");
  if (capabilities_.dsn && index < message_.dsn.size()) {
    const DsnRecipientParams& dsn = message_.dsn[index];
    if (!dsn.notify.empty()) absl::StrAppend(&output_, " NOTIFY=", dsn.notify);
    if (!dsn.orcpt.empty()) absl::StrAppend(&output_, " ORCPT=", dsn.orcpt);
  }
  output_ += "\r\n";
}

void ClientSession::OnMail(const Reply& reply) {
  mail_accepted_ = reply.code / 100 == 2;
  if (!mail_accepted_) FailWaiting(reply, /*local=*/false);
  if (capabilities_.pipelining) {
    // The RCPT replies follow. With MAIL rejected they change nothing.
    state_ = ClientState::kRcpt;
  } else if (mail_accepted_) {
    SendRcpt(0);
    state_ = ClientState::kRcpt;
  } else {
    FinishTransaction(/*connection_failed=*/false);
    state_ = ClientState::kReady;
  }
}

void ClientSession::OnRcpt(const Reply& reply) {
  const size_t index = rcpt_replies_++;
  if (mail_accepted_) {
    if (reply.code / 100 == 2) {
      recipient_states_[index] = RecipientState::kAccepted;
    } else {
      SetFinal(index, reply, /*local=*/false);
    }
  }
  if (rcpt_replies_ < message_.recipients.size()) {
    if (!capabilities_.pipelining) SendRcpt(rcpt_replies_);
    return;
  }
  if (capabilities_.pipelining) {
    state_ = ClientState::kData;  // DATA went with the RCPTs
    return;
  }
  AfterRecipients();
}

void ClientSession::AfterRecipients() {
  if (CountAccepted() > 0) {
    output_ += "DATA\r\n";
    state_ = ClientState::kData;
    return;
  }
  // No recipient accepted, so no body is sent. The result waits for the
  // RSET reply, so that the session is ready again when it is taken.
  if (mail_accepted_) {
    output_ += "RSET\r\n";
    state_ = ClientState::kRset;
  } else {
    FinishTransaction(/*connection_failed=*/false);
    state_ = ClientState::kReady;
  }
}

void ClientSession::OnData(const Reply& reply) {
  if (reply.code == 354 && CountAccepted() == 0) {
    // A pipelined DATA that the server accepted although it accepted no
    // recipient: end the empty message at once (RFC 2920 section 3.1).
    // Every recipient already has its RCPT reply as its result.
    output_ += ".\r\n";
    state_ = ClientState::kDot;
    return;
  }
  if (reply.code == 354) {
    state_ = ClientState::kBody;
    return;
  }
  if (reply.code / 100 != 4 && reply.code / 100 != 5) {
    return UnexpectedReply(reply);
  }
  FailWaiting(reply, /*local=*/false);
  if (!mail_accepted_) {
    // A pipelined DATA after a rejected MAIL: no transaction to reset.
    FinishTransaction(/*connection_failed=*/false);
    state_ = ClientState::kReady;
    return;
  }
  output_ += "RSET\r\n";
  state_ = ClientState::kRset;
}

void ClientSession::BodySent() {
  output_ += ".\r\n";
  state_ = ClientState::kDot;
}

void ClientSession::OnDot(const Reply& reply) {
  // A completed transaction needs no RSET, whatever the reply.
  FailWaiting(reply, /*local=*/false);
  FinishTransaction(/*connection_failed=*/false);
  state_ = ClientState::kReady;
}

void ClientSession::OnRset(const Reply& reply) {
  FinishTransaction(/*connection_failed=*/false);
  if (reply.code / 100 == 2) {
    state_ = ClientState::kReady;
    return;
  }
  SendQuit(absl::UnavailableError(
               absl::StrCat("next hop rejected RSET: ", reply.Summary())),
           reply);
}

void ClientSession::OnQuit(const Reply&) { state_ = ClientState::kClosed; }

MessageResult ClientSession::TakeResult() {
  has_result_ = false;
  return std::exchange(result_, {});
}

void ClientSession::Quit() {
  if (state_ == ClientState::kReady) {
    SendQuit(absl::OkStatus(), Reply());
    return;
  }
  if (closed() || state_ == ClientState::kQuit) return;
  CloseNow(absl::OkStatus(),
           LocalReply(kLocalTransient, "4.4.2",
                      "delivery stopped before the next hop replied"),
           /*local=*/true);
}

void ClientSession::ConnectionLost(std::string_view reason) {
  if (closed()) return;
  if (state_ == ClientState::kQuit) {
    // The next hop may close without replying to QUIT.
    state_ = ClientState::kClosed;
    return;
  }
  CloseNow(
      absl::UnavailableError(
          absl::StrCat("lost connection with next hop: ", std::string(reason))),
      LocalReply(kLocalTransient, "4.4.2",
                 absl::StrCat("lost connection with next hop in state ",
                              StateName(state_), ": ", std::string(reason))),
      /*local=*/true);
}

void ClientSession::SetFinal(size_t index, const Reply& reply, bool local) {
  result_.recipients[index] = RecipientResult{reply, local};
  recipient_states_[index] = RecipientState::kFinal;
}

void ClientSession::FailWaiting(const Reply& reply, bool local) {
  for (size_t i = 0; i < recipient_states_.size(); ++i) {
    if (recipient_states_[i] != RecipientState::kFinal) {
      SetFinal(i, reply, local);
    }
  }
}

void ClientSession::FinishTransaction(bool connection_failed) {
  result_.connection_failed = connection_failed;
  has_result_ = true;
  in_transaction_ = false;
}

void ClientSession::SetError(absl::Status error, const Reply& reply) {
  if (!error_.ok() || error.ok()) return;
  error_ = std::move(error);
  failure_reply_ = reply;
}

void ClientSession::SendQuit(absl::Status error, const Reply& reply) {
  SetError(std::move(error), reply);
  output_ += "QUIT\r\n";
  state_ = ClientState::kQuit;
}

void ClientSession::CloseNow(absl::Status error, const Reply& in_flight,
                             bool local) {
  SetError(std::move(error), in_flight);
  if (in_transaction_) {
    FailWaiting(in_flight, local);
    FinishTransaction(/*connection_failed=*/true);
  }
  state_ = ClientState::kClosed;
}

void ClientSession::ProtocolError(absl::Status error) {
  const std::string text =
      absl::StrCat("protocol error with next hop: ", error.message());
  CloseNow(std::move(error), LocalReply(kLocalTransient, "4.5.0", text),
           /*local=*/true);
}

size_t ClientSession::CountAccepted() const {
  size_t accepted = 0;
  for (RecipientState state : recipient_states_) {
    if (state == RecipientState::kAccepted) ++accepted;
  }
  return accepted;
}

}  // namespace ferry::smtp
