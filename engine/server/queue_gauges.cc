// QueueGauges: per-message state tracking for the queue gauges.
#include "engine/server/queue_gauges.h"

namespace ferry::server {

metrics::QueueState GaugeState(const QueuedMessage& message) {
  bool waiting_for_retry = false;
  bool held = false;
  bool waiting = false;
  for (const QueuedRecipient& r : message.recipients) {
    if (r.state == QueuedRecipient::State::kActive ||
        r.state == QueuedRecipient::State::kReady) {
      return metrics::QueueState::kQueued;
    }
    if (r.state == QueuedRecipient::State::kHeld) held = true;
    if (r.state == QueuedRecipient::State::kPending) {
      waiting = true;
      if (r.attempts > 0) waiting_for_retry = true;
    }
  }
  if (held && !waiting) return metrics::QueueState::kHeld;
  return waiting_for_retry ? metrics::QueueState::kDeferred
                           : metrics::QueueState::kQueued;
}

void QueueGauges::Add(QueuedMessage* message) {
  if (message->gauge.counted) {
    Update(message);
    return;
  }
  message->gauge.counted = true;
  message->gauge.state = GaugeState(*message);
  message->gauge.bytes = message->body.size();
  Count(message->gauge.state, message->gauge.bytes, 1);
  arrivals_.insert(absl::ToUnixMicros(message->arrival));
  PublishOldest();
}

void QueueGauges::Update(QueuedMessage* message) {
  if (!message->gauge.counted) return;
  const metrics::QueueState state = GaugeState(*message);
  if (state == message->gauge.state) return;
  Count(message->gauge.state, message->gauge.bytes, -1);
  Count(state, message->gauge.bytes, 1);
  message->gauge.state = state;
}

void QueueGauges::Remove(QueuedMessage* message) {
  if (!message->gauge.counted) return;
  message->gauge.counted = false;
  Count(message->gauge.state, message->gauge.bytes, -1);
  auto it = arrivals_.find(absl::ToUnixMicros(message->arrival));
  if (it != arrivals_.end()) arrivals_.erase(it);
  PublishOldest();
}

void QueueGauges::Count(metrics::QueueState state, uint64_t bytes,
                        int64_t sign) {
  metrics_->queue_messages[state].Add(sign);
  metrics_->queue_bytes[state].Add(sign * static_cast<int64_t>(bytes));
}

void QueueGauges::PublishOldest() {
  metrics_->oldest_arrival_unix_micros.Set(
      arrivals_.empty() ? 0 : *arrivals_.begin());
}

}  // namespace ferry::server
