// The invocation every ferryctl command gets, and the helpers they share:
// --help handling, flag parsing with usage errors, and opening the channel.
#ifndef FERRY_ADMIN_FERRYCTL_COMMAND_H_
#define FERRY_ADMIN_FERRYCTL_COMMAND_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/ferryctl/args.h"
#include "admin/ferryctl/client.h"
#include "grpcpp/channel.h"

namespace ferry::ferryctl {

struct Invocation {
  ClientOptions options;
  // The command's arguments, after its name (and after the subcommand's
  // name for `routes` and `queue`).
  std::vector<std::string> argv;
};

// Prints `usage` to stdout and returns 0 when argv requests help
// (--help or -h); returns nullopt otherwise.
std::optional<int> HandleHelp(const std::vector<std::string>& argv,
                              const char* usage);

// Parses the command's flags. On error prints the problem and the hint
// to run --help, and returns nullopt; the caller exits with kExitUsage.
std::optional<Args> ParseOrComplain(const std::string& command,
                                    const std::vector<std::string>& argv,
                                    const FlagSpec& spec);

// Opens the channel, or prints why it cannot and sets *exit_code.
std::shared_ptr<grpc::Channel> ConnectOrComplain(const ClientOptions& options,
                                                 int* exit_code);

// The commands. Each handles its own --help.
int RunStatus(const Invocation& invocation);
int RunDrain(const Invocation& invocation);
int RunReload(const Invocation& invocation);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_COMMAND_H_
