#include "engine/server/etrn_access.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace ferry::server {
namespace {

// An address as 16 octets: IPv4 addresses in their IPv4-mapped IPv6 form,
// so that one comparison handles both families.
struct Address {
  std::array<uint8_t, 16> octets{};
  bool v4 = false;
};

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};

std::optional<Address> ParseAddress(std::string_view text) {
  const std::string copy(text);
  Address address;
  in_addr v4;
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    std::memcpy(address.octets.data(), kMappedPrefix, sizeof(kMappedPrefix));
    std::memcpy(address.octets.data() + 12, &v4, 4);
    address.v4 = true;
    return address;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, copy.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(address.octets.data(), &v6, 16);
  address.v4 = std::memcmp(address.octets.data(), kMappedPrefix,
                           sizeof(kMappedPrefix)) == 0;
  return address;
}

// Returns true iff the first `bits` bits of `a` and `b` are equal.
bool SamePrefix(const Address& a, const Address& b, int bits) {
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask =
        bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.octets[i] & mask) != (b.octets[i] & mask)) return false;
  }
  return true;
}

bool InNetwork(const Address& client, std::string_view network) {
  const size_t slash = network.find('/');
  const std::optional<Address> base = ParseAddress(network.substr(0, slash));
  if (!base.has_value()) return false;
  int bits = base->v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    const std::string_view length = network.substr(slash + 1);
    if (!absl::SimpleAtoi(absl::string_view(length.data(), length.size()),
                          &bits) ||
        bits < 0 || bits > (base->v4 ? 32 : 128)) {
      return false;
    }
  }
  if (base->v4 != client.v4) return false;
  // An IPv4 prefix length counts from the mapped form's 96th bit.
  return SamePrefix(client, *base, base->v4 ? 96 + bits : bits);
}

}  // namespace

bool EtrnAllowed(const route::RouteTable& table, std::string_view domain,
                 std::string_view client_ip) {
  const route::Route* route = table.Find(domain);
  return route != nullptr && AddressInNetworks(client_ip, route->etrn_clients);
}

bool AddressInNetworks(std::string_view client_ip,
                       const std::vector<std::string>& networks) {
  const std::optional<Address> client = ParseAddress(client_ip);
  if (!client.has_value()) return false;
  for (const std::string& network : networks) {
    if (InNetwork(*client, network)) return true;
  }
  return false;
}

}  // namespace ferry::server
