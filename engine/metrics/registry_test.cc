#include "engine/metrics/registry.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ferry::metrics {
namespace {

namespace v1 = ::ferry::admin::v1;

// Returns the metric named `name` whose label `key` is `value` (any labels
// when `key` is empty), or nullptr.
const v1::Metric* Find(const std::vector<v1::Metric>& metrics,
                       const std::string& name, const std::string& key = "",
                       const std::string& value = "") {
  for (const v1::Metric& metric : metrics) {
    if (metric.name() != name) continue;
    if (key.empty()) return &metric;
    auto it = metric.label().find(key);
    if (it != metric.label().end() && it->second == value) return &metric;
  }
  return nullptr;
}

double CounterValue(const std::vector<v1::Metric>& metrics,
                    const std::string& name, const std::string& key = "",
                    const std::string& value = "") {
  const v1::Metric* metric = Find(metrics, name, key, value);
  EXPECT_NE(metric, nullptr) << name << " " << key << "=" << value;
  if (metric == nullptr) return -1;
  EXPECT_EQ(metric->value_case(), v1::Metric::kCounter) << name;
  return metric->counter();
}

double GaugeValue(const std::vector<v1::Metric>& metrics,
                  const std::string& name, const std::string& key = "",
                  const std::string& value = "") {
  const v1::Metric* metric = Find(metrics, name, key, value);
  EXPECT_NE(metric, nullptr) << name << " " << key << "=" << value;
  if (metric == nullptr) return -1;
  EXPECT_EQ(metric->value_case(), v1::Metric::kGauge) << name;
  return metric->gauge();
}

TEST(RegistryTest, EmptyRegistryListsEveryMetric) {
  Registry registry("");
  const std::vector<v1::Metric> metrics = registry.Collect();
  for (const char* name :
       {"ferry_open_connections", "ferry_inbound_connections_total",
        "ferry_outbound_connections_total", "ferry_smtp_replies_total",
        "ferry_messages_received_total", "ferry_messages_received_bytes_total",
        "ferry_messages_rejected_total", "ferry_recipients_rejected_total",
        "ferry_end_of_data_to_250_seconds", "ferry_deliveries_total",
        "ferry_delivery_delay_seconds", "ferry_queue_messages",
        "ferry_queue_bytes", "ferry_queue_oldest_message_age_seconds",
        "ferry_spool_group_commit_records",
        "ferry_spool_fdatasync_duration_seconds"}) {
    EXPECT_NE(Find(metrics, name), nullptr) << name;
  }
  EXPECT_EQ(Find(metrics, "ferry_spool_segment_bytes"), nullptr);
  EXPECT_EQ(Find(metrics, "ferry_destination_connections"), nullptr);
}

TEST(RegistryTest, EveryMetricHasHelp) {
  Registry registry("/");
  for (const v1::Metric& metric : registry.Collect()) {
    EXPECT_FALSE(metric.help().empty()) << metric.name();
  }
}

TEST(RegistryTest, SumsCountersOverWorkers) {
  Registry registry("");
  WorkerMetrics* first = registry.AddWorker();
  WorkerMetrics* second = registry.AddWorker();
  first->deliveries[DeliveryResult::kDelivered].Add(3);
  second->deliveries[DeliveryResult::kDelivered].Add(4);
  second->deliveries[DeliveryResult::kExpired].Add();
  first->messages_received.Add(2);
  const std::vector<v1::Metric> metrics = registry.Collect();
  EXPECT_EQ(
      CounterValue(metrics, "ferry_deliveries_total", "result", "delivered"),
      7);
  EXPECT_EQ(
      CounterValue(metrics, "ferry_deliveries_total", "result", "expired"), 1);
  EXPECT_EQ(
      CounterValue(metrics, "ferry_deliveries_total", "result", "bounced"), 0);
  EXPECT_EQ(CounterValue(metrics, "ferry_messages_received_total"), 2);
}

TEST(RegistryTest, LabelsRejectionReasons) {
  Registry registry("");
  WorkerMetrics* worker = registry.AddWorker();
  worker->messages_rejected[MessageRejection::kMailLoop].Add();
  worker->recipients_rejected[RecipientRejection::kNoRoute].Add(2);
  const std::vector<v1::Metric> metrics = registry.Collect();
  EXPECT_EQ(CounterValue(metrics, "ferry_messages_rejected_total", "reason",
                         "mail_loop"),
            1);
  EXPECT_EQ(CounterValue(metrics, "ferry_recipients_rejected_total", "reason",
                         "no_route"),
            2);
}

TEST(RegistryTest, SumsGaugesOverWorkers) {
  Registry registry("");
  WorkerMetrics* first = registry.AddWorker();
  WorkerMetrics* second = registry.AddWorker();
  first->inbound_connections.Add(2);
  second->inbound_connections.Add(1);
  second->outbound_connections.Add(5);
  first->queue_messages[QueueState::kDeferred].Set(10);
  second->queue_messages[QueueState::kDeferred].Set(1);
  const std::vector<v1::Metric> metrics = registry.Collect();
  EXPECT_EQ(
      GaugeValue(metrics, "ferry_open_connections", "direction", "inbound"), 3);
  EXPECT_EQ(
      GaugeValue(metrics, "ferry_open_connections", "direction", "outbound"),
      5);
  EXPECT_EQ(GaugeValue(metrics, "ferry_queue_messages", "state", "deferred"),
            11);
  EXPECT_EQ(GaugeValue(metrics, "ferry_queue_messages", "state", "held"), 0);
}

TEST(RegistryTest, OldestAgeIsMaximumOverWorkers) {
  Registry registry("");
  WorkerMetrics* first = registry.AddWorker();
  WorkerMetrics* second = registry.AddWorker();
  registry.AddWorker();  // an empty queue does not count
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  first->oldest_arrival_unix_micros.Set(absl::ToUnixMicros(now) - 5000000);
  second->oldest_arrival_unix_micros.Set(absl::ToUnixMicros(now) - 90000000);
  EXPECT_EQ(GaugeValue(registry.Collect(now),
                       "ferry_queue_oldest_message_age_seconds"),
            90);
}

TEST(RegistryTest, OldestAgeIsZeroWhenEmpty) {
  Registry registry("");
  registry.AddWorker();
  EXPECT_EQ(
      GaugeValue(registry.Collect(), "ferry_queue_oldest_message_age_seconds"),
      0);
}

TEST(RegistryTest, DestinationGaugeListsOnlyOpenDestinations) {
  Registry registry("");
  WorkerMetrics* first = registry.AddWorker();
  WorkerMetrics* second = registry.AddWorker();
  first->destination_connections.Opened("example.net");
  second->destination_connections.Opened("example.net");
  second->destination_connections.Opened("example.org");
  second->destination_connections.Closed("example.org");
  const std::vector<v1::Metric> metrics = registry.Collect();
  EXPECT_EQ(GaugeValue(metrics, "ferry_destination_connections", "destination",
                       "example.net"),
            2);
  EXPECT_EQ(Find(metrics, "ferry_destination_connections", "destination",
                 "example.org"),
            nullptr);
}

TEST(RegistryTest, HistogramInSeconds) {
  Registry registry("");
  WorkerMetrics* worker = registry.AddWorker();
  worker->fdatasync_duration.Observe(2000000);  // 2 ms
  const std::vector<v1::Metric> metrics = registry.Collect();
  const v1::Metric* metric =
      Find(metrics, "ferry_spool_fdatasync_duration_seconds");
  ASSERT_NE(metric, nullptr);
  ASSERT_TRUE(metric->has_histogram());
  EXPECT_EQ(metric->histogram().count(), 1u);
  EXPECT_DOUBLE_EQ(metric->histogram().sum(), 0.002);
}

TEST(RegistryTest, SpoolGaugesWhenDirectoryGiven) {
  Registry registry("/");
  const std::vector<v1::Metric> metrics = registry.Collect();
  EXPECT_NE(Find(metrics, "ferry_spool_segment_bytes"), nullptr);
  EXPECT_GT(GaugeValue(metrics, "ferry_spool_filesystem_size_bytes"), 0);
}

// Writers update their own workers' metrics while a reader collects. The
// reader must see counters that never go back and histograms whose +Inf
// bucket equals their count, and the final values must be exact.
TEST(RegistryTest, ConcurrentWritersAndReader) {
  constexpr int kWorkers = 3;
  constexpr uint64_t kIterations = 1000000;
  Registry registry("");
  std::vector<WorkerMetrics*> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(registry.AddWorker());

  std::atomic<int> running{kWorkers};
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (WorkerMetrics* worker : workers) {
    writers.emplace_back([worker, &running, &go] {
      while (!go.load()) std::this_thread::yield();
      for (uint64_t i = 0; i < kIterations; ++i) {
        worker->messages_received.Add();
        worker->deliveries[DeliveryResult::kDeferred].Add(2);
        worker->inbound_connections.Add(1);
        worker->end_of_data_to_250.Observe(i * 1000);
        worker->inbound_connections.Add(-1);
        if (i % 1000 == 0) {
          worker->destination_connections.Opened("example.net");
          worker->destination_connections.Closed("example.net");
        }
      }
      running.fetch_sub(1);
    });
  }

  double last_received = 0;
  int scrapes = 0;
  go.store(true);
  while (running.load() > 0 || scrapes == 0) {
    const std::vector<v1::Metric> metrics = registry.Collect();
    const double received =
        CounterValue(metrics, "ferry_messages_received_total");
    ASSERT_GE(received, last_received);
    ASSERT_LE(received, kWorkers * kIterations);
    last_received = received;

    const double open =
        GaugeValue(metrics, "ferry_open_connections", "direction", "inbound");
    ASSERT_GE(open, 0);
    ASSERT_LE(open, kWorkers);

    const v1::Metric* latency =
        Find(metrics, "ferry_end_of_data_to_250_seconds");
    ASSERT_NE(latency, nullptr);
    const v1::Histogram& h = latency->histogram();
    ASSERT_GE(h.count(), h.cumulative_count(h.cumulative_count_size() - 1));
    for (int i = 1; i < h.cumulative_count_size(); ++i) {
      ASSERT_GE(h.cumulative_count(i), h.cumulative_count(i - 1));
    }
    ++scrapes;
  }
  for (std::thread& writer : writers) writer.join();

  const std::vector<v1::Metric> metrics = registry.Collect();
  EXPECT_EQ(CounterValue(metrics, "ferry_messages_received_total"),
            kWorkers * kIterations);
  EXPECT_EQ(
      CounterValue(metrics, "ferry_deliveries_total", "result", "deferred"),
      2 * kWorkers * kIterations);
  EXPECT_EQ(
      GaugeValue(metrics, "ferry_open_connections", "direction", "inbound"), 0);
  const v1::Metric* latency = Find(metrics, "ferry_end_of_data_to_250_seconds");
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->histogram().count(), kWorkers * kIterations);
  EXPECT_EQ(Find(metrics, "ferry_destination_connections"), nullptr);
  EXPECT_GT(scrapes, 0);
}

}  // namespace
}  // namespace ferry::metrics
