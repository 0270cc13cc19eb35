// ETRN access: whether a client address may start the queue of a route's
// domains (RFC 1985). Only clients inside one of the route's etrn_client
// networks may. Pure functions, safe to call from any thread.
#ifndef FERRY_ENGINE_SERVER_ETRN_ACCESS_H_
#define FERRY_ENGINE_SERVER_ETRN_ACCESS_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/route/route_table.h"

namespace ferry::server {

// Returns true iff `client_ip` (an IPv4 or IPv6 address in text form) lies
// inside one of `networks`, each an address ("192.0.2.7") or a CIDR prefix
// ("192.0.2.0/24", "2001:db8::/32"). An IPv4-mapped IPv6 client address
// ("::ffff:192.0.2.7") counts as its IPv4 address. Entries that do not
// parse match nothing.
bool AddressInNetworks(std::string_view client_ip,
                       const std::vector<std::string>& networks);

// Returns true iff a route in `table` matches `domain` (as Find() does) and
// lists `client_ip` in its etrn_clients.
bool EtrnAllowed(const route::RouteTable& table, std::string_view domain,
                 std::string_view client_ip);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_ETRN_ACCESS_H_
