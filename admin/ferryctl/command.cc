#include "admin/ferryctl/command.h"

#include <cstdio>

#include "absl/status/status.h"

namespace ferry::ferryctl {

std::optional<int> HandleHelp(const std::vector<std::string>& argv,
                              const char* usage) {
  for (const std::string& arg : argv) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      printf("%s", usage);
      return kExitOk;
    }
  }
  return std::nullopt;
}

std::optional<Args> ParseOrComplain(const std::string& command,
                                    const std::vector<std::string>& argv,
                                    const FlagSpec& spec) {
  absl::StatusOr<Args> args = Args::Parse(argv, spec);
  if (!args.ok()) {
    fprintf(stderr, "ferryctl %s: %s; run ferryctl %s --help\n",
            command.c_str(), std::string(args.status().message()).c_str(),
            command.c_str());
    return std::nullopt;
  }
  return *std::move(args);
}

std::shared_ptr<grpc::Channel> ConnectOrComplain(const ClientOptions& options,
                                                 int* exit_code) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(options);
  if (channel.ok()) return *channel;
  // A missing or unreadable TLS file is a command-line error, not a
  // refusal by ferryd.
  *exit_code = Fail(absl::IsUnavailable(channel.status()) ? kExitUnreachable
                                                          : kExitUsage,
                    std::string(channel.status().message()));
  return nullptr;
}

}  // namespace ferry::ferryctl
