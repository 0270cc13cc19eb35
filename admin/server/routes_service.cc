#include "admin/server/routes_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "admin/server/grpc_status.h"
#include "engine/base/log.h"

namespace ferry::admin {
namespace {

// Logs a refused or failed change with the client and the reason. The
// client gets the same status, and the log keeps a record of who tried
// what.
void LogRefused(const grpc::ServerContext& context, absl::string_view event,
                const std::string& domain, const absl::Status& status) {
  LogInfo("", "admin event=", event, " peer=", LogQuote(context.peer()),
          " domain=", LogQuote(domain),
          " code=", absl::StatusCodeToString(status.code()),
          " error=", LogQuote(status.message(), 500));
}

}  // namespace

grpc::Status RoutesService::ListRoutes(grpc::ServerContext*,
                                       const v1::ListRoutesRequest*,
                                       v1::ListRoutesResponse* response) {
  *response = control_->ListRoutes();
  return grpc::Status::OK;
}

grpc::Status RoutesService::GetRoute(grpc::ServerContext*,
                                     const v1::GetRouteRequest* request,
                                     v1::GetRouteResponse* response) {
  absl::StatusOr<v1::GetRouteResponse> result = control_->GetRoute(*request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status RoutesService::PutRoute(grpc::ServerContext* context,
                                     const v1::PutRouteRequest* request,
                                     v1::PutRouteResponse* response) {
  absl::StatusOr<v1::PutRouteResponse> result = control_->PutRoute(*request);
  if (!result.ok()) {
    LogRefused(*context, "route_put_failed", request->route().domain(),
               result.status());
    return ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  LogInfo("", "admin event=route_put peer=", LogQuote(context->peer()),
          " domain=", LogQuote(request->route().domain()),
          " version=", response->version(),
          " created=", response->created() ? "yes" : "no");
  return grpc::Status::OK;
}

grpc::Status RoutesService::DeleteRoute(grpc::ServerContext* context,
                                        const v1::DeleteRouteRequest* request,
                                        v1::DeleteRouteResponse* response) {
  absl::StatusOr<v1::DeleteRouteResponse> result =
      control_->DeleteRoute(*request);
  if (!result.ok()) {
    LogRefused(*context, "route_delete_failed", request->domain(),
               result.status());
    return ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  LogInfo("", "admin event=route_delete peer=", LogQuote(context->peer()),
          " domain=", LogQuote(request->domain()),
          " version=", response->version());
  return grpc::Status::OK;
}

grpc::Status RoutesService::WatchRoutes(
    grpc::ServerContext* context, const v1::WatchRoutesRequest* request,
    grpc::ServerWriter<v1::RouteEvent>* writer) {
  uint64_t after = request->from_version();
  while (!context->IsCancelled()) {
    const absl::Time start = absl::Now();
    std::vector<v1::RouteEvent> events =
        control_->WaitRouteEvents(after, watch_poll_);
    if (events.empty()) {
      // The store returns early without events only once ferryd stops,
      // because a wait that times out takes the whole poll interval.
      if (absl::Now() - start < watch_poll_ / 2) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "ferryd is stopping");
      }
      continue;
    }
    for (const v1::RouteEvent& event : events) {
      if (!writer->Write(event)) {
        return grpc::Status(grpc::StatusCode::CANCELLED,
                            "the client closed the stream");
      }
      after = event.version();
    }
  }
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      "the client cancelled the stream");
}

}  // namespace ferry::admin
