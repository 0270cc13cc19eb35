// Histogram: a single-writer distribution with fixed buckets, exported in
// the Prometheus form (cumulative bucket counts, sum and count).
//
// Each bucket is one atomic counter, and the sum is an integer in the
// observed unit (nanoseconds, octets, records), so Observe() is a bucket
// search and two relaxed load/store pairs. The count is not kept
// separately: a snapshot derives it from the buckets, so that the +Inf
// bucket always equals the count, even while the writer runs. A snapshot
// taken during an Observe() may include the bucket but not yet the sum.
//
// REQUIRES: only one thread calls Observe() on a given histogram; any
// thread may call AddTo().
#ifndef FERRY_ENGINE_METRICS_HISTOGRAM_H_
#define FERRY_ENGINE_METRICS_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ferry::metrics {

// The bucket layout of a histogram.
struct HistogramBuckets {
  // Upper bounds (inclusive) in the observed integer unit, strictly
  // increasing. Values above the last bound go to the implicit +Inf bucket.
  std::vector<uint64_t> bounds;
  // Observed units per exported unit: 1e9 when nanoseconds are exported
  // as seconds, 1 for octets or records. Dividing (rather than multiplying
  // by 1e-9) keeps a bound such as 500000 ns exactly "0.0005".
  double divisor = 1.0;
};

// Values of one or more histograms with the same buckets, summed.
struct HistogramSnapshot {
  std::vector<uint64_t> counts;  // per bucket, not cumulative; +Inf last
  uint64_t sum = 0;              // in the observed unit
};

class Histogram {
 public:
  // REQUIRES: `buckets` outlives the histogram.
  explicit Histogram(const HistogramBuckets* buckets);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(uint64_t value);

  // Adds this histogram's current values to `snapshot`, sizing its counts
  // first if they are empty.
  void AddTo(HistogramSnapshot* snapshot) const;

  const HistogramBuckets& buckets() const { return *buckets_; }

 private:
  const HistogramBuckets* buckets_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds.size() + 1
  std::atomic<uint64_t> sum_{0};
};

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_HISTOGRAM_H_
