// ferryctl: the command-line client of ferryd's admin API. See
// `ferryctl --help`.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "admin/ferryctl/command.h"
#include "admin/ferryctl/routes_command.h"
#include "admin/ferryctl/metrics_command.h"
#include "admin/ferryctl/queue_command.h"
#include "engine/config/config.h"

namespace ferry::ferryctl {
namespace {

constexpr char kVersion[] = "0.2.0";

constexpr char kUsage[] = R"(NAME
    ferryctl - control a running ferryd

SYNOPSIS
    ferryctl [GLOBAL OPTIONS] COMMAND [ARGUMENTS] [--json]
    ferryctl COMMAND --help

DESCRIPTION
    ferryctl talks to ferryd's admin API: by default over the Unix
    socket that ferryd creates (admin.socket in its configuration), or
    over TCP with TLS client certificates. Output is a table or a list
    of fields for people; --json prints one JSON object per line
    instead, with the field names of proto/admin.proto.

COMMANDS
    status             Version, uptime, workers, listeners, spool usage.
    drain              Stop accepting SMTP connections, keep delivering.
    reload             Read the configuration file again (like SIGHUP).
    routes SUBCOMMAND  list | get | put | delete | watch: the routing
                       table, changed without a restart.
    queue SUBCOMMAND   list | show | flush | hold | release | delete |
                       bounce | summary: the mail waiting for delivery.
    metrics            The counters and histograms that /metrics serves;
                       --watch repeats them.

    Run `ferryctl COMMAND --help` for a command's arguments.

GLOBAL OPTIONS
    --socket=PATH
        ferryd's admin socket. Default: admin.socket of the --config
        file if given, else $FERRY_ADMIN_SOCKET if set, else ferryd's
        default, $XDG_RUNTIME_DIR/ferry/admin.sock or
        $HOME/.local/state/ferry/admin.sock.
    --config=FILE
        Read admin.socket from ferryd's configuration file.
    --server=HOST:PORT
        Use the admin API over TCP (admin.tcp_listen) instead of the
        socket. Needs --tls-ca=FILE (the CA of ferryd's certificate),
        --tls-cert=FILE and --tls-key=FILE (this client's certificate
        and key, signed by the CA in admin.tls_client_ca_file).
    --timeout=DURATION
        How long to wait for an answer, e.g. 500ms, 10s; more than 0.
        Default 10s.
        Watch streams have no timeout.
    --json
        Print JSON, one object per line. May also follow the command.
    --help, --version

EXIT STATUS
    0   The command succeeded.
    1   ferryd refused or failed the request; the message says why, for
        example a route that does not exist or an invalid next hop.
    2   The command line is invalid.
    3   ferryd could not be reached: no socket, nothing listening, or no
        answer within --timeout.

EXAMPLES
    ferryctl status
    ferryctl routes put example.net mail.example.net:2525
    ferryctl queue list --domain=example.net
    ferryctl queue flush --domain=example.net
    ferryctl --json metrics
)";

struct CommandEntry {
  const char* name;
  int (*run)(const Invocation&);
};

constexpr CommandEntry kCommands[] = {
    {"status", RunStatus},
    {"drain", RunDrain},
    {"reload", RunReload},
    {"routes", RunRoutes},
    {"metrics", RunMetrics},
    {"queue", RunQueue},
};

// Fills options.socket when --socket did not. An option on the command
// line wins over the environment, so --config comes before
// $FERRY_ADMIN_SOCKET.
std::optional<std::string> ResolveSocket(const std::string& config_path,
                                         ClientOptions* options) {
  if (!options->socket.empty()) return std::nullopt;
  if (!config_path.empty()) {
    absl::StatusOr<config::Config> config =
        config::LoadConfigFile(config_path);
    if (!config.ok()) {
      return absl::StrCat("--config=", config_path, ": ",
                          config.status().message());
    }
    options->socket = config->admin().socket();
    return std::nullopt;
  }
  const char* env = std::getenv("FERRY_ADMIN_SOCKET");
  if (env != nullptr && env[0] != '\0') {
    options->socket = env;
    return std::nullopt;
  }
  options->socket = config::DefaultAdminSocket();
  if (options->socket.empty()) {
    return "no admin socket: neither XDG_RUNTIME_DIR nor HOME is set. Give "
           "--socket=PATH or --config=FILE.";
  }
  return std::nullopt;
}

int Main(int argc, char** argv) {
  std::vector<std::string> rest;
  ClientOptions options;
  std::string config_path;
  bool help = false;
  int i = 1;
  // Global options come before the command.
  const FlagSpec global{
      .switches = {"json", "help", "version"},
      .values = {"socket", "config", "server", "tls-ca", "tls-cert",
                 "tls-key", "timeout"},
      .repeated = {},
  };
  std::vector<std::string> global_args;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 && arg != "-h") break;
    if (arg == "-h") {
      global_args.push_back("--help");
      continue;
    }
    global_args.push_back(arg);
    const bool takes_value = arg.find('=') == std::string::npos &&
                             global.values.count(arg.substr(2));
    if (takes_value && i + 1 < argc) global_args.push_back(argv[++i]);
  }
  absl::StatusOr<Args> parsed = Args::Parse(global_args, global);
  if (!parsed.ok()) {
    return Fail(kExitUsage, absl::StrCat(parsed.status().message(),
                                         "; run ferryctl --help"));
  }
  help = parsed->Has("help");
  if (parsed->Has("version")) {
    printf("ferryctl %s\n", kVersion);
    return kExitOk;
  }
  if (help || i >= argc) {
    printf("%s", kUsage);
    return help ? kExitOk : kExitUsage;
  }
  // An empty value would silently fall back to the default.
  for (const char* flag : {"socket", "config", "server", "tls-ca", "tls-cert",
                           "tls-key", "timeout"}) {
    if (parsed->Has(flag) && parsed->Value(flag).empty()) {
      return Fail(kExitUsage, absl::StrCat("--", flag,
                                           " is empty; give a value or leave "
                                           "the option out; run ferryctl "
                                           "--help"));
    }
  }
  options.json = parsed->Has("json");
  options.socket = parsed->Value("socket");
  options.server = parsed->Value("server");
  options.tls_ca_file = parsed->Value("tls-ca");
  options.tls_cert_file = parsed->Value("tls-cert");
  options.tls_key_file = parsed->Value("tls-key");
  config_path = parsed->Value("config");
  absl::StatusOr<std::optional<absl::Duration>> timeout =
      parsed->Duration("timeout");
  if (!timeout.ok()) return Fail(kExitUsage, std::string(timeout.status().message()));
  if (timeout->has_value()) {
    if (**timeout <= absl::ZeroDuration()) {
      return Fail(kExitUsage,
                  absl::StrCat("--timeout=", parsed->Value("timeout"),
                               " leaves no time for an answer; give a "
                               "duration such as 500ms or 10s"));
    }
    options.timeout = **timeout;
  }

  const std::string command = argv[i++];
  // --json may also follow the command; the rest goes to the command.
  bool after_separator = false;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") after_separator = true;
    if (!after_separator && arg == "--json") {
      options.json = true;
      continue;
    }
    rest.push_back(arg);
  }
  for (const CommandEntry& entry : kCommands) {
    if (command != entry.name) continue;
    const bool wants_help = HandleHelp(rest, "").has_value();
    if (!wants_help && options.server.empty()) {
      if (auto error = ResolveSocket(config_path, &options)) {
        return Fail(kExitUsage, *error);
      }
    }
    return entry.run(Invocation{options, rest});
  }
  return Fail(kExitUsage, absl::StrCat("unknown command \"", command,
                                       "\"; run ferryctl --help"));
}

}  // namespace
}  // namespace ferry::ferryctl

int main(int argc, char** argv) { return ferry::ferryctl::Main(argc, argv); }
