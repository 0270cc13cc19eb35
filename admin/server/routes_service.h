// The Routes service of the admin API: list, get, put and delete routes,
// and watch the routing table's changes. Every call goes to the engine's
// route store through control::Control.
//
// gRPC calls it on its own threads, several at once. A WatchRoutes stream
// keeps one of them until the client cancels or ferryd stops.
#ifndef FERRY_ADMIN_SERVER_ROUTES_SERVICE_H_
#define FERRY_ADMIN_SERVER_ROUTES_SERVICE_H_

#include "absl/time/time.h"
#include "engine/control/control.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::admin {

class RoutesService final : public v1::Routes::Service {
 public:
  // `watch_poll` bounds how long a watch stream waits for a change before
  // it checks whether the client has cancelled.
  explicit RoutesService(control::Control* control,
                         absl::Duration watch_poll = absl::Milliseconds(500))
      : control_(control), watch_poll_(watch_poll) {}

  grpc::Status ListRoutes(grpc::ServerContext* context,
                          const v1::ListRoutesRequest* request,
                          v1::ListRoutesResponse* response) override;
  grpc::Status GetRoute(grpc::ServerContext* context,
                        const v1::GetRouteRequest* request,
                        v1::GetRouteResponse* response) override;
  grpc::Status PutRoute(grpc::ServerContext* context,
                        const v1::PutRouteRequest* request,
                        v1::PutRouteResponse* response) override;
  grpc::Status DeleteRoute(grpc::ServerContext* context,
                           const v1::DeleteRouteRequest* request,
                           v1::DeleteRouteResponse* response) override;
  // Sends the events after request.from_version (a snapshot first when
  // from_version is 0 or cannot be resumed), then each change as it
  // happens. Ends with CANCELLED when the client goes away, and with
  // UNAVAILABLE when ferryd stops.
  grpc::Status WatchRoutes(grpc::ServerContext* context,
                           const v1::WatchRoutesRequest* request,
                           grpc::ServerWriter<v1::RouteEvent>* writer) override;

 private:
  control::Control* const control_;
  const absl::Duration watch_poll_;
};

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_SERVER_ROUTES_SERVICE_H_
