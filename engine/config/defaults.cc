// Default values of proto/config.proto. Each value here must match the
// "Default ..." sentence in that field's comment in config.proto.

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/config/config.h"

namespace ferry::config {
namespace {

std::string LocalHostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// Returns the value of environment variable `name` if it is an absolute
// path, because the XDG Base Directory Specification requires relative
// paths in its variables to be treated as invalid and ignored.
std::string AbsolutePathFromEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || value[0] != '/') return "";
  return value;
}

// Returns "$XDG_STATE_HOME/ferry/spool", else
// "$HOME/.local/state/ferry/spool", else "" when neither is set.
std::string DefaultSpoolDir() {
  std::string state_home = AbsolutePathFromEnv("XDG_STATE_HOME");
  if (!state_home.empty()) return absl::StrCat(state_home, "/ferry/spool");
  std::string home = AbsolutePathFromEnv("HOME");
  if (!home.empty()) return absl::StrCat(home, "/.local/state/ferry/spool");
  return "";
}

}  // namespace

std::string DefaultAdminSocket() {
  std::string runtime_dir = AbsolutePathFromEnv("XDG_RUNTIME_DIR");
  if (!runtime_dir.empty()) {
    return absl::StrCat(runtime_dir, "/ferry/admin.sock");
  }
  std::string home = AbsolutePathFromEnv("HOME");
  if (!home.empty()) return absl::StrCat(home, "/.local/state/ferry/admin.sock");
  return "";
}

namespace {

void DefaultString(std::string* field, absl::string_view value) {
  if (field->empty()) *field = std::string(value);
}

void ApplyLimitDefaults(Limits& limits) {
  if (limits.max_message_size() == 0) limits.set_max_message_size(10485760);
  if (limits.max_recipients() == 0) limits.set_max_recipients(100);
  if (limits.max_commands() == 0) limits.set_max_commands(10000);
  if (limits.max_errors() == 0) limits.set_max_errors(20);
  if (limits.max_command_line() == 0) limits.set_max_command_line(2048);
  if (limits.max_received_headers() == 0) {
    limits.set_max_received_headers(50);
  }
  if (limits.max_connections() == 0) limits.set_max_connections(10000);
  if (limits.max_receiving_bytes() == 0) {
    limits.set_max_receiving_bytes(268435456);
  }
  if (limits.max_connections_per_address() == 0) {
    limits.set_max_connections_per_address(50);
  }
}

void ApplyTimeoutDefaults(ServerTimeouts& server, ClientTimeouts& client) {
  DefaultString(server.mutable_command(), "300s");
  DefaultString(server.mutable_data_block(), "180s");
  DefaultString(client.mutable_connect(), "30s");
  DefaultString(client.mutable_greeting(), "300s");
  DefaultString(client.mutable_command(), "300s");
  DefaultString(client.mutable_data_initiation(), "120s");
  DefaultString(client.mutable_data_block(), "180s");
  DefaultString(client.mutable_data_termination(), "600s");
}

void ApplyDeliveryDefaults(Delivery& delivery) {
  DefaultString(delivery.mutable_initial_backoff(), "60s");
  DefaultString(delivery.mutable_max_backoff(), "1h");
  DefaultString(delivery.mutable_queue_lifetime(), "5d");
  DefaultString(delivery.mutable_connection_idle_time(), "2s");
  if (delivery.max_connections_per_destination() == 0) {
    delivery.set_max_connections_per_destination(10);
  }
  if (delivery.max_messages_per_connection() == 0) {
    delivery.set_max_messages_per_connection(100);
  }
}

void ApplyRouteDefaults(Route& route) {
  for (NextHop& next_hop : *route.mutable_next_hop()) {
    if (next_hop.port() == 0) next_hop.set_port(kDefaultNextHopPort);
  }
}

}  // namespace

Config DefaultConfig() {
  Config config;
  ApplyDefaults(&config);
  return config;
}

void ApplyDefaults(Config* config) {
  if (config->hostname().empty()) config->set_hostname(LocalHostname());
  if (config->smtp_listen().empty()) config->add_smtp_listen("127.0.0.1:2525");
  if (config->spool_dir().empty()) config->set_spool_dir(DefaultSpoolDir());
  for (Route& route : *config->mutable_route()) ApplyRouteDefaults(route);
  ApplyLimitDefaults(*config->mutable_limits());
  ApplyTimeoutDefaults(*config->mutable_server_timeouts(),
                       *config->mutable_client_timeouts());
  ApplyDeliveryDefaults(*config->mutable_delivery());
  if (config->segment_size() == 0) config->set_segment_size(67108864);
  if (!config->has_spare_segments()) config->set_spare_segments(2);
  DefaultString(config->mutable_admin()->mutable_socket(),
                DefaultAdminSocket());
}

}  // namespace ferry::config
