// QueueGauges: keeps one worker's queue gauges current: messages and body
// octets by state, and the arrival of the oldest message.
//
// The delivery queue calls it wherever a message joins the queue, changes
// state or leaves, so a scrape reads the gauges without asking the worker.
// Each call costs a pass over the message's recipients, and joining or
// leaving also a B-tree insert or erase of its arrival time.
//
// Owned by the worker's DeliveryQueue; used only on the worker's thread.
#ifndef FERRY_ENGINE_SERVER_QUEUE_GAUGES_H_
#define FERRY_ENGINE_SERVER_QUEUE_GAUGES_H_

#include <cstdint>

#include "absl/container/btree_set.h"
#include "engine/metrics/worker_metrics.h"
#include "engine/server/queued_message.h"

namespace ferry::server {

// Returns the state the gauges count `message` in. A recipient in a
// delivery job (due or in an attempt) makes it queued. Otherwise it is
// held when every recipient that is not final is held, deferred when one
// waits for a retry, and queued when none has failed yet.
metrics::QueueState GaugeState(const QueuedMessage& message);

class QueueGauges {
 public:
  explicit QueueGauges(metrics::WorkerMetrics* metrics) : metrics_(metrics) {}

  // Starts counting `message`, which joined the queue. Calling it again
  // for a counted message only updates it.
  void Add(QueuedMessage* message);

  // Moves `message` to the state its recipients are in now. Does nothing
  // for a message that is not counted.
  void Update(QueuedMessage* message);

  // Stops counting `message`, which left the queue.
  void Remove(QueuedMessage* message);

 private:
  void Count(metrics::QueueState state, uint64_t bytes, int64_t sign);
  void PublishOldest();

  metrics::WorkerMetrics* metrics_;
  absl::btree_multiset<int64_t> arrivals_;  // Unix microseconds
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_QUEUE_GAUGES_H_
