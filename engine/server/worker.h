// Worker: one thread with its own io_uring, listening sockets, inbound
// sessions, spool segments, delivery queue and outbound connections.
// Workers share nothing on the message path; they read the routing table
// through the published RouteSnapshot and count connections through the
// ConnectionLimiter.
//
// The main thread creates workers, calls Start() and later Stop() and
// Join(); everything else runs on the worker's own thread. Other threads
// reach a running worker only through Post(), its mailbox.
#ifndef FERRY_ENGINE_SERVER_WORKER_H_
#define FERRY_ENGINE_SERVER_WORKER_H_

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "engine/dns/resolver.h"
#include "engine/io/log_writer.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"
#include "engine/server/connection_limiter.h"
#include "engine/server/delivery_queue.h"
#include "engine/server/inbound.h"
#include "engine/server/route_policy.h"
#include "engine/server/spool_loader.h"
#include "engine/server/worker_context.h"
#include "engine/spool/spool_writer.h"

namespace ferry::server {

class Worker {
 public:
  // `metrics` (from the metrics registry) must outlive the worker.
  Worker(int index, const Settings* settings,
         const route::RouteSnapshot* routes, ConnectionLimiter* limiter,
         WorkerSpoolState spool, metrics::WorkerMetrics* metrics);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread and waits until it listens (or failed to start).
  absl::Status Start();

  // Asks the worker to stop: it stops accepting, replies 421 to idle
  // sessions, lets transactions and deliveries in progress finish until
  // `grace` has passed, then exits. Thread-safe; returns at once.
  void Stop();

  // Waits for the thread to exit.
  void Join();

  // Queues `task` to run on the worker's thread from its ring loop, wakes
  // the loop and returns true. Thread-safe. Returns false, and destroys
  // `task` without running it, when the worker does not run: before
  // Start() succeeded, or after its loop ended. A task still queued when
  // the loop ends is destroyed without running too, so a caller that waits
  // for a task learns of that from the destruction of what the task owns
  // (see QueueControl).
  bool Post(std::function<void()> task);

  int index() const { return index_; }

  // The worker's delivery queue. REQUIRES: called on the worker's thread,
  // that is from a task given to Post().
  DeliveryQueue* queue() { return queue_.get(); }

  // Gives ETRN the fan-out over all workers. REQUIRES: before Start();
  // `control` outlives the worker's thread.
  void SetQueueControl(QueueControl* control) {
    context_.queue_control = control;
  }

  // Asks the worker to stop accepting SMTP connections and close its
  // listening sockets, while sessions in progress finish and queued mail
  // keeps being delivered. Thread-safe; returns at once.
  void Drain();

 private:
  void ThreadMain();
  absl::Status InitOnThread();
  void OnWake();
  void RunPostedTasks();
  void CloseMailbox();
  void BeginStop();
  void BeginDrain();
  io::Task<void> AcceptLoop(int listen_fd);
  io::Task<void> Serve(int fd);
  void LogRejection(const std::string& ip, const char* reason);
  io::Task<void> WaitForIdleThenExit();
  bool Idle() const;
  void OpenSpoolWriter(size_t index);
  void OnSegmentOpened(size_t index, uint64_t sequence);

  const int index_;
  const Settings* settings_;
  ConnectionLimiter* limiter_;
  route::RouteSnapshot::Reader route_reader_;
  RoutePolicy policy_;
  WorkerSpoolState spool_state_;

  io::Ring ring_;
  std::unique_ptr<io::RingLogWriter> log_writer_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::unique_ptr<DeliveryQueue> queue_;
  WorkerContext context_;
  std::vector<int> listen_fds_;
  std::vector<io::Operation*> pending_accepts_;
  std::list<InboundConnection> inbound_;
  uint64_t session_counter_ = 0;
  absl::Time last_rejection_log_ = absl::InfinitePast();
  uint64_t rejections_not_logged_ = 0;

  std::thread thread_;
  absl::Notification started_;
  absl::Status start_status_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> drain_requested_{false};
  bool stopping_ = false;
  bool draining_ = false;

  // The mailbox. std::mutex rather than absl::Mutex for the reason given in
  // engine/route/route_snapshot.h.
  std::mutex mailbox_mutex_;
  std::vector<std::function<void()>> mailbox_;  // guarded by mailbox_mutex_
  bool mailbox_open_ = false;                   // guarded by mailbox_mutex_
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_WORKER_H_
