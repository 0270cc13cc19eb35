#include "engine/config/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ferry::config {
namespace {

struct HostPort {
  absl::string_view host;
  absl::string_view port;
  bool bracketed = false;
};

// Splits "host:port" or "[host]:port" without checking either part.
absl::StatusOr<HostPort> SplitHostPort(absl::string_view text) {
  HostPort parts;
  if (absl::ConsumePrefix(&text, "[")) {
    size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "the '[' before the IPv6 address has no matching ']'");
    }
    parts.host = text.substr(0, close);
    parts.bracketed = true;
    text.remove_prefix(close + 1);
    if (!absl::ConsumePrefix(&text, ":")) {
      return absl::InvalidArgumentError(
          "the port is missing. Write it after the ']', as in [::1]:2525.");
    }
    parts.port = text;
    return parts;
  }
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "the port is missing. Write the address as host:port, as in "
        "127.0.0.1:2525.");
  }
  parts.host = text.substr(0, colon);
  parts.port = text.substr(colon + 1);
  if (absl::StrContains(parts.host, ':')) {
    return absl::InvalidArgumentError(
        "an IPv6 address needs brackets, as in [::1]:2525");
  }
  return parts;
}

absl::StatusOr<uint16_t> ParsePort(absl::string_view text) {
  bool digits_only = !text.empty() && text.size() <= 5;
  for (char c : text) digits_only = digits_only && absl::ascii_isdigit(c);
  uint32_t port = 0;
  if (!digits_only || !absl::SimpleAtoi(text, &port) || port < 1 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the port \"", text, "\" is invalid. Use a number from 1 to 65535."));
  }
  return static_cast<uint16_t>(port);
}

// Fills `address` from an IP literal: IPv4 unbracketed, IPv6 bracketed.
absl::Status ParseHost(const HostPort& parts, ListenAddress& address) {
  if (parts.host.empty()) {
    return absl::InvalidArgumentError(
        "the host is missing. Use 0.0.0.0 for every IPv4 address or [::] "
        "for every IPv6 address.");
  }
  std::string host(parts.host);
  in_addr v4;
  in6_addr v6;
  if (!parts.bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&address.sockaddr);
    sin->sin_family = AF_INET;
    sin->sin_addr = v4;
    address.sockaddr_length = sizeof(sockaddr_in);
    return absl::OkStatus();
  }
  if (parts.bracketed && inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&address.sockaddr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = v6;
    address.sockaddr_length = sizeof(sockaddr_in6);
    return absl::OkStatus();
  }
  if (parts.bracketed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", host, "\" is not an IPv6 address. Brackets are only for IPv6 ",
        "addresses, as in [::1]:2525."));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", host, "\" is not an IP address. Listen addresses must be IP ",
      "address literals, such as 127.0.0.1 or [::1]."));
}

// Sets the port in the sockaddr and the canonical host text.
void Finish(uint16_t port, ListenAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  address.port = port;
  if (address.family() == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&address.sockaddr);
    sin->sin_port = htons(port);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&address.sockaddr);
    sin6->sin6_port = htons(port);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
  }
  address.host = text;
}

}  // namespace

std::string ListenAddress::ToString() const {
  if (family() == AF_INET6) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  absl::StatusOr<HostPort> parts = SplitHostPort(text);
  if (!parts.ok()) return parts.status();
  ListenAddress address;
  absl::Status host_status = ParseHost(*parts, address);
  if (!host_status.ok()) return host_status;
  absl::StatusOr<uint16_t> port = ParsePort(parts->port);
  if (!port.ok()) return port.status();
  Finish(*port, address);
  return address;
}

}  // namespace ferry::config
