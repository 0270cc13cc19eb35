// Queue queries: the plain values that operator requests (list, show,
// flush, hold, release, delete, bounce, summary) and ETRN pass between the
// control thread and the workers. A QueueFilter is built on the calling
// thread and copied to every worker; each worker answers with views that
// it copies out of its queue, so that no reference into a worker's state
// crosses threads.
#ifndef FERRY_ENGINE_SERVER_QUEUE_QUERY_H_
#define FERRY_ENGINE_SERVER_QUEUE_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "engine/server/queued_message.h"

namespace ferry::server {

// A message's state as the admin API shows it.
enum class MessageState {
  kQueued,    // no recipient has had a failed attempt yet
  kDeferred,  // a recipient that is not held had a failed attempt
  kHeld,      // every recipient that is not final is held
};

// Returns the state of `message`, which has at least one recipient that
// is not final.
MessageState StateOf(const QueuedMessage& message);

// Returns true iff `domain` (lower case) matches `pattern` (lower case):
// "example.net" matches only itself, and "*.example.net" matches every
// subdomain of example.net but not example.net.
bool DomainMatches(std::string_view pattern, std::string_view domain);

// Selection criteria of a request: messages, and recipients within them.
// Every criterion that is set must match. A message matches when its own
// criteria match and at least one of its recipients is selected.
struct QueueFilter {
  // Lower-case domain patterns (see DomainMatches); a recipient is
  // selected when its domain matches any of them. Empty: every domain.
  std::vector<std::string> domains;
  // A recipient address, compared without regard to case. Empty: any.
  std::string recipient;
  // The sender, compared without regard to case; "" selects the null
  // sender <>. Unset: any.
  std::optional<std::string> sender;
  std::optional<MessageState> state;
  // Age bounds (now - arrival), both inclusive.
  absl::Duration min_age = absl::ZeroDuration();
  absl::Duration max_age = absl::InfiniteDuration();
  // Empty: any queue ID.
  absl::flat_hash_set<std::string> queue_ids;
  // For ETRN: only recipients whose route lists this client address in
  // its etrn_client networks. The worker checks it against its routing
  // table, because the filter has none.
  std::optional<std::string> etrn_client;

  // True iff recipient `index` of `message` is not final and matches
  // `domains` and `recipient`. Does not check etrn_client.
  bool SelectsRecipient(const QueuedMessage& message, size_t index) const;

  // True iff the message's own criteria match at `now` and
  // SelectsRecipient() holds for at least one of its recipients.
  bool Matches(const QueuedMessage& message, absl::Time now) const;
};

struct RecipientView {
  std::string address;
  QueuedRecipient::State state = QueuedRecipient::State::kPending;
  uint32_t attempts = 0;
  std::string last_reply;
  // When the timer list releases it; InfinitePast() when no time applies
  // (ready, in an attempt, held or final).
  absl::Time next_attempt = absl::InfinitePast();
};

// A copy of one worker's state of one message.
struct MessageView {
  std::string queue_id;
  std::string sender;  // "" for the null sender
  MessageState state = MessageState::kQueued;
  uint64_t size = 0;  // content octets in transfer form
  absl::Time arrival;
  std::string client_ip;
  uint32_t attempts = 0;  // over all recipients
  // The earliest next attempt of a recipient in the timer list;
  // InfinitePast() when none waits there.
  absl::Time next_attempt = absl::InfinitePast();
  int worker = 0;
  std::vector<RecipientView> recipients;
};

// Returns the view of `message`, which belongs to worker `worker`.
MessageView MakeMessageView(const QueuedMessage& message, int worker);

// One worker's share of a list request. Messages are listed in queue ID
// order, which is arrival order (see engine/spool/queue_id.h).
struct QueuePage {
  uint64_t total = 0;  // messages that match, before and after the cursor
  uint64_t after_cursor = 0;  // messages that match after the cursor
  // Views of the first `limit` matching messages after the cursor, in
  // queue ID order.
  std::vector<MessageView> messages;
};

// Counts of what an action did on one worker, or on all of them summed.
struct ActionCounts {
  uint64_t messages = 0;    // messages with at least one recipient acted on
  uint64_t recipients = 0;  // recipients acted on at once
  // Recipients in a delivery attempt when the request came. A hold,
  // delete or bounce applies to them when the attempt ends, unless the
  // attempt delivers them (or bounces them, for a hold or a bounce).
  uint64_t in_flight = 0;
  // Recipients acted on whose outcome record could not be written to the
  // spool: the action is in effect until a restart, which undoes it.
  uint64_t unrecorded = 0;

  void Add(const ActionCounts& other);
};

// Upper bounds of the summary's age buckets: 5, 10, 20, ... 1280 minutes.
// A last bucket without a bound follows them.
std::vector<absl::Duration> SummaryBucketBounds();

// Returns the index of the bucket for a recipient of a message that is
// `age` old: 0 for at most 5 minutes, ..., bounds.size() for the oldest.
size_t SummaryBucket(absl::Duration age);

// Recipients that are not final, per destination domain, by age bucket.
struct QueueSummary {
  // domain -> one count per bucket (SummaryBucketBounds().size() + 1)
  absl::flat_hash_map<std::string, std::vector<uint64_t>> rows;

  // Adds `other`'s counts to these.
  void Add(const QueueSummary& other);
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_QUEUE_QUERY_H_
