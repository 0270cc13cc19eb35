// ferryd: the ferry SMTP relay daemon. See `ferryd --help`.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "admin/metrics_http.h"
#include "admin/server/admin_server.h"
#include "engine/base/log.h"
#include "google/protobuf/util/message_differencer.h"
#include "engine/config/config.h"
#include "engine/config/usage.h"
#include "engine/io/probe.h"
#include "engine/metrics/registry.h"
#include "engine/route/route_config.h"
#include "engine/route/route_snapshot.h"
#include "engine/route/route_store.h"
#include "engine/server/connection_limiter.h"
#include "engine/server/engine_control.h"
#include "engine/server/listener.h"
#include "engine/server/queue_control.h"
#include "engine/server/settings.h"
#include "engine/server/spool_loader.h"
#include "engine/server/spool_mount.h"
#include "engine/server/worker.h"

namespace ferry::server {
namespace {

constexpr char kVersion[] = "0.2.0";

struct Flags {
  std::optional<std::string> config_path;
  bool check_config = false;
  bool help = false;
  bool version = false;
  bool debug = false;
};

// Parses the command line. Returns an error message for a bad argument.
std::optional<std::string> ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      flags->help = true;
    } else if (arg == "--version") {
      flags->version = true;
    } else if (arg == "--check-config") {
      flags->check_config = true;
    } else if (arg == "--debug") {
      flags->debug = true;
    } else if (arg.substr(0, 9) == "--config=") {
      flags->config_path = std::string(arg.substr(9));
    } else if (arg == "--config" && i + 1 < argc) {
      flags->config_path = argv[++i];
    } else {
      return absl::StrCat("unknown or incomplete argument \"", arg,
                          "\"; run ferryd --help for the options");
    }
  }
  return std::nullopt;
}

absl::StatusOr<config::Config> LoadConfig(const Flags& flags) {
  if (flags.config_path) return config::LoadConfigFile(*flags.config_path);
  config::Config config = config::DefaultConfig();
  absl::Status status = config::ValidateConfig(config);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("built-in default configuration: ", status.message()));
  }
  return config;
}

// Makes a stderr that is a regular file append-only. Workers write their
// log lines through io_uring at the file's current position, and without
// O_APPEND two workers writing at once would overwrite each other's lines.
void AppendToStderrFile() {
  struct stat info;
  if (fstat(STDERR_FILENO, &info) != 0 || !S_ISREG(info.st_mode)) return;
  const int flags = fcntl(STDERR_FILENO, F_GETFL);
  if (flags >= 0 && (flags & O_APPEND) == 0) {
    fcntl(STDERR_FILENO, F_SETFL, flags | O_APPEND);
  }
}

// Blocks the signals that the main thread waits for, before any thread
// starts, so that workers inherit the mask and never receive them.
sigset_t BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

// Returns one line per setting, other than the routes, that differs
// between the configuration ferryd runs with and `loaded`, such as
// "modified: limits.max_recipients: 100 -> 200". Workers read their
// settings without locks, so these take effect only after a restart.
std::vector<std::string> SettingsNeedingRestart(const config::Config& running,
                                                config::Config loaded) {
  config::Config baseline = running;
  baseline.clear_route();
  loaded.clear_route();
  std::string report;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&report);
  differencer.Compare(baseline, loaded);
  return absl::StrSplit(report, '\n', absl::SkipEmpty());
}

// Re-reads the configuration file and hands its routes to the route store,
// which applies them unless the admin API manages the routes. Used by
// SIGHUP and the admin API's Reload. Other changed settings are logged and
// reported as needing a restart.
absl::StatusOr<admin::v1::ReloadResponse> ReloadConfig(
    const Flags& flags, const config::Config& running,
    route::RouteStore* store) {
  if (!flags.config_path) {
    LogInfo("", "event=reload_skipped reason=no_config_file");
    return absl::FailedPreconditionError(
        "ferryd runs on its built-in defaults (no --config), so there is "
        "no file to reload");
  }
  absl::StatusOr<config::Config> config = LoadConfig(flags);
  absl::StatusOr<route::RouteStore::ReseedResult> result =
      config.ok()
          ? store->ReseedFromConfig(route::RoutesFromConfig(*config))
          : absl::StatusOr<route::RouteStore::ReseedResult>(config.status());
  if (!result.ok()) {
    LogError("", "event=reload_failed keeping=old_routes error=",
             LogQuote(result.status().message(), 2000));
    return absl::Status(result.status().code(),
                        absl::StrCat("the configuration was not applied: ",
                                     result.status().message()));
  }
  if (result->outcome == route::RouteStore::ReseedOutcome::kIgnored) {
    LogWarning("",
               "event=routes_reload_skipped reason=admin_api since_version=",
               store->admin_api_since_version(),
               " detail=", LogQuote(result->summary));
  } else {
    LogInfo("", "event=routes_reloaded version=", result->version,
            " routes=", store->size(), " changed=", result->changed_routes);
  }
  admin::v1::ReloadResponse response;
  response.add_applied(result->summary);
  for (std::string& line : SettingsNeedingRestart(running, *config)) {
    LogWarning("", "event=reload_needs_restart change=", LogQuote(line));
    response.add_needs_restart(std::move(line));
  }
  return response;
}

// Opens the route store on <spool_dir>/routes.pb, publishing its table to
// `snapshot`, and logs where the routes came from.
absl::StatusOr<std::unique_ptr<route::RouteStore>> OpenRouteStore(
    const Settings& settings, const config::Config& config,
    route::RouteSnapshot* snapshot) {
  route::RouteStore::Options options;
  options.state_path = absl::StrCat(settings.spool_dir, "/routes.pb");
  absl::StatusOr<std::unique_ptr<route::RouteStore>> store =
      route::RouteStore::Open(options, route::RoutesFromConfig(config),
                              snapshot);
  if (!store.ok()) return store.status();
  const route::RouteStore& opened = **store;
  LogInfo("", "event=routes_loaded source=",
          opened.follows_config() ? "config" : "state",
          " version=", opened.version(), " routes=", opened.size(),
          " state_file=", options.state_path);
  if (!opened.follows_config() && config.route_size() > 0) {
    LogWarning("", "event=config_routes_ignored reason=admin_api",
               " since_version=", opened.admin_api_since_version());
  }
  return store;
}

void StopWorkers(std::vector<std::unique_ptr<Worker>>& workers) {
  for (auto& worker : workers) worker->Stop();
  for (auto& worker : workers) worker->Join();
}

// The admin API and, when configured, the /metrics endpoint.
struct ControlEndpoints {
  std::unique_ptr<admin::AdminServer> admin;
  std::unique_ptr<admin::MetricsHttpServer> metrics_http;
};

absl::StatusOr<ControlEndpoints> StartControlEndpoints(
    const config::Config& config, control::Control* control) {
  ControlEndpoints endpoints;
  absl::StatusOr<std::unique_ptr<admin::AdminServer>> admin_server =
      admin::AdminServer::Start(config.admin(), control);
  if (!admin_server.ok()) return admin_server.status();
  endpoints.admin = *std::move(admin_server);
  if (!config.metrics_listen().empty()) {
    absl::StatusOr<std::unique_ptr<admin::MetricsHttpServer>> started =
        admin::MetricsHttpServer::Start(config.metrics_listen(), control);
    if (!started.ok()) {
      endpoints.admin->Shutdown();
      return started.status();
    }
    endpoints.metrics_http = *std::move(started);
  }
  return endpoints;
}

// Reloads on SIGHUP; returns on SIGTERM or SIGINT.
void WaitForStopSignal(const sigset_t& signals, const Flags& flags,
                       const config::Config& running,
                       route::RouteStore* routes) {
  while (true) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      ReloadConfig(flags, running, routes).IgnoreError();
      continue;
    }
    LogInfo("", "event=stopping signal=", strsignal(signal_number));
    return;
  }
}

int Fail(const absl::Status& status) {
  fprintf(stderr, "ferryd: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Run(const Flags& flags) {
  absl::StatusOr<config::Config> config = LoadConfig(flags);
  if (!config.ok()) return Fail(config.status());
  absl::StatusOr<config::Settings> resolved = config::ResolveSettings(*config);
  if (!resolved.ok()) return Fail(resolved.status());
  if (flags.check_config) {
    printf("%s", config::FormatConfig(resolved->config).c_str());
    return 0;
  }
  absl::Status probe = io::ProbeRequiredOperations();
  if (!probe.ok()) return Fail(probe);
  absl::StatusOr<Settings> settings = MakeSettings(*resolved);
  if (!settings.ok()) return Fail(settings.status());

  for (const config::ListenAddress& address : settings->listen) {
    absl::Status free = CheckListenAddressFree(address);
    if (!free.ok()) return Fail(free);
  }
  const sigset_t signals = BlockSignals();
  AppendToStderrFile();
  absl::StatusOr<std::vector<WorkerSpoolState>> spool =
      LoadSpool(settings->spool_dir, settings->workers);
  if (!spool.ok()) return Fail(spool.status());
  WarnAboutSpoolMount(settings->spool_dir);
  // After LoadSpool(), which creates the spool directory that contains the
  // route store's state file, and before any worker looks up a route.
  route::RouteSnapshot routes;
  absl::StatusOr<std::unique_ptr<route::RouteStore>> route_store =
      OpenRouteStore(*settings, resolved->config, &routes);
  if (!route_store.ok()) return Fail(route_store.status());
  ConnectionLimiter limiter(settings->max_connections,
                            settings->max_connections_per_address);
  metrics::Registry metrics_registry(settings->spool_dir);
  // Declared before the workers so that it outlives their threads, which
  // use it for ETRN.
  std::unique_ptr<QueueControl> queue_control;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int k = 0; k < settings->workers; ++k) {
    workers.push_back(std::make_unique<Worker>(k, &*settings, &routes, &limiter,
                                               std::move((*spool)[k]),
                                               metrics_registry.AddWorker()));
  }
  std::vector<Worker*> worker_pointers;
  for (auto& worker : workers) worker_pointers.push_back(worker.get());
  queue_control = std::make_unique<QueueControl>(worker_pointers);
  for (auto& worker : workers) worker->SetQueueControl(queue_control.get());
  for (auto& worker : workers) {
    absl::Status status = worker->Start();
    if (status.ok()) continue;
    LogError("", "event=start_failed error=", LogQuote(status.message(), 500));
    StopWorkers(workers);
    return Fail(status);
  }
  // The failures that deferred mail on a route's old next hops do not
  // apply to its new ones, so a changed route retries that mail at once
  // instead of after its backoff.
  (*route_store)->SetChangeListener([&queue_control](const std::string& domain) {
    QueueFilter filter;
    filter.domains = {domain};
    queue_control->StartFlush(filter);
  });
  EngineParts parts;
  parts.version = kVersion;
  parts.config_path = flags.config_path.value_or("");
  parts.settings = &*settings;
  for (auto& worker : workers) parts.workers.push_back(worker.get());
  parts.routes = route_store->get();
  parts.queue = queue_control.get();
  parts.reload = [&flags, &config, &route_store] {
    return ReloadConfig(flags, *config, route_store->get());
  };
  parts.metrics = &metrics_registry;
  EngineControl control(std::move(parts));
  absl::StatusOr<ControlEndpoints> endpoints =
      StartControlEndpoints(resolved->config, &control);
  if (!endpoints.ok()) {
    LogError("", "event=start_failed error=",
             LogQuote(endpoints.status().message(), 500));
    StopWorkers(workers);
    return Fail(endpoints.status());
  }
  std::vector<std::string> listen;
  for (const auto& address : settings->listen) {
    listen.push_back(address.ToString());
  }
  LogInfo("", "event=started version=", kVersion,
          " workers=", settings->workers,
          " listen=", absl::StrJoin(listen, ","),
          " spool=", settings->spool_dir, " routes=", (*route_store)->size(),
          " admin=", absl::StrJoin(endpoints->admin->addresses(), ","));
  WaitForStopSignal(signals, flags, *config, route_store->get());
  // Ends route watch streams at once, so the admin server's shutdown does
  // not wait for them.
  (*route_store)->SetChangeListener({});
  (*route_store)->Shutdown();
  endpoints->admin->Shutdown();
  StopWorkers(workers);
  // Stopped last, so that Prometheus can scrape while workers finish.
  if (endpoints->metrics_http != nullptr) endpoints->metrics_http->Shutdown();
  LogInfo("", "event=stopped");
  return 0;
}

}  // namespace
}  // namespace ferry::server

int main(int argc, char** argv) {
  using ferry::server::Flags;
  Flags flags;
  if (auto error = ferry::server::ParseFlags(argc, argv, &flags)) {
    fprintf(stderr, "ferryd: %s\n", error->c_str());
    return 2;
  }
  if (flags.help) {
    printf("%s", ferry::config::FerrydUsage().c_str());
    return 0;
  }
  if (flags.version) {
    printf("ferryd %s\n", ferry::server::kVersion);
    return 0;
  }
  if (flags.debug) ferry::SetMinLogLevel(ferry::LogLevel::kDebug);
  return ferry::server::Run(flags);
}
