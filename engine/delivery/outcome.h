// The delivery error policy: what the result of one attempt means for one
// recipient. Every rule that chooses between delivered, deferred and bounced
// is in this file and outcome.cc, and nowhere else.
//
// Replies (the next hop's final reply for the recipient, or a reply that
// the relay's SMTP client made up when the connection failed):
//   2xx                   delivered
//   4xx                   deferred, retried after backoff
//   5xx                   bounced, a DSN goes to the sender
//   any other code        deferred as a protocol error, 4.5.0
// The DSN status is the reply's enhanced status code when its class digit
// matches the reply code, else "2.0.0", "4.0.0" or "5.0.0".
//
// Transport errors (no reply for this recipient) are always deferred: the
// destination may come back, and nothing the sender did caused them. The
// absl::StatusCode picks the DSN status, so the code that turns an errno or
// a DNS result into a Status must follow this table. absl::ErrnoToStatus()
// already does for the socket errors.
//   kUnavailable          4.4.1  connection refused or reset, host or
//                                network unreachable, DNS temporary failure
//   kDeadlineExceeded,    4.4.2  connect, greeting or reply timed out, or the
//   kCancelled                   operation was cancelled (an io_uring linked
//                                timeout completes its operation with
//                                ECANCELED)
//   kFailedPrecondition,  4.4.2  connection lost (EPIPE, ENOTCONN)
//   kAborted
//   kNotFound             4.4.4  the next hop's host name does not exist in
//                                DNS or has no address records
//   kInvalidArgument,     4.5.0  protocol error: the next hop's reply was
//   kDataLoss, kOutOfRange       malformed or over a length limit
//   any other code        4.3.0  local failure of the relay
// A next hop name that does not exist is deferred, not bounced, because the
// name comes from the relay's own route configuration. That is an operator
// error that a route change can fix, and the sender cannot.
//
// Expiry: a deferral at or past the queue lifetime becomes a bounce with
// status 5.4.7 (delivery time expired). The last reply or error stays as
// the diagnostic, because it tells the sender why delivery never succeeded.
//
// Operator bounce: an operator may fail recipients that are still queued
// (ferryctl queue bounce). They bounce with status 5.0.0 (other undefined
// status), because no RFC 3463 code describes an operator's action, and a
// diagnostic that names the operator and keeps the last reply or error.
//
// Pure functions, safe to call from any thread.
#ifndef FERRY_ENGINE_DELIVERY_OUTCOME_H_
#define FERRY_ENGINE_DELIVERY_OUTCOME_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/smtp/reply.h"

namespace ferry::delivery {

enum class DeliveryState { kDelivered, kDeferred, kBounced };

// Returns "delivered", "deferred" or "bounced", for logs.
std::string_view DeliveryStateName(DeliveryState state);

// Timing of an attempt, relative to its message's queue lifetime.
struct AttemptTiming {
  absl::Time arrival;  // when the message was accepted and spooled
  absl::Time now;      // when the attempt ended
  absl::Duration queue_lifetime;
};

// Origin of a reply.
enum class ReplySource {
  kNextHop,  // received from the next hop
  kLocal,    // made up by the relay's SMTP client, such as 4.4.2 for a
             // connection lost after the final dot
};

// Maximum length of a diagnostic, in octets. A next hop may send a reply of
// many long lines, and the diagnostic goes into logs and DSNs.
inline constexpr size_t kMaxDiagnosticLength = 1024;

// Result of one attempt for one recipient.
struct Outcome {
  DeliveryState state = DeliveryState::kDeferred;
  // RFC 3463 status code whose class matches `state`: "2.0.0", "4.4.1",
  // "5.1.1".
  std::string status;
  // The reply ("550 5.1.1 no such user") or the error text, on one line
  // without control characters, at most kMaxDiagnosticLength octets.
  std::string diagnostic;
  // True iff `diagnostic` is a reply received from the next hop, so that a
  // DSN may label it "smtp".
  bool from_next_hop = false;
  // True iff the outcome is a bounce because the queue lifetime ended
  // while the recipient was deferred.
  bool expired = false;
};

// Classifies the final reply for one recipient: the RCPT reply when it was
// not 2xx, else the reply after the final dot.
Outcome ClassifyReply(const smtp::Reply& reply, ReplySource source,
                      const AttemptTiming& timing);

// Returns the bounce of a recipient that an operator failed, whose last
// attempt ended with `last_reply` (empty when it had none).
Outcome OperatorBounce(std::string_view last_reply);

// Classifies an attempt that ended without a reply for the recipient.
// REQUIRES: !error.ok(). An OK status is treated as a local failure.
Outcome ClassifyTransportError(const absl::Status& error,
                               const AttemptTiming& timing);

}  // namespace ferry::delivery

#endif  // FERRY_ENGINE_DELIVERY_OUTCOME_H_
