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
    kPending,    // waiting for its next attempt
    kActive,     // in a delivery job right now
    kDelivered,  // final
    kBounced,    // final: permanent failure or expired
  };
  State state = State::kPending;
  std::string domain;  // lower case; the routing key
  uint32_t attempts = 0;
  absl::Time next_attempt = absl::InfinitePast();
  std::string last_reply;

  bool final() const {
    return state == State::kDelivered || state == State::kBounced;
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

  // True when every recipient is delivered or bounced.
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
