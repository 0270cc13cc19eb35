// The Metrics service: GetMetrics and the WatchMetrics loop.
#include "admin/server/metrics_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/base/log.h"
#include "google/protobuf/util/time_util.h"

namespace ferry::admin {
namespace {

// How often a waiting WatchMetrics checks whether its call was cancelled.
constexpr absl::Duration kCancelCheckInterval = absl::Milliseconds(50);

}  // namespace

grpc::Status MetricsService::GetMetrics(grpc::ServerContext*,
                                        const v1::GetMetricsRequest*,
                                        v1::GetMetricsResponse* response) {
  *response = control_->GetMetrics();
  return grpc::Status::OK;
}

grpc::Status MetricsService::WatchMetrics(
    grpc::ServerContext* context, const v1::WatchMetricsRequest* request,
    grpc::ServerWriter<v1::GetMetricsResponse>* writer) {
  absl::Duration interval = kDefaultWatchInterval;
  if (request->has_interval()) {
    interval = absl::Nanoseconds(
        google::protobuf::util::TimeUtil::DurationToNanoseconds(
            request->interval()));
    if (interval < kMinWatchInterval) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("interval ", absl::FormatDuration(interval),
                       " is too short; use at least ",
                       absl::FormatDuration(kMinWatchInterval)));
    }
  }
  LogInfo("",
          "admin event=watch_metrics_started peer=", LogQuote(context->peer()),
          " interval=", absl::FormatDuration(interval));
  absl::Time next = absl::Now();
  while (!context->IsCancelled() && !stopping_.load()) {
    if (!writer->Write(control_->GetMetrics())) break;
    // A slow scrape delays the next snapshot instead of causing a burst.
    next = std::max(next + interval, absl::Now());
    // Sleeps in short steps, so a cancel ends the stream promptly.
    for (absl::Time now = absl::Now();
         now < next && !context->IsCancelled() && !stopping_.load();
         now = absl::Now()) {
      absl::SleepFor(std::min(next - now, kCancelCheckInterval));
    }
  }
  LogInfo("",
          "admin event=watch_metrics_ended peer=", LogQuote(context->peer()));
  if (stopping_.load()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "ferryd is stopping");
  }
  return grpc::Status::OK;
}

}  // namespace ferry::admin
