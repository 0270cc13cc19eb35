// QueuedMessage: a message that is on disk and not yet finished, as one
// worker's delivery queue keeps it in memory: the spooled envelope, the
// body in transfer form, and each recipient's delivery state.
//
// Owned by one worker thread; shared (shared_ptr) only between that
// worker's delivery jobs, which may be in flight to several destinations.
#ifndef FERRY_ENGINE_SERVER_QUEUED_MESSAGE_H_
#define FERRY_ENGINE_SERVER_QUEUED_MESSAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/metrics/worker_metrics.h"
#include "engine/smtp/message_body.h"
#include "engine/spool/record.h"

namespace ferry::server {

struct QueuedRecipient {
  enum class State {
    kPending,    // waiting in the timer list for its next attempt
    kReady,      // due: in its destination's list of jobs to send
    kActive,     // in a delivery attempt on an outbound connection
    kHeld,       // held by an operator: no attempts until released
    kDelivered,  // final
    kBounced,    // final: permanent failure, expired, or bounced by an
                 // operator
    kDeleted,    // final: deleted by an operator, without a DSN
  };
  // An operator's request that arrived while the recipient was kActive,
  // applied when the attempt ends unless it delivered or bounced the
  // recipient (a delete applies after a bounce too, and stops its DSN).
  enum class PendingAction { kNone, kHold, kDelete, kBounce };

  State state = State::kPending;
  PendingAction pending_action = PendingAction::kNone;
  std::string domain;  // lower case; the routing key
  uint32_t attempts = 0;
  absl::Time next_attempt = absl::InfinitePast();
  std::string last_reply;

  bool final() const {
    return state == State::kDelivered || state == State::kBounced ||
           state == State::kDeleted;
  }
};

struct QueuedMessage {
  spool::Envelope envelope;
  // The message content in transfer form (dot-stuffed CRLF lines). The
  // Received: field in envelope.received_header goes before it.
  smtp::MessageBody body;
  // Segment of the message record, in the worker's spool directory that
  // `spool_dir_index` names (see DeliveryQueue).
  uint64_t segment = 0;
  size_t spool_dir_index = 0;
  absl::Time arrival;
  std::vector<QueuedRecipient> recipients;  // parallel to envelope's
  // Set once the delivery queue has let go of the message.
  bool removed = false;
  // The state and size under which the worker's queue gauges count the
  // message (see QueueGauges).
  struct GaugeEntry {
    bool counted = false;
    metrics::QueueState state = metrics::QueueState::kQueued;
    uint64_t bytes = 0;  // body octets when counting started
  } gauge;

  // True when every recipient is delivered, bounced or deleted.
  bool finished() const {
    for (const QueuedRecipient& r : recipients) {
      if (!r.final()) return false;
    }
    return true;
  }
};

// Returns the lower-cased domain of `address` (text after the last '@'),
// or "" when there is none.
std::string RecipientDomain(const std::string& address);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_QUEUED_MESSAGE_H_
