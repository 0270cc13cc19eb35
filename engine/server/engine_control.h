// EngineControl: ferryd's implementation of control::Control, the
// interface the admin service uses. It reads from and acts on the workers,
// the route store and the metrics registry, and owns none of them.
//
// Thread-safe, like the interface: the admin service calls it from its
// own threads.
#ifndef FERRY_ENGINE_SERVER_ENGINE_CONTROL_H_
#define FERRY_ENGINE_SERVER_ENGINE_CONTROL_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/control/control.h"
#include "engine/route/route_store.h"
#include "engine/metrics/registry.h"
#include "engine/server/queue_control.h"
#include "engine/server/settings.h"
#include "engine/server/worker.h"

namespace ferry::server {

namespace v1 = ::ferry::admin::v1;

// The parts of ferryd that EngineControl works on. Everything here outlives it.
struct EngineParts {
  std::string version;
  // The configuration file, or "" for the built-in defaults.
  std::string config_path;
  const Settings* settings = nullptr;
  std::vector<Worker*> workers;
  route::RouteStore* routes = nullptr;
  const metrics::Registry* metrics = nullptr;
  // The Queue service's requests, fanned out to the workers.
  QueueControl* queue = nullptr;
  // Re-reads the configuration file and applies what can change while
  // running; shared with SIGHUP.
  std::function<absl::StatusOr<v1::ReloadResponse>()> reload;
};

class EngineControl : public control::Control {
 public:
  explicit EngineControl(EngineParts parts);

  v1::ListRoutesResponse ListRoutes() override;
  absl::StatusOr<v1::GetRouteResponse> GetRoute(
      const v1::GetRouteRequest& request) override;
  absl::StatusOr<v1::PutRouteResponse> PutRoute(
      const v1::PutRouteRequest& request) override;
  absl::StatusOr<v1::DeleteRouteResponse> DeleteRoute(
      const v1::DeleteRouteRequest& request) override;
  std::vector<v1::RouteEvent> WaitRouteEvents(uint64_t after_version,
                                              absl::Duration timeout) override;

  absl::StatusOr<v1::ListQueueResponse> ListQueue(
      const v1::ListQueueRequest& request) override;
  absl::StatusOr<v1::ShowMessageResponse> ShowMessage(
      const v1::ShowMessageRequest& request) override;
  absl::StatusOr<v1::QueueActionResponse> ActOnQueue(
      control::QueueAction action, const v1::QueueSelector& selector) override;
  absl::StatusOr<v1::QueueSummaryResponse> QueueSummary() override;

  v1::GetMetricsResponse GetMetrics() override;

  v1::GetStatusResponse GetStatus() override;
  v1::DrainResponse Drain() override;
  absl::StatusOr<v1::ReloadResponse> Reload() override;

 private:
  const EngineParts parts_;
  const absl::Time started_;
  std::atomic<bool> draining_{false};
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_ENGINE_CONTROL_H_
