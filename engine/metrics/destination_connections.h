// DestinationConnections: one worker's outbound connections in progress
// per destination (recipient domain), for the per-destination gauge.
//
// The worker changes it only when it starts or ends an outbound connection,
// never per message, so a mutex is cheap enough; the scraper thread reads
// it under the same mutex. A destination is erased when its count drops to
// zero, so the map only ever holds destinations with connections, which
// bounds the gauge's label values.
#ifndef FERRY_ENGINE_METRICS_DESTINATION_CONNECTIONS_H_
#define FERRY_ENGINE_METRICS_DESTINATION_CONNECTIONS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace ferry::metrics {

class DestinationConnections {
 public:
  void Opened(const std::string& destination);
  // REQUIRES: a matching Opened(destination) came first.
  void Closed(const std::string& destination);

  // Adds this worker's counts to `totals`, one entry per destination.
  void AddTo(std::map<std::string, int64_t>* totals) const;

 private:
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<std::string, int64_t> counts_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_DESTINATION_CONNECTIONS_H_
