// WorkerMetrics: the histograms' bucket layouts.
#include "engine/metrics/worker_metrics.h"

namespace ferry::metrics {
namespace {

constexpr uint64_t kMicro = 1000;
constexpr uint64_t kMilli = 1000 * kMicro;
constexpr uint64_t kSecond = 1000 * kMilli;
constexpr double kNanosPerSecond = 1e9;

}  // namespace

// fdatasync and dot-to-250 times, from 100 us to 10 s. Longer times mean
// a failing or saturated disk, and they all fall in the +Inf bucket.
const HistogramBuckets kLatencyBuckets = {
    {100 * kMicro, 250 * kMicro, 500 * kMicro, 1 * kMilli, 2500 * kMicro,
     5 * kMilli, 10 * kMilli, 25 * kMilli, 50 * kMilli, 100 * kMilli,
     250 * kMilli, 500 * kMilli, 1 * kSecond, 2500 * kMilli, 5 * kSecond,
     10 * kSecond},
    kNanosPerSecond};

// Arrival to delivery: from a direct relay (well under a second) to the
// default queue lifetime of five days.
const HistogramBuckets kDeliveryDelayBuckets = {
    {100 * kMilli, 250 * kMilli, 500 * kMilli, 1 * kSecond, 5 * kSecond,
     15 * kSecond, 60 * kSecond, 300 * kSecond, 900 * kSecond, 3600 * kSecond,
     4 * 3600 * kSecond, 12 * 3600 * kSecond, 24 * 3600 * kSecond,
     2 * 24 * 3600 * kSecond, 5 * 24 * 3600 * kSecond},
    kNanosPerSecond};

// Records per group commit: powers of two up to 1024.
const HistogramBuckets kCommitRecordsBuckets = {
    {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}, 1.0};

}  // namespace ferry::metrics
