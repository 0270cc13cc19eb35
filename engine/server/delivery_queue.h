// DeliveryQueue: one worker's queue of spooled messages and the scheduler
// that delivers them.
//
// Recipients are grouped by destination (their domain). Each destination
// has a FIFO of jobs that are due, and at most
// max_connections_per_destination outbound connections, each taking jobs
// from that FIFO. A connection that finds the FIFO empty waits for a while
// as an idle connection. The next job wakes it instead of opening a new
// connection. A deferred job waits in a timer list
// until its backoff ends. The route is looked up when a connection starts,
// so a changed route applies to mail already queued.
//
// Each recipient that is not final is in exactly one place: a job in the
// timer list (kPending), a job in its destination's FIFO (kReady), a job
// that an outbound connection is sending (kActive), or none (kHeld).
// Operator requests (queue_operations.cc) keep that so: they take the
// recipients they act on out of the jobs that wait, and leave a pending
// action on those in an attempt.
//
// Owned by one worker thread; all methods run on it.
#ifndef FERRY_ENGINE_SERVER_DELIVERY_QUEUE_H_
#define FERRY_ENGINE_SERVER_DELIVERY_QUEUE_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "engine/delivery/outcome.h"
#include "engine/io/task.h"
#include "engine/server/queue_gauges.h"
#include "engine/server/queue_query.h"
#include "engine/server/queued_message.h"
#include "engine/server/worker_context.h"
#include "engine/smtp/reply.h"
#include "engine/spool/segment_tracker.h"
#include "engine/spool/spool_writer.h"

namespace ferry::server {

// A spool directory whose segments this worker owns: its own, or one left
// by a worker that no longer exists after a restart with fewer workers.
// Outcome records always go to the directory of their message, so that
// recovery, which reads one directory at a time, finds them.
struct SpoolDirectory {
  std::string path;
  spool::SegmentTracker tracker;
  // Sequence of the first segment the writer creates here.
  uint64_t next_sequence = 1;
  // Appends to this directory; created by the worker on its thread.
  std::unique_ptr<spool::SpoolWriter> writer;
};

// An outbound connection that waits, open, for the next job of its
// destination. Lives in the waiting connection's frame.
struct IdleConnection {
  // The connection's wait; the queue cancels it to wake the connection.
  io::Operation* wait = nullptr;
  // Set by the queue when it wakes the connection for a job.
  bool woken = false;
};

// Some recipients of one message, all for one destination.
struct DeliveryJob {
  std::shared_ptr<QueuedMessage> message;
  std::vector<size_t> recipients;  // indices into message->recipients
};

// The result of one attempt for one recipient.
struct RecipientAttempt {
  smtp::Reply reply;     // the next hop's reply, or one made up locally
  bool local = false;    // made up locally: connect failure, timeout, reset
  std::string next_hop;  // "host[ip]:port", empty if none was reached
};

// A recipient that failed permanently, for its DSN.
struct BouncedRecipient {
  size_t index = 0;  // into the message's recipients
  delivery::Outcome outcome;
  std::string next_hop;
};

class DeliveryQueue {
 public:
  explicit DeliveryQueue(WorkerContext* context);

  // Registers the spool directories; index 0 is the worker's own.
  void SetSpoolDirectories(std::vector<std::unique_ptr<SpoolDirectory>> dirs);
  SpoolDirectory* spool_directory(size_t index) { return dirs_[index].get(); }
  size_t spool_directory_count() const { return dirs_.size(); }

  // Takes a message whose record is durable and schedules every recipient
  // that is not final for delivery now.
  void Add(std::shared_ptr<QueuedMessage> message);

  // Moves due jobs to their destinations and starts connections, until
  // Stop(). Spawned once by the worker.
  io::Task<void> RunTimer();

  // Returns the next due job for `domain`, or nullopt when none is left.
  // Used by outbound connections between transactions.
  std::optional<DeliveryJob> NextJob(const std::string& domain);

  // Records the outcome of one attempt for each recipient of `job`
  // (parallel to job.recipients): logs one line per recipient, appends
  // outcome records to the spool, defers with backoff, bounces with a DSN,
  // and removes the message when it is finished.
  io::Task<void> Complete(DeliveryJob job,
                          std::vector<RecipientAttempt> attempts);

  // Defers the jobs of `domain` that are due when it starts, after a
  // failure that happened before any transaction (no route, DNS failure,
  // no next hop reachable).
  io::Task<void> FailDestination(const std::string& domain,
                                 const smtp::Reply& reply,
                                 const std::string& next_hop);

  // Called by an outbound connection when it ends.
  void ConnectionClosed(const std::string& domain);

  // Registers `connection`, an open connection to `domain`, as waiting for
  // the domain's next job. When one is enqueued, the queue sets
  // connection->woken and cancels connection->wait. A connection is woken
  // per job that no other woken connection is about to take.
  void AddIdleConnection(const std::string& domain, IdleConnection* connection);
  // Called once the wait of `connection` has completed, woken or not.
  void EndIdle(const std::string& domain, IdleConnection* connection);
  // Wakes every idle connection, so that each finds `stopping` set and
  // quits.
  void WakeIdleConnections();

  size_t message_count() const { return messages_.size(); }
  size_t active_connections() const { return active_connections_; }

  // ---- Operator requests and ETRN (queue_operations.cc) ----

  // Called with what an action did, once its outcome records are durable
  // and its DSNs are spooled (or failed, which is logged).
  using ActionDone = std::function<void(ActionCounts)>;

  // Returns the number of messages that `filter` matches and the views of
  // the first `limit` of them whose queue IDs sort after `after`.
  QueuePage ListMessages(const QueueFilter& filter, const std::string& after,
                         size_t limit, absl::Time now);

  // Returns the view of message `queue_id`, or nullopt when this worker
  // does not hold it.
  std::optional<MessageView> FindMessage(const std::string& queue_id) const;

  // Each action below applies to the recipients that `filter` selects in
  // the messages it matches, and calls `done` once (see ActionDone).
  // Flush: moves selected recipients that wait for their backoff to their
  // destination's FIFO, so they are tried now. Held ones stay held.
  void Flush(const QueueFilter& filter, ActionDone done);
  // Hold: stops attempts for the selected recipients, with a kHeld outcome
  // record so that they stay held after a restart.
  void Hold(const QueueFilter& filter, ActionDone done);
  // Release: schedules the selected held recipients as soon as their
  // kDeferred outcome record is durable, and cancels a hold pending on one
  // in an attempt.
  void Release(const QueueFilter& filter, ActionDone done);
  // Delete: makes the selected recipients final without a DSN, with a
  // kDeleted outcome record.
  void Delete(const QueueFilter& filter, ActionDone done);
  // Bounce: fails the selected recipients now with status 5.0.0 and sends
  // the sender one DSN per message, as an expiry would.
  void Bounce(const QueueFilter& filter, ActionDone done);

  // Counts the recipients that are not final by domain and age bucket.
  QueueSummary Summarize(absl::Time now) const;

 private:
  struct Destination {
    std::deque<DeliveryJob> ready;
    // Open connections: busy, idle or woken.
    uint32_t connections = 0;
    // Connections waiting for a job; the most recently idle one is last.
    std::vector<IdleConnection*> idle;
    // Connections woken for a job that have not run yet.
    size_t waking = 0;
  };

  // Wakes the last idle connection of `dest`.
  void Wake(Destination& dest);

  struct Selection;
  class ActionProgress;
  class OutcomeWritesAwaiter;

  // The maximum number of outcome records that FailDestination() lets
  // wait for their group commit before it pauses. Each takes 1.2 to 1.5
  // KB until then (estimated from ferryd's peak RSS in bench/scale), and
  // a destination that is down fails all its jobs at once.
  static constexpr size_t kMaxOutcomeWritesInFlight = 4096;

  void Enqueue(DeliveryJob job);
  // Enqueues `recipients` of `message` now, one job per destination.
  void EnqueueByDomain(std::shared_ptr<QueuedMessage> message,
                       const std::vector<size_t>& recipients);
  void Schedule(DeliveryJob job, absl::Time when);
  void Kick(const std::string& domain);
  void MoveDueJobs(absl::Time now);
  // Counts one recipient's outcome; `delay` is the time since arrival.
  void CountOutcome(const delivery::Outcome& verdict, absl::Duration delay);
  io::Task<void> RecordOutcomes(std::shared_ptr<QueuedMessage> message,
                                std::vector<spool::Outcome> outcomes);
  // Returns false when the records could not be written (logged).
  io::Task<bool> AppendOutcomes(
      const QueuedMessage& message, const std::vector<spool::Outcome>& outcomes,
      spool::SpoolWriter::Durability durability =
          spool::SpoolWriter::Durability::kNow);
  io::Task<void> Finish(std::shared_ptr<QueuedMessage> message);
  io::Task<void> SendBounce(std::shared_ptr<QueuedMessage> message,
                            std::vector<BouncedRecipient> bounced);
  spool::Outcome MakeOutcome(const QueuedMessage& message, size_t index,
                             spool::Outcome::State state, absl::Time now) const;
  bool ApplyPendingAction(QueuedMessage& message, size_t index,
                          const delivery::Outcome& verdict,
                          spool::Outcome* outcome,
                          std::vector<BouncedRecipient>* bounced);

  // queue_operations.cc
  std::vector<Selection> Select(const QueueFilter& filter, absl::Time now);
  void RemoveWaitingJobs();
  void PersistAction(std::vector<Selection> selections, ActionCounts counts,
                     ActionDone done);
  io::Task<void> PersistMessage(Selection selection,
                                std::shared_ptr<ActionProgress> progress);

  WorkerContext* context_;
  std::vector<std::unique_ptr<SpoolDirectory>> dirs_;
  absl::flat_hash_map<std::string, Destination> destinations_;
  std::multimap<absl::Time, DeliveryJob> deferred_;
  QueueGauges gauges_;
  // Every message this worker holds, by queue ID, from Add() to Finish().
  absl::flat_hash_map<std::string, std::shared_ptr<QueuedMessage>> messages_;
  size_t active_connections_ = 0;
  // RecordOutcomes() tasks not finished yet, and the tasks waiting until
  // they are at most half of kMaxOutcomeWritesInFlight.
  size_t outcome_writes_in_flight_ = 0;
  std::vector<std::coroutine_handle<>> outcome_write_waiters_;
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_DELIVERY_QUEUE_H_
