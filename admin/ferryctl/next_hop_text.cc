#include "admin/ferryctl/next_hop_text.h"

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ferry::ferryctl {
namespace {

constexpr uint32_t kDefaultPort = 25;

bool AllDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

absl::Status Invalid(const std::string& text, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid next hop \"", text, "\": ", problem,
      ". Write HOST, HOST:PORT or HOST:PORT/PRIORITY, with an IPv6 address "
      "in brackets, as in [2001:db8::25]:2525"));
}

// Splits "HOST[:PORT]" into the host and the port text ("" when absent).
absl::Status SplitHostPort(const std::string& text, const std::string& spec,
                           std::string* host, std::string* port) {
  if (!spec.empty() && spec.front() == '[') {
    const size_t close = spec.find(']');
    if (close == std::string::npos) return Invalid(text, "a ']' is missing");
    *host = spec.substr(1, close - 1);
    const std::string rest = spec.substr(close + 1);
    if (rest.empty()) return absl::OkStatus();
    if (rest.front() != ':') {
      return Invalid(text, "only \":PORT\" may follow the ']'");
    }
    *port = rest.substr(1);
    if (port->empty()) return Invalid(text, "the port after ':' is missing");
    return absl::OkStatus();
  }
  const size_t colons = std::count(spec.begin(), spec.end(), ':');
  if (colons == 1) {
    const size_t colon = spec.find(':');
    *host = spec.substr(0, colon);
    *port = spec.substr(colon + 1);
    if (port->empty()) return Invalid(text, "the port after ':' is missing");
    return absl::OkStatus();
  }
  if (colons > 1) {
    // "2001:db8::25:2525" could be an address alone or one with a port.
    return Invalid(text,
                   "an IPv6 address needs brackets, so that a port cannot be "
                   "mistaken for part of it: [2001:db8::25] for port 25");
  }
  // No colon: a name or IPv4 address.
  *host = spec;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<admin::v1::NextHop> ParseNextHop(const std::string& text) {
  admin::v1::NextHop next_hop;
  std::string spec = text;
  const size_t slash = text.rfind('/');
  if (slash != std::string::npos) {
    const std::string priority = text.substr(slash + 1);
    uint32_t value = 0;
    if (!AllDigits(priority) || !absl::SimpleAtoi(priority, &value)) {
      return Invalid(text,
                     absl::StrCat("the priority \"", priority,
                                  "\" is not a number from 0 to ", UINT32_MAX));
    }
    next_hop.set_priority(value);
    spec = text.substr(0, slash);
  }
  std::string host;
  std::string port;
  absl::Status split = SplitHostPort(text, spec, &host, &port);
  if (!split.ok()) return split;
  if (host.empty()) return Invalid(text, "the host is missing");
  next_hop.set_host(host);
  next_hop.set_port(kDefaultPort);
  if (!port.empty()) {
    uint32_t value = 0;
    if (!AllDigits(port) || !absl::SimpleAtoi(port, &value) || value == 0 ||
        value > 65535) {
      return Invalid(text, absl::StrCat("the port \"", port,
                                        "\" is not a number from 1 to 65535"));
    }
    next_hop.set_port(value);
  }
  return next_hop;
}

std::string FormatNextHop(const admin::v1::NextHop& next_hop) {
  const std::string& host = next_hop.host();
  const uint32_t port = next_hop.port() == 0 ? kDefaultPort : next_hop.port();
  std::string text = host.find(':') == std::string::npos
                         ? absl::StrCat(host, ":", port)
                         : absl::StrCat("[", host, "]:", port);
  if (next_hop.priority() != 0)
    absl::StrAppend(&text, "/", next_hop.priority());
  return text;
}

}  // namespace ferry::ferryctl
