#include "engine/server/queue_proto.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/base/absl_view.h"
#include "engine/base/error_quote.h"
#include "engine/spool/queue_id.h"

namespace ferry::server {
namespace {

constexpr absl::string_view kPageTokenPrefix = "q1.";

bool ValidDomain(absl::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
  }
  return true;
}

// Returns the lower-case pattern for `domain` ("example.net" or
// "*.example.net"), or InvalidArgument naming `field`.
absl::StatusOr<std::string> DomainPattern(const std::string& domain,
                                          absl::string_view field) {
  std::string pattern = absl::AsciiStrToLower(domain);
  const absl::string_view name = absl::StartsWith(pattern, "*.")
                                     ? absl::string_view(pattern).substr(2)
                                     : absl::string_view(pattern);
  if (!ValidDomain(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", QuoteForError(domain),
        " is not a domain; give one such as example.net, or *.example.net "
        "for its subdomains"));
  }
  return pattern;
}

absl::Status AddQueueIds(
    const google::protobuf::RepeatedPtrField<std::string>& queue_ids,
    absl::string_view field, QueueFilter* filter) {
  for (const std::string& queue_id : queue_ids) {
    absl::Status status =
        CheckQueueId(queue_id, std::string_view(field.data(), field.size()));
    if (!status.ok()) return status;
    filter->queue_ids.insert(queue_id);
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ToDuration(const google::protobuf::Duration& d,
                                          absl::string_view field) {
  const absl::Duration duration =
      absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
  if (duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is negative; give an age of 0 or more"));
  }
  return duration;
}

absl::StatusOr<std::optional<MessageState>> StateFromProto(
    v1::MessageState state) {
  switch (state) {
    case v1::MESSAGE_STATE_UNSPECIFIED:
      return std::optional<MessageState>();
    case v1::MESSAGE_STATE_QUEUED:
      return std::optional<MessageState>(MessageState::kQueued);
    case v1::MESSAGE_STATE_DEFERRED:
      return std::optional<MessageState>(MessageState::kDeferred);
    case v1::MESSAGE_STATE_HELD:
      return std::optional<MessageState>(MessageState::kHeld);
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("filter.state ", static_cast<int>(state),
                   " is not a message state; use QUEUED, DEFERRED or HELD"));
}

v1::MessageState StateToProto(MessageState state) {
  switch (state) {
    case MessageState::kQueued:
      return v1::MESSAGE_STATE_QUEUED;
    case MessageState::kDeferred:
      return v1::MESSAGE_STATE_DEFERRED;
    case MessageState::kHeld:
      return v1::MESSAGE_STATE_HELD;
  }
  return v1::MESSAGE_STATE_UNSPECIFIED;
}

v1::RecipientState RecipientStateToProto(const RecipientView& r) {
  using State = QueuedRecipient::State;
  switch (r.state) {
    case State::kPending:
    case State::kReady:
      return r.attempts > 0 ? v1::RECIPIENT_STATE_DEFERRED
                            : v1::RECIPIENT_STATE_PENDING;
    case State::kActive:
      return v1::RECIPIENT_STATE_ACTIVE;
    case State::kHeld:
      return v1::RECIPIENT_STATE_HELD;
    case State::kDelivered:
      return v1::RECIPIENT_STATE_DELIVERED;
    case State::kBounced:
      return v1::RECIPIENT_STATE_BOUNCED;
    case State::kDeleted:
      return v1::RECIPIENT_STATE_DELETED;
  }
  return v1::RECIPIENT_STATE_UNSPECIFIED;
}

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(time);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  if (out->nanos() < 0) {
    out->set_seconds(out->seconds() - 1);
    out->set_nanos(out->nanos() + 1000000000);
  }
}

void SetDuration(absl::Duration duration, google::protobuf::Duration* out) {
  const int64_t seconds = absl::ToInt64Seconds(duration);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(duration - absl::Seconds(seconds))));
}

}  // namespace

absl::Status CheckQueueId(std::string_view queue_id, std::string_view field) {
  if (spool::ParseQueueId(queue_id).ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(field), " ", QuoteForError(ToAbsl(queue_id)),
                   " is not a queue ID; queue IDs are 14 characters such as "
                   "CREH7RF426G000"));
}

absl::StatusOr<QueueFilter> FilterFromProto(const v1::QueueFilter& filter) {
  QueueFilter out;
  if (!filter.domain().empty()) {
    absl::StatusOr<std::string> pattern =
        DomainPattern(filter.domain(), "filter.domain");
    if (!pattern.ok()) return pattern.status();
    out.domains.push_back(*std::move(pattern));
  }

  if (!filter.recipient().empty()) {
    if (filter.recipient().find('@') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.recipient ", QuoteForError(filter.recipient()),
                       " is not an address; give one such as "
                       "bob@example.net"));
    }
    out.recipient = filter.recipient();
  }
  if (!filter.sender().empty()) {
    std::string sender = filter.sender();
    if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>') {
      sender = sender.substr(1, sender.size() - 2);
    }
    out.sender = std::move(sender);
  }

  absl::StatusOr<std::optional<MessageState>> state =
      StateFromProto(filter.state());
  if (!state.ok()) return state.status();
  out.state = *state;

  if (filter.has_min_age()) {
    absl::StatusOr<absl::Duration> age =
        ToDuration(filter.min_age(), "filter.min_age");
    if (!age.ok()) return age.status();
    out.min_age = *age;
  }
  if (filter.has_max_age()) {
    absl::StatusOr<absl::Duration> age =
        ToDuration(filter.max_age(), "filter.max_age");
    if (!age.ok()) return age.status();
    out.max_age = *age;
  }
  if (out.min_age > out.max_age) {
    return absl::InvalidArgumentError(
        "filter.min_age is above filter.max_age, so nothing can match");
  }

  absl::Status ids = AddQueueIds(filter.queue_id(), "filter.queue_id", &out);
  if (!ids.ok()) return ids;
  return out;
}

absl::StatusOr<QueueFilter> FilterFromSelector(
    const v1::QueueSelector& selector) {
  if (!selector.all() && selector.domain().empty() &&
      selector.queue_id().empty()) {
    return absl::InvalidArgumentError(
        "the request selects no messages; give queue IDs or a domain, or "
        "set all to act on the whole queue");
  }
  QueueFilter out;
  if (!selector.domain().empty()) {
    absl::StatusOr<std::string> pattern =
        DomainPattern(selector.domain(), "selector.domain");
    if (!pattern.ok()) return pattern.status();
    out.domains.push_back(*std::move(pattern));
  }
  absl::Status ids =
      AddQueueIds(selector.queue_id(), "selector.queue_id", &out);
  if (!ids.ok()) return ids;
  return out;
}

std::string EncodePageToken(const std::string& last_queue_id) {
  return absl::StrCat(kPageTokenPrefix,
                      absl::WebSafeBase64Escape(last_queue_id));
}

absl::StatusOr<std::string> DecodePageToken(const std::string& token) {
  if (token.empty()) return std::string();
  std::string queue_id;
  if (!absl::StartsWith(token, kPageTokenPrefix) ||
      !absl::WebSafeBase64Unescape(
          absl::string_view(token).substr(kPageTokenPrefix.size()),
          &queue_id) ||
      !spool::ParseQueueId(queue_id).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token ", QuoteForError(token),
                     " is not a token from a ListQueue reply; start again "
                     "without one"));
  }
  return queue_id;
}

v1::QueuedMessage MessageToProto(const MessageView& view) {
  v1::QueuedMessage out;
  out.set_queue_id(view.queue_id);
  out.set_sender(view.sender);
  out.set_state(StateToProto(view.state));
  out.set_size(view.size);
  SetTimestamp(view.arrival, out.mutable_received());
  out.set_client(absl::StrCat("[", view.client_ip, "]"));
  out.set_attempts(view.attempts);
  if (view.next_attempt != absl::InfinitePast()) {
    SetTimestamp(view.next_attempt, out.mutable_next_attempt());
  }
  out.set_worker(static_cast<uint32_t>(view.worker));
  for (const RecipientView& r : view.recipients) {
    v1::RecipientStatus* status = out.add_recipient();
    status->set_address(r.address);
    status->set_state(RecipientStateToProto(r));
    status->set_attempts(r.attempts);
    status->set_last_reply(r.last_reply);
    if (r.next_attempt != absl::InfinitePast()) {
      SetTimestamp(r.next_attempt, status->mutable_next_attempt());
    }
  }
  return out;
}

v1::QueueSummaryResponse SummaryToProto(const QueueSummary& summary) {
  v1::QueueSummaryResponse out;
  const std::vector<absl::Duration> bounds = SummaryBucketBounds();
  for (absl::Duration bound : bounds) {
    SetDuration(bound, out.add_bucket_bound());
  }
  const size_t buckets = bounds.size() + 1;
  v1::QueueSummaryResponse::Row all;
  all.set_domain("TOTAL");
  all.mutable_count()->Resize(static_cast<int>(buckets), 0);

  std::vector<v1::QueueSummaryResponse::Row> rows;
  for (const auto& [domain, counts] : summary.rows) {
    v1::QueueSummaryResponse::Row& row = rows.emplace_back();
    row.set_domain(domain);
    uint64_t total = 0;
    for (size_t i = 0; i < buckets; ++i) {
      const uint64_t count = i < counts.size() ? counts[i] : 0;
      row.add_count(count);
      all.set_count(static_cast<int>(i),
                    all.count(static_cast<int>(i)) + count);
      total += count;
    }
    row.set_total(total);
    all.set_total(all.total() + total);
  }

  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.total() != b.total()) return a.total() > b.total();
    return a.domain() < b.domain();
  });
  for (v1::QueueSummaryResponse::Row& row : rows) {
    *out.add_row() = std::move(row);
  }
  *out.mutable_all() = std::move(all);
  return out;
}

}  // namespace ferry::server
