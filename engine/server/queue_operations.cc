// DeliveryQueue's operator requests and ETRN: list, show, flush, hold,
// release, delete, bounce and summary on one worker's queue. Each request
// changes the in-memory state at once, on the worker's thread, so that no
// timer or outbound connection sees a half-applied action. Then it writes
// the outcome records (and spools the DSNs) and reports when they are
// durable.
#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "engine/base/log.h"
#include "engine/delivery/outcome.h"
#include "engine/server/delivery_queue.h"

namespace ferry::server {

using State = QueuedRecipient::State;
using PendingAction = QueuedRecipient::PendingAction;

// The recipients of one message that a request selected, and what an
// action wrote for them.
struct DeliveryQueue::Selection {
  std::shared_ptr<QueuedMessage> message;
  std::vector<size_t> recipients;
  std::vector<spool::Outcome> outcomes;
  std::vector<BouncedRecipient> bounced;
  // Held recipients to schedule once the release record is durable.
  std::vector<size_t> released;
};

// Counts the messages of one action whose records are still being written,
// and reports the action's counts once the last one is durable.
class DeliveryQueue::ActionProgress {
 public:
  ActionProgress(size_t messages, ActionCounts counts, ActionDone done)
      : remaining_(messages), counts_(counts), done_(std::move(done)) {}

  void MessageDone(bool recorded, size_t records) {
    if (!recorded) counts_.unrecorded += records;
    if (--remaining_ == 0) done_(counts_);
  }

 private:
  size_t remaining_;
  ActionCounts counts_;
  ActionDone done_;
};

std::vector<DeliveryQueue::Selection> DeliveryQueue::Select(
    const QueueFilter& filter, absl::Time now) {
  std::shared_ptr<const route::RouteTable> table;
  if (filter.etrn_client.has_value()) table = context_->routes->Load();
  std::vector<Selection> selections;
  for (const auto& [queue_id, message] : messages_) {
    if (!filter.Matches(*message, now)) continue;
    Selection selection;
    selection.message = message;
    for (size_t i = 0; i < message->recipients.size(); ++i) {
      if (!filter.SelectsRecipient(*message, i)) continue;
      if (table != nullptr && !table->AllowsEtrn(message->recipients[i].domain,
                                                 *filter.etrn_client)) {
        continue;
      }
      selection.recipients.push_back(i);
    }
    if (!selection.recipients.empty()) {
      selections.push_back(std::move(selection));
    }
  }
  return selections;
}

void DeliveryQueue::RemoveWaitingJobs() {
  // Keeps the job's recipients that are still in `state`; returns false
  // when none is left.
  auto keep = [](DeliveryJob& job, State state) {
    std::erase_if(job.recipients, [&](size_t i) {
      return job.message->recipients[i].state != state;
    });
    return !job.recipients.empty();
  };
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    it =
        keep(it->second, State::kPending) ? std::next(it) : deferred_.erase(it);
  }
  for (auto it = destinations_.begin(); it != destinations_.end();) {
    Destination& dest = it->second;
    std::erase_if(dest.ready,
                  [&](DeliveryJob& job) { return !keep(job, State::kReady); });
    if (dest.ready.empty() && dest.connections == 0) {
      destinations_.erase(it++);
    } else {
      ++it;
    }
  }
}

void DeliveryQueue::PersistAction(std::vector<Selection> selections,
                                  ActionCounts counts, ActionDone done) {
  std::erase_if(selections,
                [](const Selection& s) { return s.outcomes.empty(); });
  if (selections.empty()) {
    done(counts);
    return;
  }
  auto progress = std::make_shared<ActionProgress>(selections.size(), counts,
                                                   std::move(done));
  for (Selection& s : selections) {
    io::Spawn(PersistMessage(std::move(s), progress));
  }
}

io::Task<void> DeliveryQueue::PersistMessage(
    Selection selection, std::shared_ptr<ActionProgress> progress) {
  std::shared_ptr<QueuedMessage> message = std::move(selection.message);
  // As in Complete(): the DSN first, so that a crash can repeat it but
  // never lose it.
  if (!selection.bounced.empty()) {
    co_await SendBounce(message, std::move(selection.bounced));
  }
  const bool recorded = co_await AppendOutcomes(*message, selection.outcomes);
  // Scheduled only now, so that the outcome records of their next attempt
  // follow the release record in the spool, where the latest record wins.
  // A recipient deleted or bounced meanwhile is no longer held.
  std::erase_if(selection.released, [&](size_t i) {
    return message->recipients[i].state != State::kHeld;
  });
  if (!selection.released.empty()) {
    EnqueueByDomain(message, selection.released);
  }
  if (message->finished() && !message->removed) {
    message->removed = true;
    co_await Finish(message);
  }
  progress->MessageDone(recorded, selection.outcomes.size());
}

// ---- Reading ----

QueuePage DeliveryQueue::ListMessages(const QueueFilter& filter,
                                      const std::string& after, size_t limit,
                                      absl::Time now) {
  QueuePage page;
  std::vector<const QueuedMessage*> candidates;
  for (const auto& [queue_id, message] : messages_) {
    if (!filter.Matches(*message, now)) continue;
    ++page.total;
    if (queue_id > after) candidates.push_back(message.get());
  }
  page.after_cursor = candidates.size();
  const size_t count = std::min(limit, candidates.size());
  auto by_queue_id = [](const QueuedMessage* a, const QueuedMessage* b) {
    return a->envelope.queue_id < b->envelope.queue_id;
  };
  std::partial_sort(candidates.begin(), candidates.begin() + count,
                    candidates.end(), by_queue_id);
  for (size_t i = 0; i < count; ++i) {
    page.messages.push_back(MakeMessageView(*candidates[i], context_->index));
  }
  return page;
}

std::optional<MessageView> DeliveryQueue::FindMessage(
    const std::string& queue_id) const {
  auto it = messages_.find(queue_id);
  if (it == messages_.end()) return std::nullopt;
  return MakeMessageView(*it->second, context_->index);
}

QueueSummary DeliveryQueue::Summarize(absl::Time now) const {
  QueueSummary summary;
  const size_t buckets = SummaryBucketBounds().size() + 1;
  for (const auto& [queue_id, message] : messages_) {
    const size_t bucket = SummaryBucket(now - message->arrival);
    for (const QueuedRecipient& r : message->recipients) {
      if (r.final()) continue;
      std::vector<uint64_t>& row = summary.rows[r.domain];
      row.resize(buckets);
      ++row[bucket];
    }
  }
  return summary;
}

// ---- Actions ----

void DeliveryQueue::Flush(const QueueFilter& filter, ActionDone done) {
  ActionCounts counts;
  std::vector<Selection> selections = Select(filter, absl::Now());
  for (Selection& s : selections) {
    std::erase_if(s.recipients, [&](size_t i) {
      return s.message->recipients[i].state != State::kPending;
    });
    // Marked so that RemoveWaitingJobs() takes them out of the timer list.
    for (size_t i : s.recipients)
      s.message->recipients[i].state = State::kReady;
  }
  RemoveWaitingJobs();
  for (Selection& s : selections) {
    if (s.recipients.empty()) continue;
    ++counts.messages;
    counts.recipients += s.recipients.size();
    EnqueueByDomain(s.message, s.recipients);
  }
  if (counts.recipients > 0) {
    LogInfo("", "event=flush messages=", counts.messages,
            " recipients=", counts.recipients);
  }
  done(counts);
}

void DeliveryQueue::Hold(const QueueFilter& filter, ActionDone done) {
  const absl::Time now = absl::Now();
  ActionCounts counts;
  std::vector<Selection> selections = Select(filter, now);
  for (Selection& s : selections) {
    QueuedMessage& message = *s.message;
    for (size_t i : s.recipients) {
      QueuedRecipient& r = message.recipients[i];
      if (r.state == State::kActive) {
        r.pending_action = PendingAction::kHold;
        ++counts.in_flight;
      } else if (r.state == State::kPending || r.state == State::kReady) {
        r.state = State::kHeld;
        s.outcomes.push_back(
            MakeOutcome(message, i, spool::Outcome::kHeld, now));
      }
    }
    if (s.outcomes.empty()) continue;
    ++counts.messages;
    counts.recipients += s.outcomes.size();
    gauges_.Update(&message);
    LogInfo(message.envelope.queue_id,
            "event=held recipients=", s.outcomes.size());
  }
  RemoveWaitingJobs();
  PersistAction(std::move(selections), counts, std::move(done));
}

void DeliveryQueue::Release(const QueueFilter& filter, ActionDone done) {
  const absl::Time now = absl::Now();
  ActionCounts counts;
  std::vector<Selection> selections = Select(filter, now);
  for (Selection& s : selections) {
    QueuedMessage& message = *s.message;
    std::vector<size_t>& released = s.released;
    size_t cancelled = 0;
    for (size_t i : s.recipients) {
      QueuedRecipient& r = message.recipients[i];
      if (r.state == State::kActive &&
          r.pending_action == PendingAction::kHold) {
        r.pending_action = PendingAction::kNone;
        ++cancelled;
      } else if (r.state == State::kHeld) {
        spool::Outcome outcome =
            MakeOutcome(message, i, spool::Outcome::kDeferred, now);
        outcome.next_attempt_unix_micros = absl::ToUnixMicros(now);
        s.outcomes.push_back(std::move(outcome));
        released.push_back(i);
      }
    }
    if (released.empty() && cancelled == 0) continue;
    ++counts.messages;
    counts.recipients += released.size() + cancelled;
    LogInfo(message.envelope.queue_id,
            "event=released recipients=", released.size() + cancelled);
  }
  PersistAction(std::move(selections), counts, std::move(done));
}

void DeliveryQueue::Delete(const QueueFilter& filter, ActionDone done) {
  const absl::Time now = absl::Now();
  ActionCounts counts;
  std::vector<Selection> selections = Select(filter, now);
  for (Selection& s : selections) {
    QueuedMessage& message = *s.message;
    for (size_t i : s.recipients) {
      QueuedRecipient& r = message.recipients[i];
      if (r.state == State::kActive) {
        r.pending_action = PendingAction::kDelete;
        ++counts.in_flight;
        continue;
      }
      r.state = State::kDeleted;
      s.outcomes.push_back(
          MakeOutcome(message, i, spool::Outcome::kDeleted, now));
      LogInfo(message.envelope.queue_id, "to=<",
              LogQuote(message.envelope.recipients[i].address),
              "> status=deleted reason=operator_request");
    }
    if (s.outcomes.empty()) continue;
    ++counts.messages;
    counts.recipients += s.outcomes.size();
    gauges_.Update(&message);
  }
  RemoveWaitingJobs();
  PersistAction(std::move(selections), counts, std::move(done));
}

void DeliveryQueue::Bounce(const QueueFilter& filter, ActionDone done) {
  const absl::Time now = absl::Now();
  ActionCounts counts;
  std::vector<Selection> selections = Select(filter, now);
  for (Selection& s : selections) {
    QueuedMessage& message = *s.message;
    for (size_t i : s.recipients) {
      QueuedRecipient& r = message.recipients[i];
      if (r.state == State::kActive) {
        r.pending_action = PendingAction::kBounce;
        ++counts.in_flight;
        continue;
      }
      const delivery::Outcome bounce = delivery::OperatorBounce(r.last_reply);
      CountOutcome(bounce, now - message.arrival);
      r.state = State::kBounced;
      r.last_reply = bounce.diagnostic;
      s.outcomes.push_back(
          MakeOutcome(message, i, spool::Outcome::kBounced, now));
      s.bounced.push_back(BouncedRecipient{i, bounce, ""});
      LogInfo(message.envelope.queue_id, "to=<",
              LogQuote(message.envelope.recipients[i].address),
              "> attempts=", r.attempts, " dsn=", bounce.status,
              " status=bounced reason=operator_request");
    }
    if (s.outcomes.empty()) continue;
    ++counts.messages;
    counts.recipients += s.outcomes.size();
    gauges_.Update(&message);
  }
  RemoveWaitingJobs();
  PersistAction(std::move(selections), counts, std::move(done));
}

}  // namespace ferry::server
