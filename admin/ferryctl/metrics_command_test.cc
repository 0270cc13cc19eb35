#include "admin/ferryctl/metrics_command.h"

#include "gtest/gtest.h"

namespace ferry::ferryctl {
namespace {

namespace v1 = ::ferry::admin::v1;

using Rows = std::vector<std::vector<std::string>>;

v1::GetMetricsResponse Sample() {
  v1::GetMetricsResponse response;
  v1::Metric* counter = response.add_metric();
  counter->set_name("ferry_deliveries_total");
  (*counter->mutable_label())["result"] = "delivered";
  counter->set_counter(12);
  v1::Metric* gauge = response.add_metric();
  gauge->set_name("ferry_queue_oldest_message_age_seconds");
  gauge->set_gauge(2.5);
  v1::Metric* histogram = response.add_metric();
  histogram->set_name("ferry_spool_fdatasync_duration_seconds");
  v1::Histogram* h = histogram->mutable_histogram();
  h->add_upper_bound(0.001);
  h->add_cumulative_count(90);
  h->add_upper_bound(0.01);
  h->add_cumulative_count(99);
  h->set_count(100);
  h->set_sum(0.25);
  return response;
}

TEST(MetricRowsTest, FormatsEachKind) {
  EXPECT_EQ(MetricRows(Sample(), ""),
            (Rows{{"ferry_deliveries_total", "result=delivered", "12"},
                  {"ferry_queue_oldest_message_age_seconds", "", "2.5"},
                  {"ferry_spool_fdatasync_duration_seconds", "",
                   "count=100 sum=0.25 p99<=0.01"}}));
}

TEST(MetricRowsTest, PrefixFilters) {
  const Rows rows = MetricRows(Sample(), "ferry_queue");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "ferry_queue_oldest_message_age_seconds");
}

TEST(MetricRowsTest, LabelsSortedByKey) {
  v1::GetMetricsResponse response;
  v1::Metric* metric = response.add_metric();
  metric->set_name("m");
  (*metric->mutable_label())["z"] = "1";
  (*metric->mutable_label())["a"] = "2";
  metric->set_gauge(0);
  EXPECT_EQ(MetricRows(response, "")[0][1], "a=2,z=1");
}

TEST(MetricRowsTest, HistogramPastLastBoundIsInf) {
  v1::GetMetricsResponse response;
  v1::Metric* metric = response.add_metric();
  metric->set_name("h");
  v1::Histogram* h = metric->mutable_histogram();
  h->add_upper_bound(1);
  h->add_cumulative_count(0);
  h->set_count(3);
  h->set_sum(30);
  EXPECT_EQ(MetricRows(response, "")[0][2], "count=3 sum=30 p99<=+Inf");
}

TEST(MetricRowsTest, EmptyHistogramHasNoPercentile) {
  v1::GetMetricsResponse response;
  response.add_metric()->set_name("h");
  response.mutable_metric(0)->mutable_histogram();
  EXPECT_EQ(MetricRows(response, "")[0][2], "count=0 sum=0");
}

}  // namespace
}  // namespace ferry::ferryctl
