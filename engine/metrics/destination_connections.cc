// DestinationConnections: the mutex-protected per-destination counts.
#include "engine/metrics/destination_connections.h"

namespace ferry::metrics {

void DestinationConnections::Opened(const std::string& destination) {
  absl::MutexLock lock(&mutex_);
  ++counts_[destination];
}

void DestinationConnections::Closed(const std::string& destination) {
  absl::MutexLock lock(&mutex_);
  auto it = counts_.find(destination);
  if (it == counts_.end()) return;
  if (--it->second <= 0) counts_.erase(it);
}

void DestinationConnections::AddTo(
    std::map<std::string, int64_t>* totals) const {
  absl::MutexLock lock(&mutex_);
  for (const auto& [destination, count] : counts_) {
    (*totals)[destination] += count;
  }
}

}  // namespace ferry::metrics
