#include "engine/server/engine_control.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"

namespace ferry::server {
namespace {

using google::protobuf::util::TimeUtil;

// Sums the sizes of the regular files under `dir`, the spool's segments.
uint64_t DirectoryBytes(const std::string& dir) {
  std::error_code error;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied,
           error);
       !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    std::error_code size_error;
    if (it->is_regular_file(size_error)) {
      const uintmax_t size = it->file_size(size_error);
      if (!size_error) total += size;
    }
  }
  return total;
}

}  // namespace

EngineControl::EngineControl(EngineParts parts)
    : parts_(std::move(parts)), started_(absl::Now()) {}

// ---- Routes ----

v1::ListRoutesResponse EngineControl::ListRoutes() {
  return parts_.routes->List();
}

absl::StatusOr<v1::GetRouteResponse> EngineControl::GetRoute(
    const v1::GetRouteRequest& request) {
  return parts_.routes->Get(request);
}

absl::StatusOr<v1::PutRouteResponse> EngineControl::PutRoute(
    const v1::PutRouteRequest& request) {
  return parts_.routes->Put(request);
}

absl::StatusOr<v1::DeleteRouteResponse> EngineControl::DeleteRoute(
    const v1::DeleteRouteRequest& request) {
  return parts_.routes->Delete(request);
}

std::vector<v1::RouteEvent> EngineControl::WaitRouteEvents(
    uint64_t after_version, absl::Duration timeout) {
  return parts_.routes->WaitEvents(after_version, timeout);
}

// ---- Queue ----

absl::StatusOr<v1::ListQueueResponse> EngineControl::ListQueue(
    const v1::ListQueueRequest& request) {
  return parts_.queue->ListQueue(request);
}

absl::StatusOr<v1::ShowMessageResponse> EngineControl::ShowMessage(
    const v1::ShowMessageRequest& request) {
  return parts_.queue->ShowMessage(request);
}

absl::StatusOr<v1::QueueActionResponse> EngineControl::ActOnQueue(
    control::QueueAction action, const v1::QueueSelector& selector) {
  return parts_.queue->ActOnQueue(action, selector);
}

absl::StatusOr<v1::QueueSummaryResponse> EngineControl::QueueSummary() {
  return parts_.queue->QueueSummary();
}

// ---- Metrics ----

v1::GetMetricsResponse EngineControl::GetMetrics() {
  v1::GetMetricsResponse response;
  const absl::Time now = absl::Now();
  *response.mutable_time() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  if (parts_.metrics == nullptr) return response;
  for (v1::Metric& metric : parts_.metrics->Collect(now)) {
    *response.add_metric() = std::move(metric);
  }
  return response;
}

// ---- Server ----

v1::GetStatusResponse EngineControl::GetStatus() {
  v1::GetStatusResponse status;
  status.set_version(parts_.version);
  *status.mutable_started() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(started_));
  *status.mutable_uptime() = TimeUtil::NanosecondsToDuration(
      absl::ToInt64Nanoseconds(absl::Now() - started_));
  status.set_workers(parts_.workers.size());
  for (const config::ListenAddress& address : parts_.settings->listen) {
    status.add_smtp_listen(address.ToString());
  }
  status.set_draining(draining_.load());
  status.set_spool_dir(parts_.settings->spool_dir);
  status.set_spool_bytes(DirectoryBytes(parts_.settings->spool_dir));
  struct statvfs fs;
  if (statvfs(parts_.settings->spool_dir.c_str(), &fs) == 0) {
    status.set_spool_free_bytes(static_cast<uint64_t>(fs.f_bavail) *
                                fs.f_frsize);
    status.set_spool_total_bytes(static_cast<uint64_t>(fs.f_blocks) *
                                 fs.f_frsize);
  }
  status.set_route_version(parts_.routes->version());
  if (parts_.metrics != nullptr) {
    for (const v1::Metric& metric : parts_.metrics->Collect()) {
      if (metric.name() == "ferry_queue_messages") {
        status.set_queued_messages(status.queued_messages() +
                                   static_cast<uint64_t>(metric.gauge()));
      } else if (metric.name() == "ferry_open_connections") {
        const auto direction = metric.label().find("direction");
        if (direction == metric.label().end()) continue;
        const uint64_t count = static_cast<uint64_t>(metric.gauge());
        if (direction->second == "inbound") {
          status.set_inbound_connections(count);
        } else if (direction->second == "outbound") {
          status.set_outbound_connections(count);
        }
      }
    }
  }
  status.set_config_file(parts_.config_path);
  status.set_pid(getpid());
  return status;
}

v1::DrainResponse EngineControl::Drain() {
  v1::DrainResponse response;
  const bool was_draining = draining_.exchange(true);
  response.set_changed(!was_draining);
  if (!was_draining) {
    for (Worker* worker : parts_.workers) worker->Drain();
  }
  return response;
}

absl::StatusOr<v1::ReloadResponse> EngineControl::Reload() {
  return parts_.reload();
}

}  // namespace ferry::server
