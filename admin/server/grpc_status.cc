#include "admin/server/grpc_status.h"

#include <string>

namespace ferry::admin {
namespace {

// The maximum length of a status message. gRPC clients reject a status
// whose metadata exceeds their limit (8 KiB by default) and report that
// limit instead of the error, so a longer message is cut here.
constexpr size_t kMaxMessageLength = 4096;

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  if (message.size() > kMaxMessageLength) {
    message.resize(kMaxMessageLength);
    message += "...";
  }
  // absl::StatusCode and grpc::StatusCode both follow google.rpc.Code.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
}

}  // namespace ferry::admin
