// ferryctl status, drain and reload: the Server service.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/ferryctl/command.h"
#include "admin/ferryctl/output.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::ferryctl {
namespace {

namespace v1 = ::ferry::admin::v1;

constexpr char kStatusUsage[] = R"(Usage: ferryctl [GLOBAL OPTIONS] status [--json]

Shows ferryd's version, uptime, workers, SMTP listen addresses, whether it
is draining, the spool's directory and disk usage, and the routing table's
version.
)";

constexpr char kDrainUsage[] = R"(Usage: ferryctl [GLOBAL OPTIONS] drain [--json]

Makes ferryd stop accepting SMTP connections: its listening sockets
close, sessions in progress finish, and queued mail keeps being
delivered. Use it before taking a relay out of service; stop ferryd
(SIGTERM) once `ferryctl queue summary` shows the queue empty. A drain
lasts until ferryd restarts.
)";

constexpr char kReloadUsage[] = R"(Usage: ferryctl [GLOBAL OPTIONS] reload [--json]

Makes ferryd read its configuration file again and apply what can change
while it runs, like SIGHUP. Prints what was applied, and the settings
that changed in the file but need a restart. An invalid file changes
nothing; the error names the line and field.
)";

// Runs one argument-less call of the Server service: help, flags,
// channel, the call with a deadline, then JSON or `print` for people.
template <typename Response, typename Call, typename Print>
int RunServerCall(const Invocation& invocation, const char* name,
                  const char* usage, Call call, Print print) {
  if (auto code = HandleHelp(invocation.argv, usage)) return *code;
  std::optional<Args> args =
      ParseOrComplain(name, invocation.argv, FlagSpec{});
  if (!args) return kExitUsage;
  if (!args->positional().empty()) {
    return Fail(kExitUsage, absl::StrCat(name, " takes no arguments; run "
                                         "ferryctl ", name, " --help"));
  }
  int exit_code = kExitOk;
  auto channel = ConnectOrComplain(invocation.options, &exit_code);
  if (channel == nullptr) return exit_code;
  auto stub = v1::Server::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  Response response;
  grpc::Status rpc = call(*stub, &context, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, name, rpc);
  if (invocation.options.json) {
    PrintJson(response);
  } else {
    print(response);
  }
  return kExitOk;
}

void PrintStatus(const v1::GetStatusResponse& status) {
  const uint64_t used = status.spool_total_bytes() - status.spool_free_bytes();
  PrintFields({
      {"version", status.version()},
      {"pid", absl::StrCat(status.pid())},
      {"started", HumanTime(status.started())},
      {"uptime", HumanDuration(status.uptime())},
      {"workers", absl::StrCat(status.workers())},
      {"smtp listen", absl::StrJoin(status.smtp_listen(), ", ")},
      {"accepting", status.draining() ? "no (draining)" : "yes"},
      {"config file",
       status.config_file().empty() ? "(built-in defaults)"
                                    : status.config_file()},
      {"spool", status.spool_dir()},
      {"spool size", HumanBytes(status.spool_bytes())},
      {"spool file system",
       absl::StrCat(HumanBytes(used), " used of ",
                    HumanBytes(status.spool_total_bytes()), ", ",
                    HumanBytes(status.spool_free_bytes()), " free")},
      {"queued messages", absl::StrCat(status.queued_messages())},
      {"connections", absl::StrCat(status.inbound_connections(), " in, ",
                                   status.outbound_connections(), " out")},
      {"route version", absl::StrCat(status.route_version())},
  });
}

void PrintDrain(const v1::DrainResponse& response) {
  printf("%s\n", response.changed()
                     ? "draining: ferryd accepts no new SMTP connections "
                       "and keeps delivering"
                     : "already draining");
}

void PrintReload(const v1::ReloadResponse& response) {
  for (const std::string& line : response.applied()) {
    printf("applied: %s\n", line.c_str());
  }
  for (const std::string& line : response.needs_restart()) {
    printf("needs a restart: %s\n", line.c_str());
  }
  if (response.applied().empty() && response.needs_restart().empty()) {
    printf("nothing changed\n");
  }
}

}  // namespace

int RunStatus(const Invocation& invocation) {
  return RunServerCall<v1::GetStatusResponse>(
      invocation, "status", kStatusUsage,
      [](v1::Server::Stub& stub, grpc::ClientContext* context,
         v1::GetStatusResponse* response) {
        return stub.GetStatus(context, {}, response);
      },
      PrintStatus);
}

int RunDrain(const Invocation& invocation) {
  return RunServerCall<v1::DrainResponse>(
      invocation, "drain", kDrainUsage,
      [](v1::Server::Stub& stub, grpc::ClientContext* context,
         v1::DrainResponse* response) {
        return stub.Drain(context, {}, response);
      },
      PrintDrain);
}

int RunReload(const Invocation& invocation) {
  return RunServerCall<v1::ReloadResponse>(
      invocation, "reload", kReloadUsage,
      [](v1::Server::Stub& stub, grpc::ClientContext* context,
         v1::ReloadResponse* response) {
        return stub.Reload(context, {}, response);
      },
      PrintReload);
}

}  // namespace ferry::ferryctl
