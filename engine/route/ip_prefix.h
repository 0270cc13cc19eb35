// IpPrefix: an IPv4 or IPv6 network in CIDR notation ("192.0.2.0/24",
// "2001:db8::/32"), or one address. A route's etrn_client entries are
// parsed into these, and the SMTP server calls Contains() with the address
// of the client that sent ETRN.
//
// Both families are kept as IPv6: an IPv4 prefix a.b.c.d/N is stored as
// ::ffff:a.b.c.d/(96+N), the IPv4-mapped form (RFC 4291 section 2.5.5.2).
// So an IPv4 entry matches a client that a dual-stack socket reports as
// "::ffff:192.0.2.7", and "::/0" matches every client of either family.
//
// A value type: immutable after Parse(), safe to read from any thread.
#ifndef FERRY_ENGINE_ROUTE_IP_PREFIX_H_
#define FERRY_ENGINE_ROUTE_IP_PREFIX_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ferry::route {

class IpPrefix {
 public:
  // Parses "ADDRESS" (a single host) or "ADDRESS/LENGTH", with LENGTH 0..32
  // for IPv4 and 0..128 for IPv6. Rejects brackets, zone indexes ("%eth0"),
  // and a prefix with bits set after LENGTH ("192.0.2.7/24"), because such
  // an entry usually means a mistyped length. Errors are InvalidArgument
  // with a message that names the fix and follows the quoted input.
  static absl::StatusOr<IpPrefix> Parse(std::string_view text);

  // True iff `address` is an IPv4 or IPv6 address (no brackets, no port)
  // inside this network. Returns false for anything that is not an address.
  bool Contains(std::string_view address) const;

  // The canonical text: "192.0.2.0/24" for IPv4 and IPv4-mapped networks
  // of length 96 and more, "2001:db8::/32" for IPv6. A single host has no
  // "/LENGTH".
  std::string ToString() const;

  // Prefix length in the IPv6 form (an IPv4 /24 is 120).
  int length() const { return length_; }

  bool operator==(const IpPrefix&) const = default;

 private:
  using Bytes = std::array<uint8_t, 16>;

  IpPrefix(const Bytes& network, int length)
      : network_(network), length_(length) {}

  Bytes network_{};
  int length_ = 0;
};

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_IP_PREFIX_H_
