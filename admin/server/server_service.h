// The Server service of the admin API: status, drain and reload.
#ifndef FERRY_ADMIN_SERVER_SERVER_SERVICE_H_
#define FERRY_ADMIN_SERVER_SERVER_SERVICE_H_

#include "engine/control/control.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::admin {

class ServerService final : public v1::Server::Service {
 public:
  explicit ServerService(control::Control* control) : control_(control) {}

  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status Drain(grpc::ServerContext* context,
                     const v1::DrainRequest* request,
                     v1::DrainResponse* response) override;
  grpc::Status Reload(grpc::ServerContext* context,
                      const v1::ReloadRequest* request,
                      v1::ReloadResponse* response) override;

 private:
  control::Control* const control_;
};

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_SERVER_SERVER_SERVICE_H_
