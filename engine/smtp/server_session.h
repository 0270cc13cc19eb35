// ServerSession: the inbound SMTP state machine (RFC 5321 with PIPELINING,
// SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING and, when the
// engine gives it a QueueStarter, ETRN) for one client connection. It does no
// I/O: the caller receives bytes into ReadBuffer(), hands them over with
// Commit(), sends what TakeOutput() returns, and spools each finished message
// that TakeMessage() returns.
//
// Owned by the core that owns the connection, and not thread-safe. Memory
// per session is bounded: a command buffer of max_command_line octets, which
// grows to about 64 KiB once BDAT chunks or input pipelined after the end of
// data need it, plus the message body, which is cut at max_message_size
// (plus at most one read).
#ifndef FERRY_ENGINE_SMTP_SERVER_SESSION_H_
#define FERRY_ENGINE_SMTP_SERVER_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/smtp/address.h"
#include "engine/smtp/command.h"
#include "engine/smtp/data_scanner.h"
#include "engine/smtp/dot_stuffer.h"
#include "engine/smtp/etrn.h"
#include "engine/smtp/message_body.h"
#include "engine/smtp/reply.h"

namespace ferry::smtp {

struct ServerSessionOptions {
  std::string hostname;  // in the greeting, the EHLO reply and 421 replies
  // Advertised in the EHLO SIZE line. A larger MAIL SIZE= or message gets
  // 552 5.3.4. REQUIRES: > 0.
  uint64_t max_message_size = 10485760;
  int max_recipients = 100;  // accepted per transaction, then 452 4.5.3
  int max_commands = 10000;  // command lines per session, then 421, close
  // Rejected command lines (5xx replies) per session. One more gets its
  // reply, then 421 4.7.0, and the session closes.
  int max_errors = 20;
  // Longest command line in octets, CRLF included. RFC 5321 section
  // 4.5.3.1.4 sets 512 as the minimum, and smaller values are raised to it.
  // A longer line gets 500 5.5.2 and is discarded up to its LF. When it
  // goes on for more than max_message_size octets, the session sends
  // 421 4.7.0 and closes.
  size_t max_command_line = 2048;
  // A message with this many Received: fields or more is taken to be in a
  // mail loop and rejected with 554 5.4.6.
  int max_received_headers = 50;
  BareLineEnding bare_line_ending = BareLineEnding::kNormalize;
};

// Route check at RCPT time, implemented by the engine over its routing
// table. Called on the session's thread.
class RecipientPolicy {
 public:
  enum class Verdict {
    kAccept,
    kNoRoute,           // no route for the domain: 550 5.7.1 relay denied
    kUnknownRecipient,  // the route lists its recipients, and not this one
  };
  virtual ~RecipientPolicy() = default;
  // Returns the verdict for one recipient. The domain is empty for the
  // "<Postmaster>" forward-path.
  virtual Verdict Check(const Path& recipient) const = 0;
};

// The reason a session rejected a message after receiving its content.
enum class ContentRejection {
  kTooLarge,        // 552 5.3.4: over max_message_size
  kBareLineEnding,  // 550 5.6.0 under BareLineEnding::kReject
  kMailLoop,        // 554 5.4.6: max_received_headers reached
};

struct Recipient {
  std::string address;  // Path::text, exactly as the client sent it
  std::string orcpt;    // ORCPT= value as sent, or empty
  std::string notify;   // NOTIFY= value in upper case, or empty
};

// One accepted message, ready to spool.
struct Transaction {
  std::string client_ip;  // as given to the session
  std::string helo;       // EHLO or HELO argument
  bool esmtp = false;     // the client greeted with EHLO
  std::string sender;     // Path::text, or empty for the null sender "<>"
  std::vector<Recipient> recipients;
  // BODY=8BITMIME was given, or the content has octets >= 0x80. Clients
  // often send 8-bit content without declaring it, and it is accepted.
  bool body_8bitmime = false;
  bool smtputf8 = false;  // SMTPUTF8 was given
  std::string envid;      // ENVID= as sent, or empty
  std::string ret;        // "FULL", "HDRS" or empty
  MessageBody body;       // transfer form: CRLF lines, dot-stuffed
  uint64_t size = 0;      // content size in octets, unstuffed
};

class ServerSession {
 public:
  // Which RFC 5321 section 4.5.3.2 timeout applies to the next read.
  enum class Phase { kCommand, kData };

  // Queues the 220 greeting. `options` is copied; `policy` must outlive
  // the session.
  ServerSession(const ServerSessionOptions& options,
                const RecipientPolicy& policy, std::string client_ip);

  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Offers ETRN (RFC 1985) in the EHLO reply and answers it through
  // `starter`, which must outlive the session. Without a starter, ETRN
  // gets 502 5.5.1. Call before the client's EHLO.
  void SetQueueStarter(QueueStarter* starter) { queue_starter_ = starter; }

  // Returns the replies queued since the last call, in wire form, and
  // clears them.
  std::string TakeOutput();

  // Returns where the next recv() should write and how many octets fit.
  // While DATA content is read, this is tail space in the message body, so
  // content is received in place; otherwise it is the command buffer. The
  // span is valid until the next call to any other method. A size of 0
  // means "do not read now": the session is closing, or it waits for the
  // answer to a finished message and its buffer is full.
  std::pair<char*, size_t> ReadBuffer();

  // Processes `n` octets that arrived in the last ReadBuffer() span.
  // REQUIRES: n <= the size ReadBuffer() returned.
  void Commit(size_t n);

  // True when a finished message waits for TakeMessage(). From then on the
  // session processes no input until MessageStored() or MessageFailed();
  // input that arrives meanwhile is buffered and processed after the
  // reply, in order.
  bool has_message() const { return message_.has_value(); }

  // Returns the finished message. REQUIRES: has_message().
  Transaction TakeMessage();

  // Answers the finished message with "250 2.0.0 Ok: queued as <id>", once
  // the spool has made it durable. REQUIRES: a message was finished and
  // not yet answered.
  void MessageStored(std::string_view queue_id);

  // Answers the finished message with 452 4.3.1 when `status` is
  // ResourceExhausted (spool full), else 451 4.3.0. Same REQUIRES.
  void MessageFailed(const absl::Status& status);

  // True after QUIT or a 421: send the output, then close the connection.
  bool closing() const { return state_ == State::kClosed; }

  Phase phase() const;

  // Sets a function that the session calls (from Commit()) once for each
  // message whose content it rejects, with the reason. Used for metrics.
  void set_on_content_rejected(std::function<void(ContentRejection)> f) {
    on_content_rejected_ = std::move(f);
  }

  // Returns the octets of message content held for the transaction in
  // progress (DATA or BDAT content received so far).
  uint64_t buffered_content_size() const { return body_.size(); }

  // Queues 421 4.3.2 and closes, because the worker has too much message
  // content in memory. The transaction in progress is dropped.
  void OutOfMemory();

  // Queues 421 4.4.2 and closes, for a read that timed out.
  void TimedOut();

  // Queues 421 4.3.2 and closes, now if no transaction is in progress, or
  // else as soon as the current transaction ends (its message is answered,
  // or it is reset).
  void ShuttingDown();

 private:
  // What the next input octets are.
  enum class State {
    kCommand,             // command lines
    kDiscardLine,         // the rest of an overlong command line, up to LF
    kData,                // DATA content, received into body_ until CRLF.CRLF
    kBdatChunk,           // the octets of a BDAT chunk
    kAwaitMessageAnswer,  // input buffered until MessageStored/Failed
    kClosed,              // input ignored
  };

  // A BDAT chunk being read, and the reply due after its last octet when
  // the chunk is rejected.
  struct Chunk {
    uint64_t size = 0;
    uint64_t remaining = 0;
    bool last = false;
    std::optional<Reply> rejection;
  };

  // Octets received but not processed, in a buffer that grows only to the
  // largest read size the session offers.
  class InputBuffer {
   public:
    std::string_view pending() const;
    void Consume(size_t n);
    void Prepend(std::string_view bytes);
    // Returns free space after the pending octets so that pending plus
    // free is at most `limit`.
    std::pair<char*, size_t> Space(size_t limit);
    void Commit(size_t n) { end_ += n; }

   private:
    std::unique_ptr<char[]> data_;
    size_t capacity_ = 0;
    size_t begin_ = 0;
    size_t end_ = 0;
  };

  // Input handlers, one per state. Each processes what it can and returns
  // true if it consumed input or changed state, so that ProcessInput()
  // runs the handler of the new state.
  bool HandleCommandInput();
  bool HandleDiscardInput();
  bool HandleDataInput();
  bool HandleBdatInput();
  void ProcessInput();

  // Command handlers, one per verb. Each returns the reply to send now, or
  // nothing when the reply comes later (DATA content, BDAT octets).
  using CommandHandler =
      std::optional<Reply> (ServerSession::*)(const Command& command);
  static CommandHandler HandlerFor(Verb verb);
  void ExecuteLine(std::string_view line);
  std::optional<Reply> OnEhlo(const Command& command);
  std::optional<Reply> OnHelo(const Command& command);
  std::optional<Reply> OnMail(const Command& command);
  std::optional<Reply> OnRcpt(const Command& command);
  std::optional<Reply> OnData(const Command& command);
  std::optional<Reply> OnBdat(const Command& command);
  std::optional<Reply> OnRset(const Command& command);
  std::optional<Reply> OnNoop(const Command& command);
  std::optional<Reply> OnQuit(const Command& command);
  std::optional<Reply> OnVrfy(const Command& command);
  std::optional<Reply> OnHelp(const Command& command);
  std::optional<Reply> OnEtrn(const Command& command);

  std::optional<Reply> CheckRecipient(const Command& command) const;
  std::optional<Reply> CheckChunkAllowed() const;
  void FinishData();
  void FinishChunk();
  struct Rejection {
    ContentRejection reason;
    Reply reply;
  };
  // Returns the rejection of finished content, if any.
  std::optional<Rejection> CheckContent(bool bare_line_ending, bool too_large,
                                        int received_count) const;
  // Drops the transaction and sends the rejection of its content.
  void RejectContent(const Rejection& rejection);
  void CompleteMessage(bool has_8bit, uint64_t size);
  void AnswerMessage(const Reply& reply);

  // Queues `reply`. A 5xx reply to a command counts as an error when
  // `command_error` is set, which may close the session.
  void Respond(const Reply& reply, bool command_error);
  void Close(const Reply& reply);
  void ResetTransaction();
  bool TransactionInProgress() const;
  void MaybeCloseForShutdown();
  size_t ReadLimit() const;

  const ServerSessionOptions options_;
  const RecipientPolicy& policy_;
  QueueStarter* queue_starter_ = nullptr;
  const std::string client_ip_;
  const size_t max_command_line_;

  State state_ = State::kCommand;
  std::string output_;
  InputBuffer input_;
  int commands_ = 0;
  int errors_ = 0;
  uint64_t discarded_ = 0;  // octets of the overlong line dropped so far
  bool shutting_down_ = false;

  // Greeting and transaction.
  std::string helo_;
  bool esmtp_ = false;
  bool mail_given_ = false;
  Path sender_;
  MailParameters mail_;
  std::vector<Recipient> recipients_;
  MessageBody body_;
  std::unique_ptr<DataScanner> scanner_;  // during DATA
  std::unique_ptr<DotStuffer> stuffer_;   // once BDAT has started
  bool chunk_too_large_ = false;
  Chunk chunk_;
  std::optional<Transaction> message_;  // finished, not yet taken
  std::function<void(ContentRejection)> on_content_rejected_;
};

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_SERVER_SESSION_H_
