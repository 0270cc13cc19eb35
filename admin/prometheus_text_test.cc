#include "admin/prometheus_text.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace ferry::admin {
namespace {

using Metrics = google::protobuf::RepeatedPtrField<v1::Metric>;

v1::Metric* AddMetric(Metrics* metrics, const std::string& name,
                      const std::string& help) {
  v1::Metric* metric = metrics->Add();
  metric->set_name(name);
  metric->set_help(help);
  return metric;
}

TEST(RenderPrometheusTextTest, CounterWithHelpAndType) {
  Metrics metrics;
  AddMetric(&metrics, "ferry_messages_received_total", "Messages accepted.")
      ->set_counter(42);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP ferry_messages_received_total Messages accepted.\n"
            "# TYPE ferry_messages_received_total counter\n"
            "ferry_messages_received_total 42\n");
}

TEST(RenderPrometheusTextTest, GaugeWithSortedLabels) {
  Metrics metrics;
  v1::Metric* metric = AddMetric(&metrics, "ferry_queue_messages", "Queue.");
  (*metric->mutable_label())["state"] = "queued";
  (*metric->mutable_label())["a"] = "x";
  metric->set_gauge(3.5);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP ferry_queue_messages Queue.\n"
            "# TYPE ferry_queue_messages gauge\n"
            "ferry_queue_messages{a=\"x\",state=\"queued\"} 3.5\n");
}

TEST(RenderPrometheusTextTest, FamilyWrittenOnce) {
  Metrics metrics;
  v1::Metric* delivered = AddMetric(&metrics, "ferry_deliveries_total", "D.");
  (*delivered->mutable_label())["result"] = "delivered";
  delivered->set_counter(1);
  AddMetric(&metrics, "ferry_other_total", "O.")->set_counter(5);
  v1::Metric* deferred = AddMetric(&metrics, "ferry_deliveries_total", "D.");
  (*deferred->mutable_label())["result"] = "deferred";
  deferred->set_counter(2);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP ferry_deliveries_total D.\n"
            "# TYPE ferry_deliveries_total counter\n"
            "ferry_deliveries_total{result=\"delivered\"} 1\n"
            "ferry_deliveries_total{result=\"deferred\"} 2\n"
            "# HELP ferry_other_total O.\n"
            "# TYPE ferry_other_total counter\n"
            "ferry_other_total 5\n");
}

TEST(RenderPrometheusTextTest, EscapesLabelValues) {
  Metrics metrics;
  v1::Metric* metric = AddMetric(&metrics, "m", "h");
  (*metric->mutable_label())["destination"] = "a\\b\"c\nd";
  metric->set_gauge(1);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP m h\n# TYPE m gauge\n"
            "m{destination=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(RenderPrometheusTextTest, EscapesHelp) {
  Metrics metrics;
  AddMetric(&metrics, "m", "back\\slash \"quoted\"\nsecond line")
      ->set_counter(0);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP m back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE m counter\nm 0\n");
}

TEST(RenderPrometheusTextTest, HistogramBucketsSumAndCount) {
  Metrics metrics;
  v1::Metric* metric = AddMetric(&metrics, "ferry_x_seconds", "X.");
  (*metric->mutable_label())["kind"] = "k";
  v1::Histogram* histogram = metric->mutable_histogram();
  histogram->add_upper_bound(0.0005);
  histogram->add_cumulative_count(1);
  histogram->add_upper_bound(1);
  histogram->add_cumulative_count(3);
  histogram->set_count(4);
  histogram->set_sum(12.25);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP ferry_x_seconds X.\n"
            "# TYPE ferry_x_seconds histogram\n"
            "ferry_x_seconds_bucket{kind=\"k\",le=\"0.0005\"} 1\n"
            "ferry_x_seconds_bucket{kind=\"k\",le=\"1\"} 3\n"
            "ferry_x_seconds_bucket{kind=\"k\",le=\"+Inf\"} 4\n"
            "ferry_x_seconds_sum{kind=\"k\"} 12.25\n"
            "ferry_x_seconds_count{kind=\"k\"} 4\n");
}

TEST(RenderPrometheusTextTest, EmptyHistogramHasInfBucket) {
  Metrics metrics;
  AddMetric(&metrics, "h_seconds", "H.")->mutable_histogram();
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"+Inf\"} 0\n"
            "h_seconds_sum 0\nh_seconds_count 0\n");
}

TEST(RenderPrometheusTextTest, LeavesOutMetricWithoutValue) {
  Metrics metrics;
  AddMetric(&metrics, "unset", "U.");
  EXPECT_EQ(RenderPrometheusText(metrics), "");
}

TEST(RenderPrometheusTextTest, LeavesOutTypeMismatchInFamily) {
  Metrics metrics;
  AddMetric(&metrics, "m", "h")->set_counter(1);
  AddMetric(&metrics, "m", "h")->set_gauge(2);
  EXPECT_EQ(RenderPrometheusText(metrics),
            "# HELP m h\n# TYPE m counter\nm 1\n");
}

TEST(FormatSampleValueTest, Values) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {42, "42"},
      {1234567890123, "1234567890123"},
      {0.1, "0.1"},
      {0.0005, "0.0005"},
      {1e-9, "1e-09"},
      {0.00001, "0.00001"},
      {1e15, "1e+15"},
      {999999999999999, "999999999999999"},
      {-2.5, "-2.5"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatSampleValue(c.value), c.text) << c.text;
  }
}

}  // namespace
}  // namespace ferry::admin
