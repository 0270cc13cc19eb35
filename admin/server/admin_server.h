// AdminServer: the gRPC server of the admin API. It listens on a Unix
// socket (mode 0600) and, when configured, on TCP with TLS that requires
// client certificates, and serves the services of
// proto/admin_service.proto on top of the engine's control::Control.
//
// gRPC runs its own threads; nothing here runs on a worker thread.
#ifndef FERRY_ADMIN_SERVER_ADMIN_SERVER_H_
#define FERRY_ADMIN_SERVER_ADMIN_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/control/control.h"
#include "grpcpp/server.h"
#include "proto/config.pb.h"

namespace ferry::admin {

class MetricsService;

class AdminServer {
 public:
  // Prepares the socket's directory, fails when another ferryd serves the
  // socket, removes a stale one, and starts serving.
  // Errors name the path or address and the fix.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(
      const config::Admin& settings, control::Control* control);

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  // Calls Shutdown().
  ~AdminServer();

  // Stops accepting calls, ends open streams and waits for calls in
  // progress (at most `grace`), then removes the socket file.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

  // "unix:/run/ferry/admin.sock" and, with TCP, "[::1]:9926".
  const std::vector<std::string>& addresses() const { return addresses_; }

 private:
  AdminServer() = default;

  std::string socket_path_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  // Owned by services_. Shutdown() ends its watch streams first.
  MetricsService* metrics_service_ = nullptr;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_SERVER_ADMIN_SERVER_H_
