#include "admin/server/server_service.h"

#include "admin/server/grpc_status.h"
#include "engine/base/log.h"

namespace ferry::admin {

grpc::Status ServerService::GetStatus(grpc::ServerContext*,
                                      const v1::GetStatusRequest*,
                                      v1::GetStatusResponse* response) {
  *response = control_->GetStatus();
  return grpc::Status::OK;
}

grpc::Status ServerService::Drain(grpc::ServerContext* context,
                                  const v1::DrainRequest*,
                                  v1::DrainResponse* response) {
  *response = control_->Drain();
  LogInfo("", "admin event=drain peer=", LogQuote(context->peer()),
          " changed=", response->changed() ? "yes" : "no");
  return grpc::Status::OK;
}

grpc::Status ServerService::Reload(grpc::ServerContext* context,
                                   const v1::ReloadRequest*,
                                   v1::ReloadResponse* response) {
  LogInfo("", "admin event=reload peer=", LogQuote(context->peer()));
  absl::StatusOr<v1::ReloadResponse> result = control_->Reload();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace ferry::admin
