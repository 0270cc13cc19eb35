// Control: the narrow interface through which the admin service (admin/)
// inspects and changes a running ferryd. It uses the admin API's protobuf
// messages (proto/admin.proto) but not gRPC, and the admin service does
// not depend on workers, rings or spool segments.
//
// Thread-safe: the admin service calls it from its own threads, never from
// a worker's. Calls that need a worker's state post a task to every worker
// and wait for the answers, so they take about one ring wake-up.
#ifndef FERRY_ENGINE_CONTROL_CONTROL_H_
#define FERRY_ENGINE_CONTROL_CONTROL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/admin.pb.h"

namespace ferry::control {

namespace v1 = ::ferry::admin::v1;

// The operations of the Queue service that act on selected messages.
enum class QueueAction { kFlush, kHold, kRelease, kDelete, kBounce };

class Control {
 public:
  virtual ~Control() = default;

  // Routes. Errors: NotFound for an unknown domain, InvalidArgument for a
  // route that fails validation (the message names the field and the
  // fix), FailedPrecondition when expected_version does not match.
  virtual v1::ListRoutesResponse ListRoutes() = 0;
  virtual absl::StatusOr<v1::GetRouteResponse> GetRoute(
      const v1::GetRouteRequest& request) = 0;
  virtual absl::StatusOr<v1::PutRouteResponse> PutRoute(
      const v1::PutRouteRequest& request) = 0;
  virtual absl::StatusOr<v1::DeleteRouteResponse> DeleteRoute(
      const v1::DeleteRouteRequest& request) = 0;
  // Returns the route events after `after_version`, waiting up to `timeout`
  // for the first one; returns none when the wait times out. With
  // after_version 0, or one whose changes are no longer kept, the first
  // event is a KIND_SNAPSHOT of the current table.
  virtual std::vector<v1::RouteEvent> WaitRouteEvents(
      uint64_t after_version, absl::Duration timeout) = 0;

  // Queue. Errors: InvalidArgument for a bad filter, selector or page
  // token; NotFound for an unknown queue ID in ShowMessage;
  // Unavailable when a worker does not reply in time.
  virtual absl::StatusOr<v1::ListQueueResponse> ListQueue(
      const v1::ListQueueRequest& request) = 0;
  virtual absl::StatusOr<v1::ShowMessageResponse> ShowMessage(
      const v1::ShowMessageRequest& request) = 0;
  virtual absl::StatusOr<v1::QueueActionResponse> ActOnQueue(
      QueueAction action, const v1::QueueSelector& selector) = 0;
  virtual absl::StatusOr<v1::QueueSummaryResponse> QueueSummary() = 0;

  // Metrics: every metric, per-worker values summed.
  virtual v1::GetMetricsResponse GetMetrics() = 0;

  // Server.
  virtual v1::GetStatusResponse GetStatus() = 0;
  virtual v1::DrainResponse Drain() = 0;
  virtual absl::StatusOr<v1::ReloadResponse> Reload() = 0;
};

}  // namespace ferry::control

#endif  // FERRY_ENGINE_CONTROL_CONTROL_H_
