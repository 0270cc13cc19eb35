// Loading, defaults and validation of ferryd's configuration, a protobuf
// text-format file whose schema is proto/config.proto, and Settings, the
// typed view of it that the engine reads.
//
// ferryd loads the configuration once on its main thread before it starts
// the workers. A Settings is not changed after ResolveSettings returns, so
// workers may read it from any thread without locking.
#ifndef FERRY_ENGINE_CONFIG_CONFIG_H_
#define FERRY_ENGINE_CONFIG_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/config/listen_address.h"
#include "proto/config.pb.h"

namespace ferry::config {

// Next hop port when a next_hop sets none.
inline constexpr uint32_t kDefaultNextHopPort = 25;

// The effective configuration plus the values that the engine would
// otherwise parse from strings.
struct Settings {
  // Every default applied and every field valid. Routes, limits and the
  // numeric delivery fields are read from here.
  Config config;
  // config.smtp_listen parsed, in the same order.
  std::vector<ListenAddress> smtp_listen;
  // config.workers, with 0 resolved to the number of CPUs (at least 1).
  int workers = 1;

  // config.server_timeouts.
  absl::Duration server_command_timeout;
  absl::Duration server_data_block_timeout;

  // config.client_timeouts.
  absl::Duration client_connect_timeout;
  absl::Duration client_greeting_timeout;
  absl::Duration client_command_timeout;
  absl::Duration client_data_initiation_timeout;
  absl::Duration client_data_block_timeout;
  absl::Duration client_data_termination_timeout;

  // config.delivery.
  absl::Duration initial_backoff;
  absl::Duration max_backoff;
  absl::Duration queue_lifetime;
  absl::Duration connection_idle_time;
};

// Returns a configuration with every default of proto/config.proto filled
// in and no routes. The host name comes from gethostname(2) and the spool
// directory from $XDG_STATE_HOME or $HOME. It may fail validation, for
// example when neither variable is set.
Config DefaultConfig();

// Returns the default admin.socket: "$XDG_RUNTIME_DIR/ferry/admin.sock",
// else "$HOME/.local/state/ferry/admin.sock", else "" when neither
// variable contains an absolute path. ferryctl uses it too.
std::string DefaultAdminSocket();

// Sets every field of `config` that is 0 or empty, and has a non-zero
// default, to that default. This covers next hops without a port and an
// empty smtp_listen. Leaves workers at 0, which means one per CPU (see
// Settings::workers), because 0 is a valid value there.
void ApplyDefaults(Config* config);

// Reads and parses the text-format file at `path`, applies defaults and
// validates the result. Returns the effective configuration, or an error:
//  - NotFound, PermissionDenied or another errno-based code when the file
//    cannot be read. The message names the path and the system error.
//  - InvalidArgument for a syntax error, an unknown field or an invalid
//    value, one error per line of the message. Each line starts with
//    "FILE:LINE:COL: " and names the field path and the fix, for example
//    "ferry.textproto:7:5: route[1].next_hop[0].port: ...".
// A field written explicitly as 0 or "" is an error where its default is
// not 0, because the file most likely meant something else. Omit the
// field to get the default.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Like LoadConfigFile, for `text` that was read from `file_name` (used
// only in messages).
absl::StatusOr<Config> ParseConfigText(absl::string_view text,
                                       absl::string_view file_name);

// Validates a configuration built in memory, after ApplyDefaults. Returns
// InvalidArgument with one error per line, each naming the field path, or
// OK when the configuration is valid.
absl::Status ValidateConfig(const Config& config);

// Applies defaults to a copy of `config`, validates it and parses its
// listen addresses and durations. Returns the errors of ValidateConfig.
absl::StatusOr<Settings> ResolveSettings(const Config& config);

// Returns `config` in text format, as ferryd --check-config prints it.
// Fields whose value is 0, such as workers: 0 (one per CPU), are left out
// because proto3 text format does not print them.
std::string FormatConfig(const Config& config);

}  // namespace ferry::config

#endif  // FERRY_ENGINE_CONFIG_CONFIG_H_
