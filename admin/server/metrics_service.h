// The Metrics service of the admin API: every metric once (GetMetrics), or
// a snapshot at a fixed interval until the client cancels (WatchMetrics).
#ifndef FERRY_ADMIN_SERVER_METRICS_SERVICE_H_
#define FERRY_ADMIN_SERVER_METRICS_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "engine/control/control.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::admin {

// The interval of WatchMetrics when the request sets none.
inline constexpr absl::Duration kDefaultWatchInterval = absl::Seconds(1);
// The shortest interval WatchMetrics accepts.
inline constexpr absl::Duration kMinWatchInterval = absl::Milliseconds(100);

class MetricsService final : public v1::Metrics::Service {
 public:
  explicit MetricsService(control::Control* control) : control_(control) {}

  grpc::Status GetMetrics(grpc::ServerContext* context,
                          const v1::GetMetricsRequest* request,
                          v1::GetMetricsResponse* response) override;

  // Writes a snapshot at once and then one per interval, until the client
  // cancels, the stream breaks or Stop() is called (then it ends with
  // UNAVAILABLE "ferryd is stopping"). Fails with INVALID_ARGUMENT for an
  // interval below kMinWatchInterval.
  grpc::Status WatchMetrics(
      grpc::ServerContext* context, const v1::WatchMetricsRequest* request,
      grpc::ServerWriter<v1::GetMetricsResponse>* writer) override;

  // Ends every open WatchMetrics stream within kCancelCheckInterval, so
  // that clients learn why instead of seeing the call cancelled.
  void Stop() { stopping_.store(true); }

 private:
  control::Control* const control_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_SERVER_METRICS_SERVICE_H_
