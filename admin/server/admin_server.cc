#include "admin/server/admin_server.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "admin/server/routes_service.h"
#include "admin/server/metrics_service.h"
#include "admin/server/queue_service.h"
#include "admin/server/server_service.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace ferry::admin {
namespace {

// Creates the missing directories of `dir` with mode 0700.
absl::Status MakeDirectories(const std::string& dir) {
  if (dir.empty() || dir == "/") return absl::OkStatus();
  struct stat info;
  if (stat(dir.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is not a directory"));
  }
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    absl::Status parent = MakeDirectories(dir.substr(0, slash));
    if (!parent.ok()) return parent;
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create directory ", dir, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// Returns OK when `path` is free for a new socket, removing a socket that
// nothing listens on. Fails when a server accepts connections on it or
// the path is not a socket.
absl::Status ClaimSocketPath(const std::string& path) {
  struct stat info;
  if (lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat("admin.socket: cannot inspect ", path, ": ",
                     strerror(errno)));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("admin.socket: ", path, " exists and is not a socket. "
                     "Remove it or set admin.socket to another path."));
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  memcpy(address.sun_path, path.data(), path.size());
  const int rc =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  const int error = errno;
  close(fd);
  if (rc == 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        "admin.socket: another process, most likely another ferryd, "
        "serves ", path, ". Stop it first, or set admin.socket to another "
        "path."));
  }
  if (error != ECONNREFUSED) {
    return absl::PermissionDeniedError(absl::StrCat(
        "admin.socket: cannot check ", path, ": ", strerror(error)));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(absl::StrCat(
        "admin.socket: cannot remove the stale socket ", path, ": ",
        strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& field,
                                     const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat(
        "admin.", field, ": cannot read ", path, ": ", strerror(errno)));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(
    const config::Admin& settings) {
  absl::StatusOr<std::string> cert =
      ReadFile("tls_cert_file", settings.tls_cert_file());
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadFile("tls_key_file", settings.tls_key_file());
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> ca =
      ReadFile("tls_client_ca_file", settings.tls_client_ca_file());
  if (!ca.ok()) return ca.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = *ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    const config::Admin& settings, control::Control* control) {
  std::unique_ptr<AdminServer> server(new AdminServer());
  server->socket_path_ = settings.socket();
  const std::string& path = server->socket_path_;
  const size_t slash = path.rfind('/');
  absl::Status status = MakeDirectories(path.substr(0, slash));
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("admin.socket: ", status.message()));
  }
  status = ClaimSocketPath(path);
  if (!status.ok()) return status;

  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  server->addresses_.push_back("unix:" + path);
  int tcp_port = 0;
  if (!settings.tcp_listen().empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls =
        TlsCredentials(settings);
    if (!tls.ok()) return tls.status();
    builder.AddListeningPort(settings.tcp_listen(), *tls, &tcp_port);
    server->addresses_.push_back(settings.tcp_listen());
  }
  server->services_.push_back(std::make_unique<ServerService>(control));
  server->services_.push_back(std::make_unique<RoutesService>(control));
  auto metrics = std::make_unique<MetricsService>(control);
  server->metrics_service_ = metrics.get();
  server->services_.push_back(std::move(metrics));
  server->services_.push_back(std::make_unique<QueueService>(control));
  for (auto& service : server->services_) builder.RegisterService(service.get());

  // The socket is created with mode 0600 from the start: no other user
  // can connect in the moment before the chmod below.
  const mode_t old_umask = umask(0177);
  server->server_ = builder.BuildAndStart();
  umask(old_umask);
  if (server->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve the admin API on ", path,
        settings.tcp_listen().empty() ? ""
                                      : absl::StrCat(" and ",
                                                     settings.tcp_listen()),
        "; the log above has gRPC's reason"));
  }
  if (!settings.tcp_listen().empty() && tcp_port == 0) {
    server->Shutdown(absl::ZeroDuration());
    return absl::UnavailableError(absl::StrCat(
        "admin.tcp_listen: cannot listen on ", settings.tcp_listen(),
        ". Is the address in use or not on this machine?"));
  }
  chmod(path.c_str(), 0600);
  return server;
}

AdminServer::~AdminServer() { Shutdown(); }

void AdminServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  if (metrics_service_ != nullptr) metrics_service_->Stop();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoNanoseconds(grace));
  server_->Wait();
  unlink(socket_path_.c_str());
}

}  // namespace ferry::admin
