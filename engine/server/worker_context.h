// WorkerContext: what one worker's coroutines share: its ring, spool
// writer, resolver, delivery queue and settings. Owned by the Worker and
// used only on its thread.
#ifndef FERRY_ENGINE_SERVER_WORKER_CONTEXT_H_
#define FERRY_ENGINE_SERVER_WORKER_CONTEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "engine/dns/resolver.h"
#include "engine/io/ring.h"
#include "engine/metrics/worker_metrics.h"
#include "engine/route/route_snapshot.h"
#include "engine/server/settings.h"
#include "engine/spool/spool_writer.h"

namespace ferry::server {

class DeliveryQueue;
class QueueControl;

struct WorkerContext {
  int index = 0;
  std::string tag;  // "w0": first field of this worker's log lines
  const Settings* settings = nullptr;
  io::Ring* ring = nullptr;
  spool::SpoolWriter* spool = nullptr;
  dns::Resolver* resolver = nullptr;
  // This worker's reader of the published routing table.
  route::RouteSnapshot::Reader* routes = nullptr;
  DeliveryQueue* queue = nullptr;
  // This worker's metrics, owned by the metrics registry. Never null.
  metrics::WorkerMetrics* metrics = nullptr;
  // Fan-out of queue requests to every worker, for ETRN; nullptr when
  // ETRN is not offered.
  QueueControl* queue_control = nullptr;
  absl::BitGen random;
  uint64_t queue_id_counter = 0;
  // Message content held by this worker's inbound sessions right now.
  uint64_t receiving_bytes = 0;
  bool stopping = false;
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_WORKER_CONTEXT_H_
