// RouteTable: the immutable map from a recipient's domain to its route (the
// next hops that mail for the domain is delivered to, an optional list of
// the recipients that the destination accepts, and the clients allowed to
// send ETRN for it).
//
// The control thread builds a table with Build() and publishes it through
// RouteSnapshot. Nothing changes a table after Build(), so every const
// method may be called from any number of worker threads at once.
#ifndef FERRY_ENGINE_ROUTE_ROUTE_TABLE_H_
#define FERRY_ENGINE_ROUTE_ROUTE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "engine/route/ip_prefix.h"

namespace ferry::route {

// One server that mail for a route is delivered to.
struct NextHop {
  // Host name, IPv4 address or IPv6 address (without brackets). Build()
  // stores host names in lower case.
  std::string host;
  // TCP port. On input to Build(), 0 means the default 25. Build() rejects
  // values over 65535, so a table's next hops have ports 1..65535.
  uint32_t port = 25;
  // Lower is tried first, like MX preference.
  uint32_t priority = 0;

  bool operator==(const NextHop&) const = default;
};

// Route: the next hops for one domain pattern, its optional recipient list
// and its ETRN clients.
struct Route {
  // "example.net" matches that domain only. "*.example.net" matches every
  // subdomain of example.net at any depth, but not example.net itself.
  // Build() stores it in lower case.
  std::string domain;
  // At least one.
  std::vector<NextHop> next_hops;
  // When not empty, the only recipients accepted at RCPT time. Each entry is
  // a local part ("bob") or a whole address ("bob@example.net"). Build()
  // stores them in lower case.
  std::vector<std::string> recipients;
  // Clients allowed to send ETRN (RFC 1985) for this route's domains: IP
  // addresses or CIDR prefixes ("192.0.2.7", "2001:db8::/32"). Empty: no
  // client may. Build() rewrites each entry in its canonical form.
  std::vector<std::string> etrn_clients;
  // Set by Build() from etrn_clients, in the same order. Ignored on input.
  std::vector<IpPrefix> etrn_networks;

  // True iff `client_ip` (an address without brackets or port, as the
  // listener reports it) is inside one of etrn_networks. REQUIRES: the
  // route comes from a table, so that etrn_networks is set.
  bool AllowsEtrnFrom(std::string_view client_ip) const;
};

// Result of RouteTable::Check() for one RCPT TO.
enum class RecipientVerdict {
  kAccept,            // a route exists and accepts this recipient
  kNoRoute,           // no route matches the domain: relaying is denied
  kUnknownRecipient,  // the route lists its recipients and this is not one
};

class RouteTable {
 public:
  // Validates `routes` and builds a table from them. On the first invalid
  // route, returns InvalidArgument with a message that names the route (its
  // index and domain) and the fix. A route is invalid when its domain is
  // empty, malformed, an IP address or the domain of an earlier route
  // (compared case-insensitively). It is also invalid when it has no next
  // hop, a next hop's host is malformed or its port is over 65535, a
  // recipient entry is empty or in a domain that the route does not match,
  // or an etrn_clients entry is not an address or CIDR prefix.
  static absl::StatusOr<std::shared_ptr<const RouteTable>> Build(
      std::vector<Route> routes);

  // Checks one route as Build() does, except for duplicates. Messages start
  // with `route "DOMAIN": ` instead of an index.
  static absl::Status Validate(const Route& route);

  // Returns a table without routes, which denies every domain.
  static std::shared_ptr<const RouteTable> Empty();

  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Returns the route for `domain`, or nullptr when none matches. Matching
  // ignores ASCII case. An exact route wins over a wildcard route, and of
  // several wildcard routes the one with the longest suffix wins. Address
  // literals ("[192.0.2.1]", "[IPv6:...]") never match, and neither does a
  // bare IPv4 address, because Build() rejects numeric top-level labels.
  // The pointer stays valid as long as the table does.
  const Route* Find(std::string_view domain) const;

  // Decides whether mail for local_part@domain is accepted at RCPT time.
  // Local parts are compared ignoring ASCII case, although RFC 5321 lets a
  // destination treat them as case-sensitive: rejecting "Bob" when the list
  // has "bob" would lose mail, while accepting it at worst leads to a bounce
  // from the destination. A quoted local part is compared in the form given,
  // quotes included.
  RecipientVerdict Check(std::string_view local_part,
                         std::string_view domain) const;

  // True iff a route matches `domain` (as Find() does) and lets
  // `client_ip` send ETRN for it.
  bool AllowsEtrn(std::string_view domain, std::string_view client_ip) const;

  // Returns every route, in the order given to Build(). The pointers stay
  // valid as long as the table does.
  std::vector<const Route*> Routes() const;

  // Number of routes.
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Route route;
    absl::flat_hash_set<std::string> recipient_set;  // lower case
  };

  explicit RouteTable(std::vector<Entry> entries);
  const Entry* FindEntry(std::string_view domain) const;

  // Never resized after construction, so the maps may point into it.
  const std::vector<Entry> entries_;
  // Exact domains, and wildcard suffixes without their "*.", in lower case.
  absl::flat_hash_map<std::string, const Entry*> exact_;
  absl::flat_hash_map<std::string, const Entry*> wildcard_;
};

// Returns the route's next hops in the order to try them: ascending
// priority, and a random order among next hops of equal priority so that
// load spreads over them.
std::vector<NextHop> OrderNextHops(const Route& route, absl::BitGenRef gen);

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_ROUTE_TABLE_H_
