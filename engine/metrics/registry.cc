// Registry: worker registration and Collect(), which turns the summed
// per-worker values into named, documented Prometheus metrics.
#include "engine/metrics/registry.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <type_traits>
#include <utility>

#include "absl/time/clock.h"
#include "engine/metrics/histogram_proto.h"
#include "engine/metrics/spool_usage.h"

namespace ferry::metrics {
namespace {

namespace v1 = ::ferry::admin::v1;
using Workers = std::vector<std::unique_ptr<WorkerMetrics>>;

v1::Metric NewMetric(const char* name, const char* help) {
  v1::Metric metric;
  metric.set_name(name);
  metric.set_help(help);
  return metric;
}

void AddCounter(const char* name, const char* help, uint64_t value,
                std::vector<v1::Metric>* out) {
  v1::Metric metric = NewMetric(name, help);
  metric.set_counter(static_cast<double>(value));
  out->push_back(std::move(metric));
}

void AddGauge(const char* name, const char* help, double value,
              std::vector<v1::Metric>* out) {
  v1::Metric metric = NewMetric(name, help);
  metric.set_gauge(value);
  out->push_back(std::move(metric));
}

uint64_t SumCounter(const Workers& workers, Counter WorkerMetrics::*member) {
  uint64_t total = 0;
  for (const auto& w : workers) total += ((*w).*member).Value();
  return total;
}

int64_t SumGauge(const Workers& workers, Gauge WorkerMetrics::*member) {
  int64_t total = 0;
  for (const auto& w : workers) total += ((*w).*member).Value();
  return total;
}

// Adds one counter or gauge (matching the member's value type) per label
// value of a ByLabel member, summed over workers.
template <typename Family, size_t N>
void AddByLabel(const Workers& workers, Family WorkerMetrics::*member,
                const char* name, const char* help, const char* key,
                const std::array<const char*, N>& labels,
                std::vector<v1::Metric>* out) {
  static_assert(Family::kSize == N, "one label value per enumerator");
  for (size_t i = 0; i < N; ++i) {
    int64_t total = 0;
    for (const auto& w : workers) {
      total += static_cast<int64_t>(((*w).*member).at(i).Value());
    }
    v1::Metric metric = NewMetric(name, help);
    (*metric.mutable_label())[key] = labels[i];
    if constexpr (std::is_same_v<typename Family::value_type, Counter>) {
      metric.set_counter(static_cast<double>(total));
    } else {
      metric.set_gauge(static_cast<double>(total));
    }
    out->push_back(std::move(metric));
  }
}

void AddHistogram(const Workers& workers, Histogram WorkerMetrics::*member,
                  const HistogramBuckets& buckets, const char* name,
                  const char* help, std::vector<v1::Metric>* out) {
  HistogramSnapshot snapshot;
  snapshot.counts.assign(buckets.bounds.size() + 1, 0);
  for (const auto& w : workers) ((*w).*member).AddTo(&snapshot);
  v1::Metric metric = NewMetric(name, help);
  *metric.mutable_histogram() = ToProto(buckets, snapshot);
  out->push_back(std::move(metric));
}

void AddConnectionMetrics(const Workers& workers,
                          std::vector<v1::Metric>* out) {
  const char* help =
      "SMTP connections open now. Inbound: client sessions; outbound: "
      "delivery connections, counted from when the scheduler starts one "
      "(before connect) until it closes.";
  const std::pair<const char*, Gauge WorkerMetrics::*> directions[] = {
      {"inbound", &WorkerMetrics::inbound_connections},
      {"outbound", &WorkerMetrics::outbound_connections}};
  for (const auto& [direction, member] : directions) {
    v1::Metric metric = NewMetric("ferry_open_connections", help);
    (*metric.mutable_label())["direction"] = direction;
    metric.set_gauge(static_cast<double>(SumGauge(workers, member)));
    out->push_back(std::move(metric));
  }
  AddByLabel(workers, &WorkerMetrics::inbound_connections_total,
             "ferry_inbound_connections_total",
             "Inbound SMTP connections by result: accepted, or rejected "
             "with 421 because max_connections or "
             "max_connections_per_address was reached.",
             "result", kInboundResultLabels, out);
  AddByLabel(workers, &WorkerMetrics::outbound_connections_total,
             "ferry_outbound_connections_total",
             "Outbound connection attempts by result: one per next hop "
             "address tried (connected, connect_failed, session_failed when "
             "the greeting or EHLO failed), or one per next hop name that "
             "did not resolve (resolve_failed).",
             "result", kOutboundResultLabels, out);
  std::map<std::string, int64_t> destinations;
  for (const auto& w : workers) w->destination_connections.AddTo(&destinations);
  for (const auto& [destination, count] : destinations) {
    v1::Metric metric = NewMetric(
        "ferry_destination_connections",
        "Outbound connections open now per destination (recipient domain); "
        "only destinations with at least one connection are listed. "
        "Limited by max_connections_per_destination per worker.");
    (*metric.mutable_label())["destination"] = destination;
    metric.set_gauge(static_cast<double>(count));
    out->push_back(std::move(metric));
  }
}

void AddInboundMetrics(const Workers& workers, std::vector<v1::Metric>* out) {
  AddByLabel(workers, &WorkerMetrics::smtp_replies, "ferry_smtp_replies_total",
             "SMTP replies sent to clients, by class of reply code.", "class",
             kReplyClassLabels, out);
  AddCounter("ferry_messages_received_total",
             "Messages accepted with 250 after they were written to the "
             "spool.",
             SumCounter(workers, &WorkerMetrics::messages_received), out);
  AddCounter("ferry_messages_received_bytes_total",
             "Content octets of the messages accepted with 250, before "
             "dot-stuffing and without ferry's Received: field.",
             SumCounter(workers, &WorkerMetrics::messages_received_bytes), out);
  AddByLabel(workers, &WorkerMetrics::messages_rejected,
             "ferry_messages_rejected_total",
             "Messages whose content was received but that got no 250, by "
             "reason.",
             "reason", kMessageRejectionLabels, out);
  AddByLabel(workers, &WorkerMetrics::recipients_rejected,
             "ferry_recipients_rejected_total",
             "RCPT TO commands rejected by the routing table: no_route "
             "(550 5.7.1, relay denied) or unknown_recipient (550 5.1.1).",
             "reason", kRecipientRejectionLabels, out);
  AddHistogram(workers, &WorkerMetrics::end_of_data_to_250, kLatencyBuckets,
               "ferry_end_of_data_to_250_seconds",
               "Time from receiving a message's end of data (CRLF.CRLF or "
               "the last BDAT chunk) to sending its 250 reply, which "
               "includes the spool's group commit.",
               out);
}

void AddDeliveryMetrics(const Workers& workers, std::vector<v1::Metric>* out) {
  AddByLabel(workers, &WorkerMetrics::deliveries, "ferry_deliveries_total",
             "Delivery attempts by outcome, one per recipient: delivered "
             "(2xx), deferred (4xx, timeout, connection failure), bounced "
             "(5xx) or expired (deferred past queue_lifetime).",
             "result", kDeliveryResultLabels, out);
  AddHistogram(workers, &WorkerMetrics::delivery_delay, kDeliveryDelayBuckets,
               "ferry_delivery_delay_seconds",
               "Time from a message's arrival to its delivery, per "
               "delivered recipient.",
               out);
}

void AddQueueMetrics(const Workers& workers, absl::Time now,
                     std::vector<v1::Metric>* out) {
  const char* state_help =
      " queued: due for delivery or being delivered; deferred: waiting "
      "for a retry after a temporary failure; held: held by an operator.";
  const std::string messages_help =
      std::string("Messages in the queue by state.") + state_help;
  const std::string bytes_help =
      std::string("Octets of message bodies in the queue by state.") +
      state_help;
  AddByLabel(workers, &WorkerMetrics::queue_messages, "ferry_queue_messages",
             messages_help.c_str(), "state", kQueueStateLabels, out);
  AddByLabel(workers, &WorkerMetrics::queue_bytes, "ferry_queue_bytes",
             bytes_help.c_str(), "state", kQueueStateLabels, out);
  int64_t oldest = 0;
  for (const auto& w : workers) {
    const int64_t arrival = w->oldest_arrival_unix_micros.Value();
    if (arrival != 0 && (oldest == 0 || arrival < oldest)) oldest = arrival;
  }
  const double age =
      oldest == 0
          ? 0.0
          : std::max(0.0,
                     absl::ToDoubleSeconds(now - absl::FromUnixMicros(oldest)));
  AddGauge("ferry_queue_oldest_message_age_seconds",
           "Age of the oldest message in the queue, in any state; 0 when "
           "the queue is empty.",
           age, out);
}

void AddSpoolMetrics(const Workers& workers, const std::string& spool_dir,
                     std::vector<v1::Metric>* out) {
  AddHistogram(workers, &WorkerMetrics::commit_records, kCommitRecordsBuckets,
               "ferry_spool_group_commit_records",
               "Records (messages and delivery outcomes) made durable by "
               "one fdatasync.",
               out);
  AddHistogram(workers, &WorkerMetrics::fdatasync_duration, kLatencyBuckets,
               "ferry_spool_fdatasync_duration_seconds",
               "Time one group commit's fdatasync of a spool segment took.",
               out);
  if (spool_dir.empty()) return;
  const SpoolUsage usage = MeasureSpool(spool_dir);
  AddGauge("ferry_spool_segment_bytes",
           "Size of the spool's segment files, spare ones included, "
           "measured at scrape time.",
           static_cast<double>(usage.segment_bytes), out);
  if (!usage.filesystem_known) return;
  AddGauge("ferry_spool_filesystem_free_bytes",
           "Space on the spool's file system still usable by ferryd "
           "(statvfs f_bavail times f_frsize), measured at scrape time.",
           static_cast<double>(usage.filesystem_free_bytes), out);
  AddGauge("ferry_spool_filesystem_size_bytes",
           "Size of the spool's file system (statvfs f_blocks times "
           "f_frsize).",
           static_cast<double>(usage.filesystem_size_bytes), out);
}

}  // namespace

Registry::Registry(std::string spool_dir) : spool_dir_(std::move(spool_dir)) {}

WorkerMetrics* Registry::AddWorker() {
  absl::MutexLock lock(&mutex_);
  workers_.push_back(std::make_unique<WorkerMetrics>());
  return workers_.back().get();
}

std::vector<v1::Metric> Registry::Collect() const {
  return Collect(absl::Now());
}

std::vector<v1::Metric> Registry::Collect(absl::Time now) const {
  std::vector<v1::Metric> out;
  absl::MutexLock lock(&mutex_);
  AddConnectionMetrics(workers_, &out);
  AddInboundMetrics(workers_, &out);
  AddDeliveryMetrics(workers_, &out);
  AddQueueMetrics(workers_, now, &out);
  AddSpoolMetrics(workers_, spool_dir_, &out);
  return out;
}

}  // namespace ferry::metrics
