#include "engine/server/delivery_queue.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/log.h"
#include "engine/delivery/backoff.h"
#include "engine/server/bounce.h"
#include "engine/server/outbound.h"
#include "engine/spool/spool_writer.h"

namespace ferry::server {
namespace {

// How often deferred jobs are checked for being due.
constexpr absl::Duration kTimerTick = absl::Milliseconds(200);

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

std::string FormatDelay(absl::Duration d) {
  return absl::StrFormat("%.2f", absl::ToDoubleSeconds(d));
}

const char* StatusWord(delivery::DeliveryState state) {
  switch (state) {
    case delivery::DeliveryState::kDelivered:
      return "sent";
    case delivery::DeliveryState::kDeferred:
      return "deferred";
    case delivery::DeliveryState::kBounced:
      return "bounced";
  }
  return "deferred";
}

}  // namespace

std::string RecipientDomain(const std::string& address) {
  const size_t at = address.rfind('@');
  if (at == std::string::npos) return "";
  return absl::AsciiStrToLower(address.substr(at + 1));
}

DeliveryQueue::DeliveryQueue(WorkerContext* context)
    : context_(context), gauges_(context->metrics) {}

void DeliveryQueue::SetSpoolDirectories(
    std::vector<std::unique_ptr<SpoolDirectory>> dirs) {
  dirs_ = std::move(dirs);
}

void DeliveryQueue::Add(std::shared_ptr<QueuedMessage> message) {
  const auto [slot, inserted] =
      messages_.try_emplace(message->envelope.queue_id, message);
  if (!inserted) {
    // Still delivered, but operator requests do not find this copy.
    LogWarning(message->envelope.queue_id, "event=duplicate_queue_id");
  }
  gauges_.Add(message.get());
  // Held recipients wait for a release.
  std::vector<size_t> due;
  for (size_t i = 0; i < message->recipients.size(); ++i) {
    const QueuedRecipient& r = message->recipients[i];
    if (!r.final() && r.state != QueuedRecipient::State::kHeld) {
      due.push_back(i);
    }
  }
  EnqueueByDomain(std::move(message), due);
}

void DeliveryQueue::EnqueueByDomain(std::shared_ptr<QueuedMessage> message,
                                    const std::vector<size_t>& recipients) {
  // One job per destination, in the order recipients were given.
  std::vector<DeliveryJob> jobs;
  for (size_t i : recipients) {
    const std::string& domain = message->recipients[i].domain;
    auto it = std::find_if(jobs.begin(), jobs.end(), [&](const DeliveryJob& j) {
      return message->recipients[j.recipients[0]].domain == domain;
    });
    if (it == jobs.end()) {
      jobs.push_back(DeliveryJob{message, {i}});
    } else {
      it->recipients.push_back(i);
    }
  }
  for (DeliveryJob& job : jobs) Enqueue(std::move(job));
}

void DeliveryQueue::Enqueue(DeliveryJob job) {
  const std::string domain = job.message->recipients[job.recipients[0]].domain;
  for (size_t i : job.recipients) {
    job.message->recipients[i].state = QueuedRecipient::State::kReady;
  }
  gauges_.Update(job.message.get());
  destinations_[domain].ready.push_back(std::move(job));
  Kick(domain);
}

void DeliveryQueue::Schedule(DeliveryJob job, absl::Time when) {
  QueuedMessage& message = *job.message;
  for (size_t i : job.recipients) {
    message.recipients[i].state = QueuedRecipient::State::kPending;
    message.recipients[i].next_attempt = when;
  }
  gauges_.Update(&message);
  // A deferred message may wait for days, so it keeps only the bytes it
  // needs. Not while a job for another destination is active: that job may
  // be sending the body from the chunks that Compact() frees.
  const bool active =
      std::any_of(message.recipients.begin(), message.recipients.end(),
                  [](const QueuedRecipient& r) {
                    return r.state == QueuedRecipient::State::kActive;
                  });
  if (!active) message.body.Compact();
  deferred_.emplace(when, std::move(job));
}

void DeliveryQueue::Kick(const std::string& domain) {
  const uint32_t limit = context_->settings->max_connections_per_destination;
  while (!context_->stopping) {
    // Looked up again on each turn: a spawned connection runs until it
    // first waits, and may add destinations (which moves map entries) or
    // finish and erase this one before Spawn() returns.
    auto it = destinations_.find(domain);
    if (it == destinations_.end()) return;
    Destination& dest = it->second;
    // An idle connection is already open: it takes a job sooner and
    // cheaper than a new one.
    while (!dest.idle.empty() && dest.ready.size() > dest.waking) Wake(dest);
    if (dest.connections >= limit || dest.ready.size() <= dest.connections) {
      return;
    }
    ++dest.connections;
    ++active_connections_;
    context_->metrics->outbound_connections.Add(1);
    context_->metrics->destination_connections.Opened(domain);
    io::Spawn(RunOutbound(context_, domain));
  }
}

std::optional<DeliveryJob> DeliveryQueue::NextJob(const std::string& domain) {
  auto it = destinations_.find(domain);
  if (it == destinations_.end() || it->second.ready.empty()) {
    return std::nullopt;
  }
  DeliveryJob job = std::move(it->second.ready.front());
  it->second.ready.pop_front();
  for (size_t i : job.recipients) {
    job.message->recipients[i].state = QueuedRecipient::State::kActive;
  }
  return job;
}

void DeliveryQueue::ConnectionClosed(const std::string& domain) {
  --active_connections_;
  context_->metrics->outbound_connections.Add(-1);
  context_->metrics->destination_connections.Closed(domain);
  auto it = destinations_.find(domain);
  if (it == destinations_.end()) return;
  --it->second.connections;
  if (!it->second.ready.empty()) {
    Kick(domain);
  } else if (it->second.connections == 0) {
    destinations_.erase(it);
  }
}

void DeliveryQueue::Wake(Destination& dest) {
  IdleConnection* connection = dest.idle.back();
  dest.idle.pop_back();
  connection->woken = true;
  ++dest.waking;
  context_->ring->Cancel(connection->wait);
}

void DeliveryQueue::AddIdleConnection(const std::string& domain,
                                      IdleConnection* connection) {
  destinations_[domain].idle.push_back(connection);
}

void DeliveryQueue::EndIdle(const std::string& domain,
                            IdleConnection* connection) {
  auto it = destinations_.find(domain);
  if (it == destinations_.end()) return;
  Destination& dest = it->second;
  if (connection->woken) {
    --dest.waking;
  } else {
    std::erase(dest.idle, connection);
  }
}

void DeliveryQueue::WakeIdleConnections() {
  for (auto& [domain, dest] : destinations_) {
    while (!dest.idle.empty()) Wake(dest);
  }
}

io::Task<void> DeliveryQueue::RunTimer() {
  while (!context_->stopping) {
    co_await context_->ring->Sleep(kTimerTick);
    MoveDueJobs(absl::Now());
  }
}

void DeliveryQueue::MoveDueJobs(absl::Time now) {
  while (!deferred_.empty() && deferred_.begin()->first <= now) {
    DeliveryJob job = std::move(deferred_.begin()->second);
    deferred_.erase(deferred_.begin());
    Enqueue(std::move(job));
  }
}

// Suspends FailDestination() until the outcome writes in flight are at
// most half of the limit.
class DeliveryQueue::OutcomeWritesAwaiter {
 public:
  explicit OutcomeWritesAwaiter(DeliveryQueue* queue) : queue_(queue) {}
  bool await_ready() const noexcept {
    return queue_->outcome_writes_in_flight_ <= kMaxOutcomeWritesInFlight / 2;
  }
  void await_suspend(std::coroutine_handle<> waiter) {
    queue_->outcome_write_waiters_.push_back(waiter);
  }
  void await_resume() const noexcept {}

 private:
  DeliveryQueue* queue_;
};

io::Task<void> DeliveryQueue::FailDestination(const std::string& domain,
                                              const smtp::Reply& reply,
                                              const std::string& next_hop) {
  // Only the jobs due now: while this pauses, deferred jobs can come due
  // again, and failing those with this old reply would keep the
  // destination from ever getting a new connection attempt.
  auto it = destinations_.find(domain);
  size_t left = it == destinations_.end() ? 0 : it->second.ready.size();
  while (left > 0) {
    --left;
    std::optional<DeliveryJob> job = NextJob(domain);
    if (!job) break;
    std::vector<RecipientAttempt> attempts(
        job->recipients.size(), RecipientAttempt{reply, true, next_hop});
    co_await Complete(std::move(*job), std::move(attempts));
    // Without a pause, a queue of a million jobs would hold a million
    // pending outcome records in memory at once.
    if (outcome_writes_in_flight_ >= kMaxOutcomeWritesInFlight) {
      co_await OutcomeWritesAwaiter(this);
    }
  }
}

io::Task<void> DeliveryQueue::Complete(DeliveryJob job,
                                       std::vector<RecipientAttempt> attempts) {
  std::shared_ptr<QueuedMessage> message = job.message;
  const absl::Time now = absl::Now();
  const Settings& settings = *context_->settings;
  const delivery::AttemptTiming timing{message->arrival, now,
                                       settings.queue_lifetime};
  std::vector<size_t> deferred;
  std::vector<BouncedRecipient> bounced;
  std::vector<spool::Outcome> outcomes;
  absl::Time next_attempt = absl::InfiniteFuture();
  for (size_t k = 0; k < job.recipients.size(); ++k) {
    const size_t index = job.recipients[k];
    QueuedRecipient& recipient = message->recipients[index];
    const RecipientAttempt& attempt = attempts[k];
    ++recipient.attempts;
    const delivery::Outcome verdict =
        delivery::ClassifyReply(attempt.reply,
                                attempt.local ? delivery::ReplySource::kLocal
                                              : delivery::ReplySource::kNextHop,
                                timing);
    recipient.last_reply = verdict.diagnostic;
    spool::Outcome outcome =
        MakeOutcome(*message, index, spool::Outcome::kDeferred, now);
    outcome.next_hop = attempt.next_hop;
    CountOutcome(verdict, now - message->arrival);
    LogInfo(message->envelope.queue_id, "to=<",
            LogQuote(message->envelope.recipients[index].address),
            "> relay=", attempt.next_hop.empty() ? "none" : attempt.next_hop,
            " delay=", FormatDelay(now - message->arrival),
            " attempts=", recipient.attempts, " dsn=", verdict.status,
            " status=", StatusWord(verdict.state), " (",
            LogQuote(verdict.diagnostic), ")");
    if (ApplyPendingAction(*message, index, verdict, &outcome, &bounced)) {
      outcomes.push_back(std::move(outcome));
      continue;
    }
    switch (verdict.state) {
      case delivery::DeliveryState::kDelivered:
        recipient.state = QueuedRecipient::State::kDelivered;
        outcome.state = spool::Outcome::kDelivered;
        break;
      case delivery::DeliveryState::kBounced:
        recipient.state = QueuedRecipient::State::kBounced;
        outcome.state = verdict.expired ? spool::Outcome::kExpired
                                        : spool::Outcome::kBounced;
        bounced.push_back(BouncedRecipient{index, verdict, attempt.next_hop});
        break;
      case delivery::DeliveryState::kDeferred: {
        const absl::Time when =
            now + delivery::BackoffDelay(recipient.attempts,
                                         settings.initial_backoff,
                                         settings.max_backoff);
        outcome.next_attempt_unix_micros = ToMicros(when);
        next_attempt = std::min(next_attempt, when);
        deferred.push_back(index);
        break;
      }
    }
    outcomes.push_back(std::move(outcome));
  }
  gauges_.Update(message.get());
  // The DSN is spooled before the bounces are recorded, so a crash between
  // the two can repeat a DSN but never lose one.
  if (!bounced.empty()) co_await SendBounce(message, std::move(bounced));
  if (!deferred.empty()) {
    // Recipients deferred together are retried together, at the earliest
    // of their backoff times.
    Schedule(DeliveryJob{message, std::move(deferred)}, next_attempt);
  }
  // The connection goes on with its next job while the outcomes are
  // written: waiting for their group commit would add an fdatasync to
  // every transaction. A crash before they are durable only repeats
  // these deliveries, which RFC 5321 section 6.1 accepts.
  ++outcome_writes_in_flight_;
  io::Spawn(RecordOutcomes(message, std::move(outcomes)));
}

spool::Outcome DeliveryQueue::MakeOutcome(const QueuedMessage& message,
                                          size_t index,
                                          spool::Outcome::State state,
                                          absl::Time now) const {
  const QueuedRecipient& recipient = message.recipients[index];
  spool::Outcome outcome;
  outcome.queue_id = message.envelope.queue_id;
  outcome.recipient_index = static_cast<uint32_t>(index);
  outcome.state = state;
  outcome.attempts = recipient.attempts;
  outcome.time_unix_micros = ToMicros(now);
  outcome.reply = recipient.last_reply;
  return outcome;
}

// Applies an operator's hold, delete or bounce that arrived during the
// attempt whose result is `verdict`. Returns true when it decided the
// recipient's state and `outcome`; a delivery always stands, and so does a
// bounce unless the request was a delete.
bool DeliveryQueue::ApplyPendingAction(QueuedMessage& message, size_t index,
                                       const delivery::Outcome& verdict,
                                       spool::Outcome* outcome,
                                       std::vector<BouncedRecipient>* bounced) {
  using Action = QueuedRecipient::PendingAction;
  QueuedRecipient& recipient = message.recipients[index];
  const Action action = std::exchange(recipient.pending_action, Action::kNone);
  const bool delivered = verdict.state == delivery::DeliveryState::kDelivered;
  const bool deferred = verdict.state == delivery::DeliveryState::kDeferred;
  const char* status = nullptr;
  if (action == Action::kDelete && !delivered) {
    recipient.state = QueuedRecipient::State::kDeleted;
    outcome->state = spool::Outcome::kDeleted;
    status = "deleted";
  } else if (action == Action::kHold && deferred) {
    recipient.state = QueuedRecipient::State::kHeld;
    outcome->state = spool::Outcome::kHeld;
    status = "held";
  } else if (action == Action::kBounce && deferred) {
    const delivery::Outcome bounce =
        delivery::OperatorBounce(recipient.last_reply);
    CountOutcome(bounce, absl::Now() - message.arrival);
    recipient.state = QueuedRecipient::State::kBounced;
    recipient.last_reply = bounce.diagnostic;
    outcome->state = spool::Outcome::kBounced;
    outcome->reply = bounce.diagnostic;
    bounced->push_back(BouncedRecipient{index, bounce, outcome->next_hop});
    status = "bounced";
  } else {
    return false;
  }
  LogInfo(message.envelope.queue_id, "to=<",
          LogQuote(message.envelope.recipients[index].address),
          "> status=", status, " reason=operator_request");
  return true;
}

void DeliveryQueue::CountOutcome(const delivery::Outcome& verdict,
                                 absl::Duration delay) {
  metrics::WorkerMetrics& worker_metrics = *context_->metrics;
  switch (verdict.state) {
    case delivery::DeliveryState::kDelivered:
      worker_metrics.deliveries[metrics::DeliveryResult::kDelivered].Add();
      worker_metrics.delivery_delay.Observe(static_cast<uint64_t>(
          std::max<int64_t>(0, absl::ToInt64Nanoseconds(delay))));
      return;
    case delivery::DeliveryState::kBounced:
      worker_metrics
          .deliveries[verdict.expired ? metrics::DeliveryResult::kExpired
                                      : metrics::DeliveryResult::kBounced]
          .Add();
      return;
    case delivery::DeliveryState::kDeferred:
      worker_metrics.deliveries[metrics::DeliveryResult::kDeferred].Add();
      return;
  }
}

io::Task<void> DeliveryQueue::RecordOutcomes(
    std::shared_ptr<QueuedMessage> message,
    std::vector<spool::Outcome> outcomes) {
  // A delivered or deferred result may wait for the next group commit,
  // because losing it in a crash only repeats an attempt. A relay cannot
  // close that window anyway: the next hop's 250 and the record of it are
  // never written at once. A bounce has sent its DSN, so its record is
  // made durable at once to avoid a second DSN after a restart.
  bool urgent = false;
  for (const spool::Outcome& outcome : outcomes) {
    if (outcome.state != spool::Outcome::kDelivered &&
        outcome.state != spool::Outcome::kDeferred) {
      urgent = true;
    }
  }
  co_await AppendOutcomes(*message, outcomes,
                          urgent ? spool::SpoolWriter::Durability::kNow
                                 : spool::SpoolWriter::Durability::kSoon);
  // Finished only once its outcomes are appended, so that its segment is
  // never deleted while a later segment still lacks them.
  if (message->finished() && !message->removed) {
    message->removed = true;
    co_await Finish(message);
  }
  --outcome_writes_in_flight_;
  if (outcome_writes_in_flight_ <= kMaxOutcomeWritesInFlight / 2 &&
      !outcome_write_waiters_.empty()) {
    // Resumed last, after this task's own work is done.
    for (std::coroutine_handle<> waiter :
         std::exchange(outcome_write_waiters_, {})) {
      waiter.resume();
    }
  }
}

io::Task<bool> DeliveryQueue::AppendOutcomes(
    const QueuedMessage& message, const std::vector<spool::Outcome>& outcomes,
    spool::SpoolWriter::Durability durability) {
  // One append (so one group commit) for the whole job.
  std::vector<std::string> records;
  std::vector<iovec> parts;
  records.reserve(outcomes.size());
  for (const spool::Outcome& outcome : outcomes) {
    records.push_back(spool::EncodeOutcome(outcome));
    parts.push_back({records.back().data(), records.back().size()});
  }
  absl::StatusOr<spool::RecordLocation> location =
      co_await dirs_[message.spool_dir_index]->writer->Append(std::move(parts),
                                                              durability);
  if (!location.ok()) {
    // The attempts happened; after a restart they may be repeated.
    LogWarning(message.envelope.queue_id, "event=outcome_not_recorded error=",
               LogQuote(location.status().message()));
    co_return false;
  }
  co_return true;
}

io::Task<void> DeliveryQueue::Finish(std::shared_ptr<QueuedMessage> message) {
  auto slot = messages_.find(message->envelope.queue_id);
  if (slot != messages_.end() && slot->second == message) {
    messages_.erase(slot);
  }
  gauges_.Remove(message.get());
  LogInfo(message->envelope.queue_id, "event=removed");
  SpoolDirectory* dir = dirs_[message->spool_dir_index].get();
  std::vector<uint64_t> removable =
      dir->tracker.FinishMessage(message->envelope.queue_id);
  // Every spool directory has its writer from the worker's start on.
  for (uint64_t sequence : removable) co_await dir->writer->Retire(sequence);
}

io::Task<void> DeliveryQueue::SendBounce(
    std::shared_ptr<QueuedMessage> message,
    std::vector<BouncedRecipient> bounced) {
  if (message->envelope.null_sender) {
    // RFC 5321 section 4.5.5: a message from <> is never bounced, so that
    // bounces cannot loop.
    LogInfo(message->envelope.queue_id,
            "event=dsn_suppressed reason=null_sender");
    co_return;
  }
  absl::StatusOr<std::shared_ptr<QueuedMessage>> dsn =
      co_await StoreBounce(context_, *message, bounced);
  if (!dsn.ok()) {
    LogError(message->envelope.queue_id,
             "event=dsn_failed error=", LogQuote(dsn.status().message()));
    co_return;
  }
  if (*dsn == nullptr) {
    LogInfo(message->envelope.queue_id, "event=dsn_suppressed reason=notify");
    co_return;
  }
  LogInfo(message->envelope.queue_id,
          "event=dsn_queued dsn_id=", (*dsn)->envelope.queue_id);
  Add(*std::move(dsn));
}

}  // namespace ferry::server
