// WorkerMetrics: the counters, gauges and histograms of one worker.
//
// Owned by the Registry, which hands one to each worker at start and keeps
// it until the process exits, so the values outlive the worker and a final
// scrape still sees them. Every value is written only by its worker's
// thread (relaxed single-writer atomics, see counter.h and histogram.h),
// except `destination_connections`, which has its own mutex. The scraper
// thread reads all of them through Registry::Collect().
//
// Queue gauges are kept current by the worker on each change of a
// message's state (see engine/server/queue_gauges.h) rather than computed
// at scrape time, because a scrape would otherwise have to wait for every
// worker's ring to answer.
#ifndef FERRY_ENGINE_METRICS_WORKER_METRICS_H_
#define FERRY_ENGINE_METRICS_WORKER_METRICS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/metrics/counter.h"
#include "engine/metrics/destination_connections.h"
#include "engine/metrics/histogram.h"

namespace ferry::metrics {

// Values of one metric, one per value of its label, indexed by an enum
// whose enumerators run from 0 to N - 1.
template <typename Value, typename Label, size_t N>
class ByLabel {
 public:
  using value_type = Value;
  static constexpr size_t kSize = N;
  Value& operator[](Label label) { return values_[static_cast<size_t>(label)]; }
  const Value& at(size_t index) const { return values_[index]; }

 private:
  std::array<Value, N> values_;
};

// result label of ferry_inbound_connections_total.
enum class InboundResult {
  kAccepted,
  kRejectedMaxConnections,
  kRejectedMaxConnectionsPerAddress,
};
inline constexpr std::array<const char*, 3> kInboundResultLabels = {
    "accepted", "rejected_max_connections",
    "rejected_max_connections_per_address"};

// class label of ferry_smtp_replies_total: the first digit of the code.
enum class ReplyClass { k2xx, k3xx, k4xx, k5xx };
inline constexpr std::array<const char*, 4> kReplyClassLabels = {"2xx", "3xx",
                                                                 "4xx", "5xx"};

// reason label of ferry_messages_rejected_total: why a message whose
// content was received did not get a 250.
enum class MessageRejection {
  kMessageTooLarge,    // 552 5.3.4: over max_message_size
  kBareLineEnding,     // 550 5.6.0 under BARE_LINE_ENDING_REJECT
  kMailLoop,           // 554 5.4.6: max_received_headers reached
  kMaxReceivingBytes,  // 421 4.3.2: the worker's max_receiving_bytes
  kSpoolFull,          // 452 4.3.1
  kSpoolUnavailable,   // 451 4.3.0
};
inline constexpr std::array<const char*, 6> kMessageRejectionLabels = {
    "message_too_large",   "bare_line_ending", "mail_loop",
    "max_receiving_bytes", "spool_full",       "spool_unavailable"};

// reason label of ferry_recipients_rejected_total (RCPT TO).
enum class RecipientRejection { kNoRoute, kUnknownRecipient };
inline constexpr std::array<const char*, 2> kRecipientRejectionLabels = {
    "no_route", "unknown_recipient"};

// result label of ferry_outbound_connections_total: one per next hop
// address tried (resolve_failed: one per next hop name).
enum class OutboundResult {
  kConnected,
  kConnectFailed,
  kSessionFailed,  // the greeting or EHLO/HELO failed
  kResolveFailed,
};
inline constexpr std::array<const char*, 4> kOutboundResultLabels = {
    "connected", "connect_failed", "session_failed", "resolve_failed"};

// result label of ferry_deliveries_total: one per recipient attempt.
enum class DeliveryResult { kDelivered, kDeferred, kBounced, kExpired };
inline constexpr std::array<const char*, 4> kDeliveryResultLabels = {
    "delivered", "deferred", "bounced", "expired"};

// state label of the queue gauges (admin API MessageState).
enum class QueueState { kQueued, kDeferred, kHeld };
inline constexpr std::array<const char*, 3> kQueueStateLabels = {
    "queued", "deferred", "held"};

// Bucket layouts.
extern const HistogramBuckets kLatencyBuckets;        // nanoseconds
extern const HistogramBuckets kDeliveryDelayBuckets;  // nanoseconds
extern const HistogramBuckets kCommitRecordsBuckets;  // records

struct WorkerMetrics {
  // Inbound, written by the accept loop and inbound sessions.
  Gauge inbound_connections;
  ByLabel<Counter, InboundResult, 3> inbound_connections_total;
  ByLabel<Counter, ReplyClass, 4> smtp_replies;
  Counter messages_received;
  Counter messages_received_bytes;  // content octets, unstuffed
  ByLabel<Counter, MessageRejection, 6> messages_rejected;
  ByLabel<Counter, RecipientRejection, 2> recipients_rejected;
  // From the end-of-data line (or last BDAT chunk) received to the 250
  // reply sent, in nanoseconds.
  Histogram end_of_data_to_250{&kLatencyBuckets};

  // Delivery, written by the delivery queue and outbound connections.
  Gauge outbound_connections;
  ByLabel<Counter, OutboundResult, 4> outbound_connections_total;
  ByLabel<Counter, DeliveryResult, 4> deliveries;
  // From arrival to the next hop's 2xx, per delivered recipient, in ns.
  Histogram delivery_delay{&kDeliveryDelayBuckets};
  DestinationConnections destination_connections;

  // Queue, written by the delivery queue.
  ByLabel<Gauge, QueueState, 3> queue_messages;
  ByLabel<Gauge, QueueState, 3> queue_bytes;  // transfer-form body octets
  // Arrival of the oldest message in the queue (any state), Unix
  // microseconds; 0 while the queue is empty.
  Gauge oldest_arrival_unix_micros;

  // Spool, written by the worker's spool writers.
  Histogram commit_records{&kCommitRecordsBuckets};  // records per fdatasync
  Histogram fdatasync_duration{&kLatencyBuckets};    // nanoseconds
};

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_WORKER_METRICS_H_
