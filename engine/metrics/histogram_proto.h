// Conversion of histogram snapshots to the admin API's Histogram message.
#ifndef FERRY_ENGINE_METRICS_HISTOGRAM_PROTO_H_
#define FERRY_ENGINE_METRICS_HISTOGRAM_PROTO_H_

#include "engine/metrics/histogram.h"
#include "proto/admin.pb.h"

namespace ferry::metrics {

// Converts `snapshot` of histograms with `buckets` to the admin API form:
// cumulative counts per bound, count, and sum in the exported unit.
admin::v1::Histogram ToProto(const HistogramBuckets& buckets,
                             const HistogramSnapshot& snapshot);

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_HISTOGRAM_PROTO_H_
