#include "engine/server/settings.h"

#include <utility>

#include "engine/route/route_config.h"

namespace ferry::server {

absl::StatusOr<Settings> MakeSettings(const config::Settings& resolved) {
  const config::Config& config = resolved.config;
  Settings settings;
  settings.hostname = config.hostname();
  settings.listen = resolved.smtp_listen;
  settings.spool_dir = config.spool_dir();
  settings.workers = resolved.workers;
  settings.segment_size = config.segment_size();
  settings.spare_segments = config.spare_segments();

  const config::Limits& limits = config.limits();
  smtp::ServerSessionOptions& session = settings.session;
  session.hostname = config.hostname();
  session.max_message_size = limits.max_message_size();
  session.max_recipients = static_cast<int>(limits.max_recipients());
  session.max_commands = static_cast<int>(limits.max_commands());
  session.max_errors = static_cast<int>(limits.max_errors());
  session.max_command_line = limits.max_command_line();
  session.max_received_headers =
      static_cast<int>(limits.max_received_headers());
  session.bare_line_ending =
      config.bare_line_ending() == config::BARE_LINE_ENDING_REJECT
          ? smtp::BareLineEnding::kReject
          : smtp::BareLineEnding::kNormalize;
  settings.max_connections = limits.max_connections();
  settings.max_connections_per_address = limits.max_connections_per_address();
  settings.max_receiving_bytes = limits.max_receiving_bytes();

  settings.command_timeout = resolved.server_command_timeout;
  settings.data_block_timeout = resolved.server_data_block_timeout;
  settings.client.connect = resolved.client_connect_timeout;
  settings.client.greeting = resolved.client_greeting_timeout;
  settings.client.command = resolved.client_command_timeout;
  settings.client.data_initiation = resolved.client_data_initiation_timeout;
  settings.client.data_block = resolved.client_data_block_timeout;
  settings.client.data_termination = resolved.client_data_termination_timeout;

  settings.initial_backoff = resolved.initial_backoff;
  settings.max_backoff = resolved.max_backoff;
  settings.queue_lifetime = resolved.queue_lifetime;
  settings.max_connections_per_destination =
      config.delivery().max_connections_per_destination();
  settings.max_messages_per_connection =
      config.delivery().max_messages_per_connection();
  settings.connection_idle_time = resolved.connection_idle_time;
  settings.routes = route::RoutesFromConfig(config);
  return settings;
}

}  // namespace ferry::server
