// ListenAddress: one parsed smtp_listen entry ("127.0.0.1:2525",
// "[::1]:2525"), ready for bind(2). A plain value type; parsing is a pure
// function, safe to call from any thread.
#ifndef FERRY_ENGINE_CONFIG_LISTEN_ADDRESS_H_
#define FERRY_ENGINE_CONFIG_LISTEN_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ferry::config {

struct ListenAddress {
  // IP address in canonical form, without brackets: "127.0.0.1", "::1".
  std::string host;
  // TCP port, 1..65535.
  uint16_t port = 0;
  // The address as a sockaddr_in or sockaddr_in6, and its length.
  sockaddr_storage sockaddr = {};
  socklen_t sockaddr_length = 0;

  // Returns AF_INET or AF_INET6.
  int family() const { return sockaddr.ss_family; }

  // Returns "host:port", with the host in brackets for IPv6. Two entries
  // that name the same address and port give the same string.
  std::string ToString() const;
};

// Parses "IPV4:PORT" or "[IPV6]:PORT". The host must be an IP address
// literal because a host name could resolve to several addresses or none.
// Use 0.0.0.0 or [::] for every local address. IPv6 zone indexes
// ("[fe80::1%eth0]") are not supported.
// Returns InvalidArgument with a message that names what to change.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);

}  // namespace ferry::config

#endif  // FERRY_ENGINE_CONFIG_LISTEN_ADDRESS_H_
