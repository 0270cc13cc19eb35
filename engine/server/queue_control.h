// QueueControl: runs the admin API's queue requests (list, show, flush,
// hold, release, delete, bounce, summary) and ETRN's flushes over every
// worker's queue. A request is posted to each worker's mailbox
// (Worker::Post); each worker does its share on its own thread in its
// DeliveryQueue and answers. The caller waits for all answers up to a
// deadline, after which the request fails with Unavailable.
//
// The answers are gathered in state that the caller and the posted tasks
// share (shared_ptr), so an answer that arrives after the caller gave up
// writes into live memory. A task that a stopping worker drops reports
// that at once, so the caller does not wait for the deadline.
//
// Thread-safe. The methods that wait must not run on a worker's thread: a
// worker that waited for its own answer would time out. StartFlush() does
// not wait and may run anywhere.
#ifndef FERRY_ENGINE_SERVER_QUEUE_CONTROL_H_
#define FERRY_ENGINE_SERVER_QUEUE_CONTROL_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/control/control.h"
#include "engine/server/queue_query.h"
#include "proto/admin.pb.h"

namespace ferry::server {

class Worker;

class QueueControl {
 public:
  struct Options {
    // Deadline of list, show and summary.
    absl::Duration read_timeout = absl::Seconds(5);
    // Deadline of an action, which writes to the spool (and spools DSNs)
    // before it answers.
    absl::Duration action_timeout = absl::Seconds(30);
  };

  // `workers` must outlive this object, and this object must outlive the
  // workers' threads when they use it for ETRN.
  explicit QueueControl(std::vector<Worker*> workers)
      : QueueControl(std::move(workers), Options()) {}
  QueueControl(std::vector<Worker*> workers, Options options);

  QueueControl(const QueueControl&) = delete;
  QueueControl& operator=(const QueueControl&) = delete;

  // The admin API's queue methods; see control::Control for their errors.
  absl::StatusOr<admin::v1::ListQueueResponse> ListQueue(
      const admin::v1::ListQueueRequest& request);
  absl::StatusOr<admin::v1::ShowMessageResponse> ShowMessage(
      const admin::v1::ShowMessageRequest& request);
  absl::StatusOr<admin::v1::QueueActionResponse> ActOnQueue(
      control::QueueAction action, const admin::v1::QueueSelector& selector);
  absl::StatusOr<admin::v1::QueueSummaryResponse> QueueSummary();

  // Posts a flush of what `filter` selects to every worker and returns
  // without waiting. Returns false when a worker no longer takes tasks
  // (ferryd is stopping); the others still flush.
  bool StartFlush(const QueueFilter& filter);

 private:
  std::vector<Worker*> workers_;
  Options options_;
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_QUEUE_CONTROL_H_
