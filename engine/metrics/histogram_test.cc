#include "engine/metrics/histogram.h"

#include "engine/metrics/histogram_proto.h"
#include "gtest/gtest.h"

namespace ferry::metrics {
namespace {

const HistogramBuckets kBuckets = {{10, 20, 40}, 1.0};

TEST(HistogramTest, BoundIsInclusive) {
  Histogram histogram(&kBuckets);
  histogram.Observe(10);
  HistogramSnapshot snapshot;
  histogram.AddTo(&snapshot);
  ASSERT_EQ(snapshot.counts.size(), 4u);
  EXPECT_EQ(snapshot.counts[0], 1u);
  EXPECT_EQ(snapshot.counts[1], 0u);
}

TEST(HistogramTest, LargeValueGoesToInfBucket) {
  Histogram histogram(&kBuckets);
  histogram.Observe(41);
  HistogramSnapshot snapshot;
  histogram.AddTo(&snapshot);
  EXPECT_EQ(snapshot.counts[3], 1u);
  EXPECT_EQ(snapshot.sum, 41u);
}

TEST(HistogramTest, ZeroGoesToFirstBucket) {
  Histogram histogram(&kBuckets);
  histogram.Observe(0);
  HistogramSnapshot snapshot;
  histogram.AddTo(&snapshot);
  EXPECT_EQ(snapshot.counts[0], 1u);
}

TEST(HistogramTest, SnapshotsOfTwoHistogramsAdd) {
  Histogram a(&kBuckets);
  Histogram b(&kBuckets);
  a.Observe(5);
  b.Observe(15);
  b.Observe(15);
  HistogramSnapshot snapshot;
  a.AddTo(&snapshot);
  b.AddTo(&snapshot);
  EXPECT_EQ(snapshot.counts[0], 1u);
  EXPECT_EQ(snapshot.counts[1], 2u);
  EXPECT_EQ(snapshot.sum, 35u);
}

TEST(HistogramTest, ProtoIsCumulative) {
  Histogram histogram(&kBuckets);
  for (uint64_t v : {1, 15, 15, 30, 100}) histogram.Observe(v);
  HistogramSnapshot snapshot;
  histogram.AddTo(&snapshot);
  const admin::v1::Histogram proto = ToProto(kBuckets, snapshot);
  ASSERT_EQ(proto.upper_bound_size(), 3);
  ASSERT_EQ(proto.cumulative_count_size(), 3);
  EXPECT_EQ(proto.cumulative_count(0), 1u);
  EXPECT_EQ(proto.cumulative_count(1), 3u);
  EXPECT_EQ(proto.cumulative_count(2), 4u);
  EXPECT_EQ(proto.count(), 5u);
  EXPECT_DOUBLE_EQ(proto.sum(), 161.0);
}

TEST(HistogramTest, ProtoDividesByDivisor) {
  const HistogramBuckets nanos = {{500000, 1000000000}, 1e9};
  Histogram histogram(&nanos);
  histogram.Observe(250000);
  HistogramSnapshot snapshot;
  histogram.AddTo(&snapshot);
  const admin::v1::Histogram proto = ToProto(nanos, snapshot);
  // Exactly the double nearest 0.0005, so it prints as "0.0005".
  EXPECT_EQ(proto.upper_bound(0), 0.0005);
  EXPECT_EQ(proto.upper_bound(1), 1.0);
  EXPECT_EQ(proto.sum(), 0.00025);
}

TEST(HistogramTest, EmptySnapshotConvertsToZeros) {
  const admin::v1::Histogram proto = ToProto(kBuckets, HistogramSnapshot{});
  EXPECT_EQ(proto.upper_bound_size(), 3);
  EXPECT_EQ(proto.cumulative_count(2), 0u);
  EXPECT_EQ(proto.count(), 0u);
}

}  // namespace
}  // namespace ferry::metrics
