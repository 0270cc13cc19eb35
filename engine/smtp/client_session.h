// ClientSession: the client side of one SMTP connection to a next hop
// (RFC 5321), as a state machine without I/O. The caller feeds it the bytes
// the next hop sends, writes out the commands it produces, and sends the
// message body itself (from the spool) when asked. The session reads the
// greeting, sends EHLO (HELO when EHLO gets 5xx), then runs one
// transaction per StartMessage(), several per connection, and QUIT.
//
// Every recipient of a message gets exactly one result: the next hop's
// reply, or a reply the session made up (local) when the connection ended
// first or the message cannot be sent to this next hop. Only a 2xx result
// means delivered; 4xx means defer, 5xx means bounce.
//
// One session per connection; owned by the delivery code of one core; not
// thread-safe.
#ifndef FERRY_ENGINE_SMTP_CLIENT_SESSION_H_
#define FERRY_ENGINE_SMTP_CLIENT_SESSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/smtp/reply.h"
#include "engine/smtp/reply_parser.h"

namespace ferry::smtp {

// SMTP service extensions the next hop listed in its EHLO reply.
struct Capabilities {
  bool esmtp = false;                  // EHLO was accepted
  bool pipelining = false;             // RFC 2920
  bool size = false;                   // RFC 1870
  uint64_t max_size = 0;               // SIZE argument; 0: no fixed limit
  bool eight_bit_mime = false;         // RFC 6152
  bool smtputf8 = false;               // RFC 6531
  bool chunking = false;               // RFC 3030
  bool enhanced_status_codes = false;  // RFC 2034
  bool dsn = false;                    // RFC 3461
  bool starttls = false;               // RFC 3207
};

struct ClientOptions {
  std::string helo_name;  // our host name, sent in EHLO and HELO
  ReplyParserOptions reply_limits;
};

// DSN parameters of one recipient (RFC 3461), in xtext as they arrived.
// Empty values are not sent.
struct DsnRecipientParams {
  std::string notify;  // "NEVER" or a list of SUCCESS, FAILURE, DELAY
  std::string orcpt;   // "rfc822;alice@example.com"
};

struct OutboundMessage {
  std::string sender;                   // reverse-path without <>; "" = null
  std::vector<std::string> recipients;  // forward-paths without <>
  uint64_t size = 0;  // content size in octets, unstuffed, for SIZE=
  bool needs_8bitmime = false;
  bool needs_smtputf8 = false;
  // DSN parameters, sent only when the next hop offers DSN.
  std::string envid;                    // xtext; empty: not sent
  std::string ret;                      // "FULL" or "HDRS"; empty: not sent
  std::vector<DsnRecipientParams> dsn;  // empty, or one per recipient
};

struct RecipientResult {
  Reply reply;
  bool local = false;  // made up by the session, not sent by the next hop
};

struct MessageResult {
  std::vector<RecipientResult> recipients;  // in OutboundMessage order
  bool connection_failed = false;  // the connection ended mid-transaction
};

enum class ClientState {
  kGreeting,  // connected, waiting for the 220 greeting
  kEhlo,      // EHLO sent
  kHelo,      // HELO sent after EHLO was rejected
  kReady,     // idle between transactions
  kMail,      // MAIL sent (with PIPELINING, the RCPTs and DATA too)
  kRcpt,      // waiting for RCPT replies
  kData,      // DATA sent, waiting for its reply (354 to go on)
  kBody,      // 354 received: the caller sends the body
  kDot,       // end of data sent, waiting for the final reply
  kRset,      // RSET sent after a transaction without delivery
  kQuit,      // QUIT sent
  kClosed,    // the caller closes the socket
};

// Returns the state's name for logs, such as "rcpt".
std::string_view ClientStateName(ClientState state);

class ClientSession {
 public:
  explicit ClientSession(ClientOptions options);

  // Handles bytes received from the next hop. Replies that arrive when
  // none is expected, or that break the reply syntax, end the session with
  // a protocol error (see error()). Ignored once closed().
  void Receive(std::string_view bytes);

  // Returns the commands to send to the next hop, and forgets them.
  std::string TakeOutput();

  // What the next hop owes, which sets the read timeout (RFC 5321 section
  // 4.5.3.2 gives 5 minutes for the greeting and command replies, 2 for
  // the 354, and 10 for the reply to the end of data).
  enum class Waiting {
    kNothing,          // ready, sending the body, or closed
    kGreeting,         // the 220 greeting
    kCommandReply,     // the reply to EHLO, HELO, MAIL, RCPT, RSET or QUIT
    kDataInitiation,   // the 354 to DATA
    kDataTermination,  // the reply to the end of data
  };
  Waiting waiting_for() const;

  // True when the greeting and EHLO (or HELO) are done, no transaction is
  // running (a transaction ends with the reply to its end of data, or to
  // the RSET after it) and the last result has been taken.
  bool ready() const;

  // Starts a transaction for `message`. When the next hop lacks an
  // extension the message needs, or SIZE says it is too large, nothing is
  // sent: every recipient gets a local permanent failure at once
  // (5.6.3 for 8BITMIME, 5.6.7 for SMTPUTF8, 5.3.4 for size).
  // REQUIRES: ready(), and message.recipients is not empty.
  void StartMessage(const OutboundMessage& message);

  // True after 354: the caller now sends the stored transfer-form body and
  // then calls BodySent().
  bool wants_body() const { return state_ == ClientState::kBody; }

  // Queues the end-of-data line. REQUIRES: wants_body().
  void BodySent();

  bool has_result() const { return has_result_; }
  // Returns the result of the last transaction. REQUIRES: has_result().
  MessageResult TakeResult();

  // Sends QUIT. Called in the middle of a transaction (or of the
  // greeting), it closes at once instead, and the recipients still waiting
  // for a reply get a local 451 4.4.2.
  void Quit();
  bool closed() const { return state_ == ClientState::kClosed; }

  // Ends the session after a reset or timeout. Recipients still waiting
  // for a reply get a local 451 4.4.2 ("bad connection", which RFC 3463
  // also uses for time-outs), so the message stays queued: even after the
  // end of data was sent, only a 250 marks it delivered.
  void ConnectionLost(std::string_view reason);

  const Capabilities& capabilities() const { return capabilities_; }
  ClientState state() const { return state_; }

  // Why the session ended abnormally: a protocol error (invalid or
  // unexpected reply), a 421, a lost connection, or a rejected greeting,
  // EHLO/HELO or RSET. OK while the session is usable or after a normal
  // QUIT.
  const absl::Status& error() const { return error_; }

  // The reply behind error(): the next hop's (rejected greeting, EHLO,
  // HELO or RSET, or a 421), or a local 451 for a lost connection (4.4.2)
  // or a protocol error (4.5.0). Code 0 while error() is OK.
  const Reply& failure_reply() const { return failure_reply_; }

 private:
  // Progress of one recipient in the running transaction.
  enum class RecipientState { kWaiting, kAccepted, kFinal };

  void Dispatch(const Reply& reply);
  void OnGreeting(const Reply& reply);
  void OnEhlo(const Reply& reply);
  void OnHelo(const Reply& reply);
  void OnMail(const Reply& reply);
  void OnRcpt(const Reply& reply);
  void OnData(const Reply& reply);
  void OnDot(const Reply& reply);
  void OnRset(const Reply& reply);
  void OnQuit(const Reply& reply);
  void UnexpectedReply(const Reply& reply);

  void ParseCapabilities(const Reply& reply);
  bool RejectUnsendable(const OutboundMessage& message);
  void SendMail();
  void SendRcpt(size_t index);
  void AfterRecipients();
  void SetFinal(size_t index, const Reply& reply, bool local);
  // Gives `reply` to every recipient without a final reply.
  void FailWaiting(const Reply& reply, bool local);
  void FinishTransaction(bool connection_failed);
  // Records the first error only: later ones follow from it.
  void SetError(absl::Status error, const Reply& reply);
  void SendQuit(absl::Status error, const Reply& reply);
  void CloseNow(absl::Status error, const Reply& in_flight, bool local);
  void ProtocolError(absl::Status error);
  size_t CountAccepted() const;

  ClientOptions options_;
  ReplyParser parser_;
  ClientState state_ = ClientState::kGreeting;
  Capabilities capabilities_;
  std::string output_;
  absl::Status error_;
  Reply failure_reply_;

  // The running transaction.
  bool in_transaction_ = false;
  OutboundMessage message_;
  std::vector<RecipientState> recipient_states_;
  size_t rcpt_replies_ = 0;
  bool mail_accepted_ = false;
  MessageResult result_;
  bool has_result_ = false;
};

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_CLIENT_SESSION_H_
