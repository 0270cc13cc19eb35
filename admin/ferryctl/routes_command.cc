#include "admin/ferryctl/routes_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/ferryctl/next_hop_text.h"
#include "admin/ferryctl/output.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::ferryctl {
namespace {

namespace v1 = ::ferry::admin::v1;

constexpr char kRoutesUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] routes SUBCOMMAND [ARGUMENTS] [--json]

Shows and changes ferryd's routing table while it runs. A change takes
effect within milliseconds, also for mail already queued, and is kept
across restarts in the spool's routes.pb. After the first change made
here, ferryd ignores the routes of its configuration file (on SIGHUP,
reload and restart) until routes.pb is removed.

SUBCOMMANDS
    list                      Every route, and the table's version.
    get DOMAIN                One route.
    put DOMAIN NEXT_HOP...    Create or replace a route.
    delete DOMAIN             Delete a route.
    watch                     Print each change as it happens.

Run `ferryctl routes SUBCOMMAND --help` for its arguments.
)";

constexpr char kListUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] routes list [--json]

Prints every route, sorted by domain, as a table: the domain, its next
hops (HOST:PORT/PRIORITY, the priority left out when 0), its recipient
list and its ETRN clients ("-" when empty), then the table's version.
With --json, prints one object: {"version", "route": [...]}.
)";

constexpr char kGetUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] routes get DOMAIN [--json]

Prints the route for DOMAIN, the domain pattern as stored ("example.net"
or "*.example.net", without regard to case), and the table's version.
Exit status 1 when there is no such route.
)";

constexpr char kPutUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] routes put DOMAIN NEXT_HOP... [OPTIONS]

Creates the route for DOMAIN or replaces it as a whole: fields that are
not given here are cleared. DOMAIN is "example.net" for that domain only,
or "*.example.net" for its subdomains.

NEXT_HOP is HOST[:PORT][/PRIORITY]: a host name or IP address, the port
(default 25) and the priority (default 0; lower is tried first, equal
priorities in random order). Write an IPv6 address in brackets, with or
without a port: [2001:db8::25] or [2001:db8::25]:2525/10. Give one or
more next hops.

OPTIONS
    --recipient=ENTRY
        Accept only these recipients at RCPT time: a local part ("bob")
        or a whole address. Repeat for each entry. Default: any.
    --etrn-client=ADDRESS
        A client allowed to send ETRN for the route's domains: an IP
        address or a CIDR prefix (192.0.2.0/24, 2001:db8::/32). Repeat
        for each. Default: none.
    --expect-version=N
        Change the route only if the table is still at version N (as
        list or get printed it); otherwise exit 1 and change nothing.

Prints "created" or "replaced" with the table's new version. Exit status
1 when ferryd rejects the route; the message names the field and the fix.

EXAMPLES
    ferryctl routes put example.net mail.example.net:2525
    ferryctl routes put example.net mx1.example.net:2525/10 \
        mx2.example.net:2525/20 --etrn-client=192.0.2.0/24
)";

constexpr char kDeleteUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] routes delete DOMAIN [OPTIONS]

Deletes the route for DOMAIN. Mail for the domain is then rejected at RCPT
time, and queued mail for it is deferred until a route exists again.

OPTIONS
    --expect-version=N
        Delete only if the table is still at version N.

Exit status 1 when there is no such route.
)";

constexpr char kWatchUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] routes watch [--from=N] [--json]

Prints each change of the routing table as it happens, until ferryd stops
or ferryctl is interrupted. Each line starts with the table's version
after the change.

OPTIONS
    --from=N
        Start after version N: print the changes made since, then the new
        ones. Default 0, which prints the whole table first. When ferryd
        no longer keeps the changes after N (it keeps the last 10,000,
        and none from before its last start), the whole table comes first.

With --json, prints one object per line with the fields of RouteEvent in
proto/admin.proto: "kind" is KIND_SNAPSHOT (the whole table in "table"),
KIND_PUT (the new route in "route") or KIND_DELETE, and "version" is a
string, as JSON writes 64-bit numbers. Exit status 3 when the stream
ends because ferryd stops.
)";

std::string JoinOrDash(
    const google::protobuf::RepeatedPtrField<std::string>& values) {
  return values.empty() ? "-" : absl::StrJoin(values, ",");
}

std::string NextHopsText(const v1::Route& route) {
  std::vector<std::string> hops;
  for (const v1::NextHop& hop : route.next_hop()) {
    hops.push_back(FormatNextHop(hop));
  }
  return absl::StrJoin(hops, ",");
}

std::string RouteLine(const v1::Route& route) {
  std::string line = absl::StrCat(route.domain(), " -> ", NextHopsText(route));
  if (!route.recipient().empty()) {
    absl::StrAppend(&line, " recipients=", JoinOrDash(route.recipient()));
  }
  if (!route.etrn_client().empty()) {
    absl::StrAppend(&line, " etrn_clients=", JoinOrDash(route.etrn_client()));
  }
  return line;
}

// Parses the flags and checks the count of positional arguments.
std::optional<Args> ParseSubcommand(const std::string& name,
                                    const Invocation& invocation,
                                    const FlagSpec& spec, size_t min_args,
                                    size_t max_args) {
  const std::string command = absl::StrCat("routes ", name);
  std::optional<Args> args = ParseOrComplain(command, invocation.argv, spec);
  if (!args) return std::nullopt;
  const size_t count = args->positional().size();
  if (count < min_args || count > max_args) {
    fprintf(stderr, "ferryctl %s: %s; run ferryctl %s --help\n",
            command.c_str(),
            count < min_args ? "missing arguments" : "too many arguments",
            command.c_str());
    return std::nullopt;
  }
  return args;
}

std::unique_ptr<v1::Routes::Stub> Connect(const Invocation& invocation,
                                          int* exit_code) {
  auto channel = ConnectOrComplain(invocation.options, exit_code);
  if (channel == nullptr) return nullptr;
  return v1::Routes::NewStub(channel);
}

int RunList(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kListUsage)) return *code;
  if (!ParseSubcommand("list", invocation, FlagSpec{}, 0, 0)) {
    return kExitUsage;
  }
  int exit_code = kExitOk;
  auto stub = Connect(invocation, &exit_code);
  if (stub == nullptr) return exit_code;
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::ListRoutesResponse response;
  grpc::Status rpc = stub->ListRoutes(&context, {}, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, "routes list", rpc);
  if (invocation.options.json) {
    PrintJson(response);
    return kExitOk;
  }
  Table table({"DOMAIN", "NEXT HOPS", "RECIPIENTS", "ETRN CLIENTS"});
  for (const v1::Route& route : response.route()) {
    table.AddRow({route.domain(), NextHopsText(route),
                  JoinOrDash(route.recipient()),
                  JoinOrDash(route.etrn_client())});
  }
  table.Print(/*header_when_empty=*/false);
  printf("%d route%s, version %llu\n", response.route_size(),
         response.route_size() == 1 ? "" : "s",
         static_cast<unsigned long long>(response.version()));
  return kExitOk;
}

int RunGet(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kGetUsage)) return *code;
  std::optional<Args> args =
      ParseSubcommand("get", invocation, FlagSpec{}, 1, 1);
  if (!args) return kExitUsage;
  int exit_code = kExitOk;
  auto stub = Connect(invocation, &exit_code);
  if (stub == nullptr) return exit_code;
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::GetRouteRequest request;
  request.set_domain(args->positional()[0]);
  v1::GetRouteResponse response;
  grpc::Status rpc = stub->GetRoute(&context, request, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, "routes get", rpc);
  if (invocation.options.json) {
    PrintJson(response);
    return kExitOk;
  }
  const v1::Route& route = response.route();
  PrintFields({
      {"domain", route.domain()},
      {"next hops", NextHopsText(route)},
      {"recipients", JoinOrDash(route.recipient())},
      {"etrn clients", JoinOrDash(route.etrn_client())},
      {"table version", absl::StrCat(response.version())},
  });
  return kExitOk;
}

// Builds the PutRoute request from the command line. Errors are usage
// errors, worded for ferryctl's message.
// Returns --expect-version, or 0 (no check) when it is not given. The
// API reads 0 as "no check", and the table starts at version 1, so
// --expect-version=0 is refused instead of changing the table unchecked.
absl::StatusOr<uint64_t> ExpectedVersion(const Args& args) {
  absl::StatusOr<uint64_t> expected = args.Unsigned("expect-version", 0);
  if (!expected.ok()) return expected.status();
  if (args.Has("expect-version") && *expected == 0) {
    return absl::InvalidArgumentError(
        "--expect-version=0 matches no table: versions start at 1. Give "
        "the version that routes list or get printed");
  }
  return *expected;
}

absl::StatusOr<v1::PutRouteRequest> MakePutRequest(const Args& args) {
  v1::PutRouteRequest request;
  v1::Route* route = request.mutable_route();
  route->set_domain(args.positional()[0]);
  for (size_t i = 1; i < args.positional().size(); ++i) {
    absl::StatusOr<v1::NextHop> hop = ParseNextHop(args.positional()[i]);
    if (!hop.ok()) return hop.status();
    *route->add_next_hop() = *std::move(hop);
  }
  for (const std::string& recipient : args.Values("recipient")) {
    route->add_recipient(recipient);
  }
  for (const std::string& client : args.Values("etrn-client")) {
    route->add_etrn_client(client);
  }
  absl::StatusOr<uint64_t> expected = ExpectedVersion(args);
  if (!expected.ok()) return expected.status();
  request.set_expected_version(*expected);
  return request;
}

int RunPut(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kPutUsage)) return *code;
  const FlagSpec spec{.switches = {},
                      .values = {"expect-version"},
                      .repeated = {"recipient", "etrn-client"}};
  std::optional<Args> args =
      ParseSubcommand("put", invocation, spec, 2, SIZE_MAX);
  if (!args) return kExitUsage;
  absl::StatusOr<v1::PutRouteRequest> request = MakePutRequest(*args);
  if (!request.ok()) {
    return Fail(kExitUsage,
                absl::StrCat("routes put: ", request.status().message()));
  }

  int exit_code = kExitOk;
  auto stub = Connect(invocation, &exit_code);
  if (stub == nullptr) return exit_code;
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::PutRouteResponse response;
  grpc::Status rpc = stub->PutRoute(&context, *request, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, "routes put", rpc);
  if (invocation.options.json) {
    PrintJson(response);
    return kExitOk;
  }
  // ferryd stores domains in lower case.
  printf("%s %s at version %llu\n", response.created() ? "created" : "replaced",
         absl::AsciiStrToLower(request->route().domain()).c_str(),
         static_cast<unsigned long long>(response.version()));
  return kExitOk;
}

int RunDelete(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kDeleteUsage)) return *code;
  const FlagSpec spec{
      .switches = {}, .values = {"expect-version"}, .repeated = {}};
  std::optional<Args> args = ParseSubcommand("delete", invocation, spec, 1, 1);
  if (!args) return kExitUsage;
  absl::StatusOr<uint64_t> expected = ExpectedVersion(*args);
  if (!expected.ok()) {
    return Fail(kExitUsage,
                absl::StrCat("routes delete: ", expected.status().message()));
  }
  v1::DeleteRouteRequest request;
  request.set_domain(args->positional()[0]);
  request.set_expected_version(*expected);
  int exit_code = kExitOk;
  auto stub = Connect(invocation, &exit_code);
  if (stub == nullptr) return exit_code;
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::DeleteRouteResponse response;
  grpc::Status rpc = stub->DeleteRoute(&context, request, &response);
  if (!rpc.ok()) {
    return ReportRpcError(invocation.options, "routes delete", rpc);
  }
  if (invocation.options.json) {
    PrintJson(response);
    return kExitOk;
  }
  printf("deleted %s at version %llu\n",
         absl::AsciiStrToLower(request.domain()).c_str(),
         static_cast<unsigned long long>(response.version()));
  return kExitOk;
}

void PrintEvent(const v1::RouteEvent& event) {
  const unsigned long long version = event.version();
  switch (event.kind()) {
    case v1::RouteEvent::KIND_SNAPSHOT:
      printf("version %llu: snapshot of %d route%s\n", version,
             event.table_size(), event.table_size() == 1 ? "" : "s");
      for (const v1::Route& route : event.table()) {
        printf("  %s\n", RouteLine(route).c_str());
      }
      break;
    case v1::RouteEvent::KIND_PUT:
      printf("version %llu: put %s\n", version,
             RouteLine(event.route()).c_str());
      break;
    case v1::RouteEvent::KIND_DELETE:
      printf("version %llu: delete %s\n", version, event.domain().c_str());
      break;
    default:
      printf("version %llu: unknown change to %s\n", version,
             event.domain().c_str());
      break;
  }
  fflush(stdout);
}

int RunWatch(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kWatchUsage)) return *code;
  const FlagSpec spec{.switches = {}, .values = {"from"}, .repeated = {}};
  std::optional<Args> args = ParseSubcommand("watch", invocation, spec, 0, 0);
  if (!args) return kExitUsage;
  absl::StatusOr<uint64_t> from = args->Unsigned("from", 0);
  if (!from.ok()) return Fail(kExitUsage, std::string(from.status().message()));
  int exit_code = kExitOk;
  auto stub = Connect(invocation, &exit_code);
  if (stub == nullptr) return exit_code;
  // No deadline: the stream lasts until ferryd stops or ferryctl is
  // interrupted.
  grpc::ClientContext context;
  v1::WatchRoutesRequest request;
  request.set_from_version(*from);
  std::unique_ptr<grpc::ClientReader<v1::RouteEvent>> reader =
      stub->WatchRoutes(&context, request);
  v1::RouteEvent event;
  while (reader->Read(&event)) {
    if (invocation.options.json) {
      PrintJson(event);
    } else {
      PrintEvent(event);
    }
  }
  grpc::Status rpc = reader->Finish();
  if (!rpc.ok()) return ReportRpcError(invocation.options, "routes watch", rpc);
  return kExitOk;
}

struct Subcommand {
  const char* name;
  int (*run)(const Invocation&);
};

constexpr Subcommand kSubcommands[] = {
    {"list", RunList},     {"get", RunGet},     {"put", RunPut},
    {"delete", RunDelete}, {"watch", RunWatch},
};

}  // namespace

int RunRoutes(const Invocation& invocation) {
  if (invocation.argv.empty()) {
    printf("%s", kRoutesUsage);
    return kExitUsage;
  }
  const std::string& name = invocation.argv[0];
  if (name == "--help" || name == "-h") {
    printf("%s", kRoutesUsage);
    return kExitOk;
  }
  for (const Subcommand& subcommand : kSubcommands) {
    if (name != subcommand.name) continue;
    Invocation rest = invocation;
    rest.argv.erase(rest.argv.begin());
    return subcommand.run(rest);
  }
  return Fail(kExitUsage, absl::StrCat("unknown routes subcommand \"", name,
                                       "\"; run ferryctl routes --help"));
}

}  // namespace ferry::ferryctl
