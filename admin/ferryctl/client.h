// ferryctl's connection to ferryd's admin API, and the messages and exit
// codes it gives for failures.
#ifndef FERRY_ADMIN_FERRYCTL_CLIENT_H_
#define FERRY_ADMIN_FERRYCTL_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace ferry::ferryctl {

// Exit codes, as `ferryctl --help` documents them.
enum ExitCode {
  kExitOk = 0,
  kExitFailed = 1,       // ferryd refused or failed the request
  kExitUsage = 2,        // the command line is invalid
  kExitUnreachable = 3,  // ferryd could not be reached
};

// The global options, which come before the command.
struct ClientOptions {
  // Unix socket; from --socket, the --config file's admin.socket,
  // $FERRY_ADMIN_SOCKET, or the built-in default, in that order.
  std::string socket;
  // "host:port" for the admin API over TCP with TLS; overrides socket.
  std::string server;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  bool json = false;
  absl::Duration timeout = absl::Seconds(10);
};

// Where the channel goes: "unix:/path" or "host:port (TLS)".
std::string DescribeTarget(const ClientOptions& options);

// Opens a channel to ferryd. Fails with a message and exit code 3 when the
// socket is missing, or 1 when a TLS file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ClientOptions& options);

// Sets the deadline of a unary call.
void SetDeadline(const ClientOptions& options, grpc::ClientContext* context);

// Prints "ferryctl: <what>: <reason>" to stderr, with a hint for the
// common failures, and returns the exit code for `status`.
int ReportRpcError(const ClientOptions& options, const std::string& what,
                   const grpc::Status& status);

// Prints "ferryctl: <message>" to stderr and returns `code`.
int Fail(int code, const std::string& message);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_CLIENT_H_
