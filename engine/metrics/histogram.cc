// Histogram: bucket search and snapshots.
#include "engine/metrics/histogram.h"

#include <algorithm>

namespace ferry::metrics {

Histogram::Histogram(const HistogramBuckets* buckets)
    : buckets_(buckets),
      counts_(new std::atomic<uint64_t>[buckets->bounds.size() + 1]()) {}

void Histogram::Observe(uint64_t value) {
  const std::vector<uint64_t>& bounds = buckets_->bounds;
  // The first bound >= value: buckets are "less than or equal" (le).
  const size_t index = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  std::atomic<uint64_t>& bucket = counts_[index];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1,
               std::memory_order_relaxed);
  sum_.store(sum_.load(std::memory_order_relaxed) + value,
             std::memory_order_relaxed);
}

void Histogram::AddTo(HistogramSnapshot* snapshot) const {
  const size_t size = buckets_->bounds.size() + 1;
  if (snapshot->counts.empty()) snapshot->counts.assign(size, 0);
  for (size_t i = 0; i < size && i < snapshot->counts.size(); ++i) {
    snapshot->counts[i] += counts_[i].load(std::memory_order_relaxed);
  }
  snapshot->sum += sum_.load(std::memory_order_relaxed);
}

}  // namespace ferry::metrics
