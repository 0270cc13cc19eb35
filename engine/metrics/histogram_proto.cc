// ToProto: cumulative bucket counts in the exported unit.
#include "engine/metrics/histogram_proto.h"

namespace ferry::metrics {

admin::v1::Histogram ToProto(const HistogramBuckets& buckets,
                             const HistogramSnapshot& snapshot) {
  admin::v1::Histogram histogram;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.bounds.size(); ++i) {
    if (i < snapshot.counts.size()) cumulative += snapshot.counts[i];
    histogram.add_upper_bound(static_cast<double>(buckets.bounds[i]) /
                              buckets.divisor);
    histogram.add_cumulative_count(cumulative);
  }
  if (snapshot.counts.size() > buckets.bounds.size()) {
    cumulative += snapshot.counts.back();
  }
  histogram.set_count(cumulative);
  histogram.set_sum(static_cast<double>(snapshot.sum) / buckets.divisor);
  return histogram;
}

}  // namespace ferry::metrics
