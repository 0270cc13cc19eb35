#include "engine/server/queue_control.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/server/delivery_queue.h"
#include "engine/server/queue_proto.h"
#include "engine/server/worker.h"

namespace ferry::server {
namespace {

namespace v1 = ::ferry::admin::v1;

// The answers of all workers to one request, shared by the waiting caller
// and the tasks posted to the workers.
template <typename Part>
class Gather {
 public:
  explicit Gather(size_t workers) : parts_(workers), dropped_(workers) {}

  void Answer(size_t worker, Part part) {
    std::lock_guard<std::mutex> lock(mutex_);
    parts_[worker] = std::move(part);
    ++answered_;
    changed_.notify_all();
  }

  void Drop(size_t worker) {
    std::lock_guard<std::mutex> lock(mutex_);
    dropped_[worker] = true;
    ++answered_;
    changed_.notify_all();
  }

  // Waits until every worker answered, or until `deadline`. Returns the
  // answers in worker order, or Unavailable naming the first worker that
  // did not answer.
  absl::StatusOr<std::vector<Part>> Wait(absl::Time deadline,
                                         absl::Duration timeout,
                                         const char* request) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_until(lock, absl::ToChronoTime(deadline),
                        [&] { return answered_ == parts_.size(); });
    std::vector<Part> parts;
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (parts_[i].has_value()) {
        parts.push_back(*parts_[i]);
        continue;
      }
      return absl::UnavailableError(absl::StrCat(
          "queue ", request, ": worker w", i,
          dropped_[i] ? " is not running (ferryd is stopping)"
                      : absl::StrCat(" did not answer within ",
                                     absl::FormatDuration(timeout),
                                     "; the request may still take effect")));
    }
    return parts;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::optional<Part>> parts_;  // guarded by mutex_
  std::vector<bool> dropped_;               // guarded by mutex_
  size_t answered_ = 0;                     // guarded by mutex_
};

// One worker's way to answer: a copyable callable that delivers the first
// answer. When the last copy is destroyed without having answered (the
// worker dropped the task), it reports a drop instead.
template <typename Part>
class Reply {
 public:
  Reply(std::shared_ptr<Gather<Part>> gather, size_t worker)
      : slot_(std::make_shared<Slot>(std::move(gather), worker)) {}

  void operator()(Part part) const {
    if (std::exchange(slot_->answered, true)) return;
    slot_->gather->Answer(slot_->worker, std::move(part));
  }

 private:
  struct Slot {
    Slot(std::shared_ptr<Gather<Part>> g, size_t w)
        : gather(std::move(g)), worker(w) {}
    ~Slot() {
      if (!answered) gather->Drop(worker);
    }
    std::shared_ptr<Gather<Part>> gather;
    size_t worker;
    bool answered = false;
  };
  std::shared_ptr<Slot> slot_;
};

// Posts `work` to every worker and waits for their answers. `work` runs on
// each worker's thread with its queue and a Reply to call once.
template <typename Part>
absl::StatusOr<std::vector<Part>> FanOut(
    const std::vector<Worker*>& workers, absl::Duration timeout,
    const char* request,
    std::function<void(DeliveryQueue&, Reply<Part>)> work) {
  auto gather = std::make_shared<Gather<Part>>(workers.size());
  const absl::Time deadline = absl::Now() + timeout;
  for (size_t i = 0; i < workers.size(); ++i) {
    Worker* worker = workers[i];
    Reply<Part> reply(gather, i);
    // A refused post destroys the task and its Reply, which reports the
    // drop, so the result needs no check here.
    worker->Post([worker, reply, work] { work(*worker->queue(), reply); });
  }
  return gather->Wait(deadline, timeout, request);
}

// Returns the method of DeliveryQueue that performs `action`.
void (DeliveryQueue::*ActionMethod(control::QueueAction action))(
    const QueueFilter&, DeliveryQueue::ActionDone) {
  switch (action) {
    case control::QueueAction::kFlush:
      return &DeliveryQueue::Flush;
    case control::QueueAction::kHold:
      return &DeliveryQueue::Hold;
    case control::QueueAction::kRelease:
      return &DeliveryQueue::Release;
    case control::QueueAction::kDelete:
      return &DeliveryQueue::Delete;
    case control::QueueAction::kBounce:
      break;
  }
  return &DeliveryQueue::Bounce;
}

const char* ActionName(control::QueueAction action) {
  switch (action) {
    case control::QueueAction::kFlush:
      return "flush";
    case control::QueueAction::kHold:
      return "hold";
    case control::QueueAction::kRelease:
      return "release";
    case control::QueueAction::kDelete:
      return "delete";
    case control::QueueAction::kBounce:
      break;
  }
  return "bounce";
}

}  // namespace

QueueControl::QueueControl(std::vector<Worker*> workers, Options options)
    : workers_(std::move(workers)), options_(options) {}

absl::StatusOr<v1::ListQueueResponse> QueueControl::ListQueue(
    const v1::ListQueueRequest& request) {
  absl::StatusOr<QueueFilter> filter = FilterFromProto(request.filter());
  if (!filter.ok()) return filter.status();
  absl::StatusOr<std::string> after = DecodePageToken(request.page_token());
  if (!after.ok()) return after.status();
  const size_t page_size =
      request.page_size() == 0
          ? kDefaultPageSize
          : std::min<uint32_t>(request.page_size(), kMaxPageSize);
  const absl::Time now = absl::Now();
  absl::StatusOr<std::vector<QueuePage>> pages = FanOut<QueuePage>(
      workers_, options_.read_timeout, "list",
      [filter = *filter, after = *after, page_size, now](
          DeliveryQueue& queue, Reply<QueuePage> reply) {
        reply(queue.ListMessages(filter, after, page_size, now));
      });
  if (!pages.ok()) return pages.status();
  v1::ListQueueResponse response;
  std::vector<MessageView> merged;
  uint64_t after_cursor = 0;
  for (QueuePage& page : *pages) {
    response.set_total(response.total() + page.total);
    after_cursor += page.after_cursor;
    for (MessageView& view : page.messages) merged.push_back(std::move(view));
  }
  std::sort(merged.begin(), merged.end(),
            [](const MessageView& a, const MessageView& b) {
              return a.queue_id < b.queue_id;
            });
  if (merged.size() > page_size) merged.resize(page_size);
  for (const MessageView& view : merged) {
    *response.add_message() = MessageToProto(view);
  }
  if (after_cursor > merged.size() && !merged.empty()) {
    response.set_next_page_token(EncodePageToken(merged.back().queue_id));
  }
  return response;
}

absl::StatusOr<v1::ShowMessageResponse> QueueControl::ShowMessage(
    const v1::ShowMessageRequest& request) {
  const std::string& queue_id = request.queue_id();
  absl::Status valid = CheckQueueId(queue_id, "queue_id");
  if (!valid.ok()) return valid;
  absl::StatusOr<std::vector<std::optional<MessageView>>> found =
      FanOut<std::optional<MessageView>>(
          workers_, options_.read_timeout, "show",
          [queue_id](DeliveryQueue& queue,
                     Reply<std::optional<MessageView>> reply) {
            reply(queue.FindMessage(queue_id));
          });
  if (!found.ok()) return found.status();
  for (const std::optional<MessageView>& view : *found) {
    if (!view.has_value()) continue;
    v1::ShowMessageResponse response;
    *response.mutable_message() = MessageToProto(*view);
    return response;
  }
  return absl::NotFoundError(
      absl::StrCat("queue ID ", queue_id,
                   " is not in the queue; it may have been delivered, "
                   "bounced or deleted"));
}

absl::StatusOr<v1::QueueActionResponse> QueueControl::ActOnQueue(
    control::QueueAction action, const v1::QueueSelector& selector) {
  absl::StatusOr<QueueFilter> filter = FilterFromSelector(selector);
  if (!filter.ok()) return filter.status();
  const auto method = ActionMethod(action);
  absl::StatusOr<std::vector<ActionCounts>> parts = FanOut<ActionCounts>(
      workers_, options_.action_timeout, ActionName(action),
      [filter = *filter, method](DeliveryQueue& queue,
                                 Reply<ActionCounts> reply) {
        (queue.*method)(filter, reply);
      });
  if (!parts.ok()) return parts.status();
  ActionCounts total;
  for (const ActionCounts& part : *parts) total.Add(part);
  if (total.unrecorded > 0) {
    return absl::UnavailableError(absl::StrCat(
        "queue ", ActionName(action), " applied to ", total.recipients,
        " recipients, but the spool could not record it for ", total.unrecorded,
        " of them (ferryd logged event=outcome_not_recorded), so a restart "
        "would undo it for those; fix the spool and repeat the request"));
  }
  v1::QueueActionResponse response;
  response.set_messages(total.messages);
  response.set_recipients(total.recipients);
  response.set_in_flight(total.in_flight);
  return response;
}

absl::StatusOr<v1::QueueSummaryResponse> QueueControl::QueueSummary() {
  const absl::Time now = absl::Now();
  absl::StatusOr<std::vector<server::QueueSummary>> parts =
      FanOut<server::QueueSummary>(
          workers_, options_.read_timeout, "summary",
          [now](DeliveryQueue& queue, Reply<server::QueueSummary> reply) {
            reply(queue.Summarize(now));
          });
  if (!parts.ok()) return parts.status();
  server::QueueSummary total;
  for (const server::QueueSummary& part : *parts) total.Add(part);
  return SummaryToProto(total);
}

bool QueueControl::StartFlush(const QueueFilter& filter) {
  bool all_posted = true;
  for (Worker* worker : workers_) {
    const bool posted = worker->Post([worker, filter] {
      worker->queue()->Flush(filter, [](ActionCounts) {});
    });
    all_posted = all_posted && posted;
  }
  return all_posted;
}

}  // namespace ferry::server
