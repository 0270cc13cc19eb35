#include "engine/config/usage.h"

#include <string>

namespace ferry::config {
namespace {

// The defaults listed here must match proto/config.proto.
constexpr char kUsage[] = R"(NAME
    ferryd - SMTP port-forwarding relay

SYNOPSIS
    ferryd [--config=FILE] [--check-config] [--debug]
    ferryd --help | --version

DESCRIPTION
    ferryd accepts mail over SMTP for the domains it has a route for,
    writes each message to its spool on disk and delivers it to the next
    hops of the route, typically a customer's own server on a port other
    than 25. It answers 250 to the end of the message only after the
    message is on disk (fdatasync has completed). When a next hop defers
    or cannot be reached, ferryd retries with exponential backoff until the
    queue lifetime ends, and then bounces the message with a DSN to the
    sender.

    Mail for a domain without a route is rejected at RCPT time, so ferryd
    is not an open relay. Routes are looked up when a message is
    delivered, not when it is accepted.

    ferryd runs one worker thread per CPU (see workers). Each worker has
    its own io_uring, listening sockets (SO_REUSEPORT) and spool segments.
    It logs to standard error, one line per event.

OPTIONS
    --config=FILE
        Read the configuration from FILE, in protobuf text format.
        Without it, ferryd runs on the built-in defaults: SMTP on
        127.0.0.1:2525, the spool in $XDG_STATE_HOME/ferry/spool (else
        $HOME/.local/state/ferry/spool), and no
        routes, so every recipient is rejected with 550 5.7.1 until a
        configuration file adds routes.

    --check-config
        Read and validate the configuration, print the effective
        configuration (every default filled in, except fields whose value
        is 0, which the text format leaves out) to standard output, and
        exit without starting. Errors go to standard error, one per line,
        each starting with FILE:LINE:COL and naming the field. Exit status
        0 when the configuration is valid, 1 when it is not.

    --debug
        Also log debug lines (segment removal and reuse, and similar
        detail).

    --help
        Print this text and exit.

    --version
        Print the version and exit.

CONFIGURATION
    The schema, with every field and its default, is proto/config.proto.
    deploy/ferry.example.textproto is a commented example that sets every
    field. Durations are written as 300s, 5m, 2h, 5d or 1h30m, and sizes
    are in octets. A field left out gets its default, and a field set to
    0 or "" is an error where the default is not zero. The fields used
    most:

    hostname           Name in the greeting, EHLO and Received: fields.
                       Default: the machine's host name.
    smtp_listen        Address to accept SMTP on, "IP:PORT" or
                       "[IPV6]:PORT". Repeat it for several addresses.
                       Default: "127.0.0.1:2525".
    spool_dir          Directory of the spool, an absolute path. Default:
                       $XDG_STATE_HOME/ferry/spool, else
                       $HOME/.local/state/ferry/spool.
    workers            Worker threads. Default: 0, one per CPU.
    admin              socket: the admin API's Unix socket, which
                       ferryctl uses. Default:
                       $XDG_RUNTIME_DIR/ferry/admin.sock, else
                       $HOME/.local/state/ferry/admin.sock. tcp_listen
                       with tls_cert_file, tls_key_file and
                       tls_client_ca_file: the admin API over TCP, for
                       clients with a certificate from that CA only.
    metrics_listen     Address of the Prometheus endpoint, "IP:PORT" or
                       "[IPV6]:PORT": plain HTTP GET /metrics, without
                       authentication. Default: "" (off).
    route              One per domain: domain ("example.net", or
                       "*.example.net" for its subdomains), one or more
                       next_hop { host port priority } (port default 25;
                       lower priority is tried first), an optional
                       list of accepted recipient entries, and the
                       etrn_client addresses or CIDR prefixes that may
                       send ETRN for the domain.
    limits             max_message_size (default 10485760),
                       max_recipients (100), max_command_line (2048),
                       max_connections (10000),
                       max_connections_per_address (50),
                       max_receiving_bytes (256 MiB per worker), and more.
    delivery           initial_backoff (default 60s), max_backoff (1h),
                       queue_lifetime (5d).
    server_timeouts,   Time to wait for each SMTP phase, inbound and
    client_timeouts    outbound (RFC 5321 section 4.5.3.2 defaults).

FILES
    FILE (from --config)
        The configuration.
    spool_dir
        The spool: segment files (w0/*.seg, w1/*.seg, ...) with the
        messages and their envelopes. Mail in it survives a restart and
        is delivered after the next start. Up to spare_segments (default
        2) spent segment files per worker stay as *.spare, to be written
        over by later segments.
    spool_dir/routes.pb
        The routing table and its version, rewritten on every route
        change. The first start creates it from the configuration's
        routes. While the routes have never been changed through the
        admin API, each start and SIGHUP replaces them with the
        configuration's; after the first change through the API, the
        file's routes win and the configuration's are ignored. Remove it
        (with ferryd stopped) to go back to the configuration's routes.
    metrics_listen
        http://ADDRESS/metrics serves every counter, gauge and histogram
        in the Prometheus text format 0.0.4. deploy/prometheus.yml is a
        scrape configuration and deploy/ferry.rules.yml has recording
        rules and alerts for it.
    admin.socket
        The admin API's Unix socket, mode 0600 in a directory that ferryd
        creates with mode 0700 when missing. A socket left by a ferryd
        that is gone is replaced; one that a running ferryd answers on
        stops the start.

SIGNALS
    SIGTERM, SIGINT
        Stop gracefully: stop accepting connections, answer 421 to idle
        sessions, let transactions and deliveries in progress finish for
        up to 30 seconds, and exit with status 0. Mail already accepted
        stays in the spool.
    SIGHUP
        Read the configuration file again and publish its routes, unless
        the routes are managed through the admin API (see routes.pb
        under FILES). Other settings need a restart. An invalid file is
        logged and the old routes stay.

EXIT STATUS
    0   ferryd stopped after SIGTERM or SIGINT, or --check-config found
        the configuration valid.
    1   The configuration is invalid or unreadable, or ferryd failed to
        start.
    2   The command line is invalid, for example an unknown option.

EXAMPLES
    Check a configuration and show its effective values:
        ferryd --config=/etc/ferry/ferry.textproto --check-config

    Run with it:
        ferryd --config=/etc/ferry/ferry.textproto

    A minimal configuration that forwards mail for example.net to port
    2526 of 192.0.2.10:
        hostname: "relay.example.net"
        smtp_listen: "0.0.0.0:25"
        spool_dir: "/var/spool/ferry"
        route {
          domain: "example.net"
          next_hop { host: "192.0.2.10" port: 2526 }
        }
)";

}  // namespace

std::string FerrydUsage() { return kUsage; }

}  // namespace ferry::config
