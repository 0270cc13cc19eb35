#include "admin/ferryctl/client.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace ferry::ferryctl {
namespace {

// Channel arguments for every call. gRPC's default limit on a received
// message is 4 MiB, but a routing table or queue page can be larger. The
// peer is the operator's own ferryd, so ferryctl accepts any size.
grpc::ChannelArguments ChannelArguments() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  return arguments;
}

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("--", flag, ": cannot read ",
                                            path, ": ", strerror(errno)));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

std::string DescribeTarget(const ClientOptions& options) {
  if (!options.server.empty()) return options.server + " (TLS)";
  return "unix:" + options.socket;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ClientOptions& options) {
  if (options.server.empty()) {
    struct stat info;
    if (stat(options.socket.c_str(), &info) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach ferryd: no admin socket at ", options.socket, " (",
          strerror(errno), "). Is ferryd running? Give its socket with "
          "--socket=PATH or its configuration with --config=FILE."));
    }
    return grpc::CreateCustomChannel("unix:" + options.socket,
                                     grpc::InsecureChannelCredentials(),
                                     ChannelArguments());
  }
  grpc::SslCredentialsOptions tls;
  for (auto [flag, path, field] :
       {std::make_tuple("tls-ca", &options.tls_ca_file, &tls.pem_root_certs),
        std::make_tuple("tls-cert", &options.tls_cert_file,
                        &tls.pem_cert_chain),
        std::make_tuple("tls-key", &options.tls_key_file,
                        &tls.pem_private_key)}) {
    if (path->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--server needs --tls-ca, --tls-cert and --tls-key: ferryd "
          "serves the admin API over TCP only to clients with a "
          "certificate; --", flag, " is missing"));
    }
    absl::StatusOr<std::string> text = ReadFile(flag, *path);
    if (!text.ok()) return text.status();
    *field = *text;
  }
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(tls),
                                   ChannelArguments());
}

void SetDeadline(const ClientOptions& options, grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoNanoseconds(options.timeout));
}

int ReportRpcError(const ClientOptions& options, const std::string& what,
                   const grpc::Status& status) {
  std::string message = status.error_message();
  int code = kExitFailed;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      code = kExitUnreachable;
      message = absl::StrCat("cannot reach ferryd at ",
                             DescribeTarget(options), ": ", message);
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      code = kExitUnreachable;
      message = absl::StrCat("ferryd at ", DescribeTarget(options),
                             " did not answer within the timeout (--timeout)");
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      message = absl::StrCat("this ferryd does not support it: ", message);
      break;
    default:
      break;
  }
  fprintf(stderr, "ferryctl: %s: %s\n", what.c_str(), message.c_str());
  return code;
}

int Fail(int code, const std::string& message) {
  fprintf(stderr, "ferryctl: %s\n", message.c_str());
  return code;
}

}  // namespace ferry::ferryctl
