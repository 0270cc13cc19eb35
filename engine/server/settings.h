// Settings: the configuration as the engine uses it, with durations and
// addresses parsed, defaults applied and limits in native types. Built once
// at start-up from a validated config::Config; read-only afterwards, so any
// thread may read it.
#ifndef FERRY_ENGINE_SERVER_SETTINGS_H_
#define FERRY_ENGINE_SERVER_SETTINGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/config/config.h"
#include "engine/config/listen_address.h"
#include "engine/route/route_table.h"
#include "engine/smtp/server_session.h"

namespace ferry::server {

struct ClientTimeouts {
  absl::Duration connect = absl::Seconds(30);
  absl::Duration greeting = absl::Seconds(300);
  absl::Duration command = absl::Seconds(300);
  absl::Duration data_initiation = absl::Seconds(120);
  absl::Duration data_block = absl::Seconds(180);
  absl::Duration data_termination = absl::Seconds(600);
};

struct Settings {
  std::string hostname;
  std::vector<config::ListenAddress> listen;
  std::string spool_dir;
  int workers = 1;
  uint64_t segment_size = 64 << 20;
  size_t spare_segments = 2;
  smtp::ServerSessionOptions session;
  absl::Duration command_timeout = absl::Seconds(300);
  absl::Duration data_block_timeout = absl::Seconds(180);
  uint32_t max_connections = 10000;
  uint32_t max_connections_per_address = 50;
  uint64_t max_receiving_bytes = 256 << 20;  // per worker
  ClientTimeouts client;
  absl::Duration initial_backoff = absl::Seconds(60);
  absl::Duration max_backoff = absl::Hours(1);
  absl::Duration queue_lifetime = absl::Hours(24 * 5);
  uint32_t max_connections_per_destination = 10;
  uint32_t max_messages_per_connection = 100;
  // How long an outbound connection waits, open, for its destination's
  // next message before it sends QUIT.
  absl::Duration connection_idle_time = absl::Seconds(2);
  // How long SIGTERM waits for transactions and deliveries in progress.
  absl::Duration shutdown_grace = absl::Seconds(30);
  std::vector<route::Route> routes;
};

// Converts a loaded configuration (defaults already applied, validated)
// into Settings. Returns InvalidArgument naming the field for a value that
// validation let through but cannot be used.
absl::StatusOr<Settings> MakeSettings(const config::Settings& resolved);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_SETTINGS_H_
