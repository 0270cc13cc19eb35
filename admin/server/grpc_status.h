// Conversion of absl::Status, which the engine's control interface
// returns, to the grpc::Status that the admin services send.
#ifndef FERRY_ADMIN_SERVER_GRPC_STATUS_H_
#define FERRY_ADMIN_SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ferry::admin {

// Keeps the code (the numbering of the two enums is the same) and the
// message, cut after 4096 octets.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_SERVER_GRPC_STATUS_H_
