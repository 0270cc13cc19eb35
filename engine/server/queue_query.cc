#include "engine/server/queue_query.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace ferry::server {
namespace {

constexpr int kSummaryBuckets = 9;
constexpr absl::Duration kFirstSummaryBound = absl::Minutes(5);

bool Waiting(const QueuedRecipient& r) {
  return !r.final() && r.state != QueuedRecipient::State::kHeld;
}

}  // namespace

MessageState StateOf(const QueuedMessage& message) {
  bool waiting = false;
  bool failed = false;
  for (const QueuedRecipient& r : message.recipients) {
    if (!Waiting(r)) continue;
    waiting = true;
    if (r.attempts > 0) failed = true;
  }
  if (!waiting) return MessageState::kHeld;
  return failed ? MessageState::kDeferred : MessageState::kQueued;
}

bool DomainMatches(std::string_view pattern, std::string_view domain) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    const std::string_view parent = pattern.substr(1);  // ".example.net"
    return domain.size() > parent.size() &&
           domain.substr(domain.size() - parent.size()) == parent;
  }
  return pattern == domain;
}

bool QueueFilter::SelectsRecipient(const QueuedMessage& message,
                                   size_t index) const {
  const QueuedRecipient& r = message.recipients[index];
  if (r.final()) return false;
  if (!domains.empty() && std::none_of(domains.begin(), domains.end(),
                                       [&](const std::string& pattern) {
                                         return DomainMatches(pattern,
                                                              r.domain);
                                       })) {
    return false;
  }
  return recipient.empty() ||
         absl::EqualsIgnoreCase(message.envelope.recipients[index].address,
                                recipient);
}

bool QueueFilter::Matches(const QueuedMessage& message, absl::Time now) const {
  const spool::Envelope& envelope = message.envelope;
  if (!queue_ids.empty() && !queue_ids.contains(envelope.queue_id)) {
    return false;
  }
  if (sender.has_value()) {
    const bool match =
        sender->empty() ? envelope.null_sender
                        : !envelope.null_sender &&
                              absl::EqualsIgnoreCase(envelope.sender, *sender);
    if (!match) return false;
  }
  const absl::Duration age = now - message.arrival;
  if (age < min_age || age > max_age) return false;
  if (state.has_value() && StateOf(message) != *state) return false;
  for (size_t i = 0; i < message.recipients.size(); ++i) {
    if (SelectsRecipient(message, i)) return true;
  }
  return false;
}

MessageView MakeMessageView(const QueuedMessage& message, int worker) {
  const spool::Envelope& envelope = message.envelope;
  MessageView view;
  view.queue_id = envelope.queue_id;
  view.sender = envelope.null_sender ? "" : envelope.sender;
  view.state = StateOf(message);
  view.size = envelope.received_header.size() + message.body.size();
  view.arrival = message.arrival;
  view.client_ip = envelope.client_ip;
  view.worker = worker;
  absl::Time next = absl::InfiniteFuture();
  for (size_t i = 0; i < message.recipients.size(); ++i) {
    const QueuedRecipient& r = message.recipients[i];
    RecipientView& out = view.recipients.emplace_back();
    out.address = envelope.recipients[i].address;
    out.state = r.state;
    out.attempts = r.attempts;
    out.last_reply = r.last_reply;
    if (r.state == QueuedRecipient::State::kPending) {
      out.next_attempt = r.next_attempt;
      next = std::min(next, r.next_attempt);
    }
    view.attempts += r.attempts;
  }
  if (next != absl::InfiniteFuture()) view.next_attempt = next;
  return view;
}

void ActionCounts::Add(const ActionCounts& other) {
  messages += other.messages;
  recipients += other.recipients;
  in_flight += other.in_flight;
  unrecorded += other.unrecorded;
}

std::vector<absl::Duration> SummaryBucketBounds() {
  std::vector<absl::Duration> bounds;
  absl::Duration bound = kFirstSummaryBound;
  for (int i = 0; i < kSummaryBuckets; ++i) {
    bounds.push_back(bound);
    bound *= 2;
  }
  return bounds;
}

size_t SummaryBucket(absl::Duration age) {
  absl::Duration bound = kFirstSummaryBound;
  for (int i = 0; i < kSummaryBuckets; ++i) {
    if (age <= bound) return static_cast<size_t>(i);
    bound *= 2;
  }
  return kSummaryBuckets;
}

void QueueSummary::Add(const QueueSummary& other) {
  for (const auto& [domain, counts] : other.rows) {
    std::vector<uint64_t>& row = rows[domain];
    row.resize(std::max(row.size(), counts.size()));
    for (size_t i = 0; i < counts.size(); ++i) row[i] += counts[i];
  }
}

}  // namespace ferry::server
