#include "engine/route/route_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/base/absl_view.h"
#include "engine/base/error_quote.h"

namespace ferry::route {
namespace {

// RFC 1035 limits a name to 255 octets in wire form, which leaves 253 for
// the text form without a trailing dot.
constexpr size_t kMaxDomainLength = 253;
constexpr size_t kMaxLabelLength = 63;
constexpr uint32_t kDefaultPort = 25;
constexpr uint32_t kMaxPort = 65535;
// Bounds on one route, so that a route put through the admin API cannot
// make every change rewrite a state file of many megabytes. A path is at
// most 256 octets with its brackets (RFC 5321 section 4.5.3.1.3).
constexpr size_t kMaxNextHops = 32;
constexpr size_t kMaxRecipientEntries = 10000;
constexpr size_t kMaxRecipientLength = 254;
constexpr size_t kMaxEtrnClients = 1000;

// Returns what is wrong with one DNS label, or "" when it is valid
// (letters, digits and hyphens, 1 to 63 octets, no hyphen at either end).
std::string LabelProblem(absl::string_view label) {
  if (label.empty()) return "has an empty label";
  if (label.size() > kMaxLabelLength) {
    return absl::StrCat("has a label of ", label.size(),
                        " octets, over the maximum of 63");
  }
  for (char c : label) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return "contains non-ASCII characters. Write an internationalized "
             "name in its A-label (xn--) form";
    }
    if (!absl::ascii_isalnum(c) && c != '-') {
      return absl::StrCat("contains ", QuoteForError(absl::string_view(&c, 1)),
                          ", which is not a letter, digit or hyphen");
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return absl::StrCat("has the label ", QuoteForError(label),
                        ", which starts or ends with a hyphen");
  }
  return "";
}

// Returns what is wrong with a host or domain name, or "" when it is valid.
std::string DomainProblem(absl::string_view name) {
  if (name.empty()) return "is empty";
  if (name.back() == '.') return "ends with a dot. Remove the trailing dot";
  if (name.size() > kMaxDomainLength) {
    return absl::StrCat("is ", name.size(),
                        " octets long, over the maximum of 253");
  }
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    std::string problem = LabelProblem(label);
    if (!problem.empty()) return problem;
  }
  return "";
}

bool HasNumericTopLabel(absl::string_view name) {
  const size_t dot = name.rfind('.');
  const absl::string_view top =
      dot == absl::string_view::npos ? name : name.substr(dot + 1);
  return !top.empty() && std::all_of(top.begin(), top.end(), [](char c) {
    return absl::ascii_isdigit(c);
  });
}

// Returns what is wrong with a route's domain pattern, or "" when valid.
std::string RouteDomainProblem(absl::string_view domain) {
  if (domain.empty()) {
    return "is empty. Set it to a domain such as \"example.net\" or "
           "\"*.example.net\"";
  }
  if (domain == "*") {
    return "would match every domain and make the relay open. List each "
           "domain, or use \"*.example.net\" for the subdomains of one";
  }
  absl::string_view name = domain;
  absl::ConsumePrefix(&name, "*.");
  if (absl::StrContains(name, '*')) {
    return "has a '*' that is not a leading \"*.\". Write \"*.example.net\" "
           "to match every subdomain of example.net";
  }
  std::string problem = DomainProblem(name);
  if (!problem.empty()) return problem;
  if (HasNumericTopLabel(name)) {
    return "looks like an IP address. Routes match domain names only, and "
           "mail to address literals is never relayed";
  }
  return "";
}

bool IsIpAddress(const std::string& host) {
  unsigned char address[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// Returns what is wrong with a next hop's host, or "" when it is valid.
std::string HostProblem(const std::string& host) {
  if (host.empty()) {
    return "is empty. Set it to the destination server's name or IP address";
  }
  if (host.front() == '[') {
    return "is in brackets. Write the address without them, such as "
           "\"192.0.2.1\" or \"::1\"";
  }
  if (IsIpAddress(host)) return "";
  if (std::count(host.begin(), host.end(), ':') == 1) {
    return "includes a port. Give the host alone and the port in the "
           "next hop's port";
  }
  if (absl::StrContains(host, ':')) return "is not a valid IPv6 address";
  std::string problem = DomainProblem(host);
  if (!problem.empty()) return problem;
  if (HasNumericTopLabel(host)) return "is not a valid IPv4 address";
  return "";
}

// True if the route pattern (lower case) matches `domain` (lower case).
bool PatternMatches(absl::string_view pattern, absl::string_view domain) {
  absl::string_view suffix = pattern;
  if (!absl::ConsumePrefix(&suffix, "*.")) return pattern == domain;
  return domain.size() > suffix.size() + 1 && absl::EndsWith(domain, suffix) &&
         domain[domain.size() - suffix.size() - 1] == '.';
}

// Returns what is wrong with one entry of a route's recipient list, or ""
// when it is valid.
std::string RecipientProblem(absl::string_view pattern,
                             absl::string_view entry) {
  if (entry.empty()) {
    return "is empty. Write a local part (\"bob\") or a whole address";
  }
  if (entry.size() > kMaxRecipientLength) {
    return absl::StrCat("is ", entry.size(), " octets long; an address has "
                        "at most ", kMaxRecipientLength,
                        " (RFC 5321 section 4.5.3.1.3)");
  }
  for (char c : entry) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c) || c == '<' ||
        c == '>') {
      return "contains a space, a control character or an angle bracket. "
             "Write the bare address, as in \"bob@example.net\"";
    }
  }
  const size_t at = entry.rfind('@');
  if (at == absl::string_view::npos) return "";
  if (at == 0) return "has an empty local part";
  const std::string domain = absl::AsciiStrToLower(entry.substr(at + 1));
  if (!PatternMatches(pattern, domain)) {
    return "is in a domain that this route does not match, so it can never "
           "match. Write only its local part, or an address in a domain "
           "that the route matches";
  }
  return "";
}

std::string RouteName(size_t index, absl::string_view domain) {
  return absl::StrCat("route[", index, "] ", QuoteForError(domain));
}

absl::Status CheckNextHop(absl::string_view route_name, size_t index,
                          const NextHop& hop) {
  const std::string problem = HostProblem(hop.host);
  if (!problem.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(route_name, ": next_hop[", index, "] host ",
                     QuoteForError(hop.host), " ", problem));
  }
  if (hop.port > kMaxPort) {
    return absl::InvalidArgumentError(absl::StrCat(
        route_name, ": next_hop[", index, "] port ", hop.port,
        " is out of range. Set a port from 1 to 65535, or 0 for 25"));
  }
  return absl::OkStatus();
}

// Checks one route on its own, naming it `name` in errors. Duplicates are
// checked by the caller.
absl::Status CheckRoute(const std::string& name, const Route& route) {
  std::string problem = RouteDomainProblem(route.domain);
  if (!problem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": domain ", problem));
  }
  if (route.next_hops.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name,
        ": no next hop. Add a next_hop with the host and port of the "
        "destination server"));
  }
  if (route.next_hops.size() > kMaxNextHops) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": ", route.next_hops.size(), " next hops; a route may have at "
        "most ", kMaxNextHops, ". Put the others behind a load balancer or "
        "in DNS"));
  }
  if (route.recipients.size() > kMaxRecipientEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": ", route.recipients.size(), " recipient entries; a route "
        "may have at most ", kMaxRecipientEntries,
        ". Leave the list empty to accept every recipient and let the "
        "destination reject unknown ones"));
  }
  if (route.etrn_clients.size() > kMaxEtrnClients) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": ", route.etrn_clients.size(), " etrn_client entries; a "
        "route may have at most ", kMaxEtrnClients,
        ". Use CIDR prefixes to cover several addresses"));
  }
  for (size_t i = 0; i < route.next_hops.size(); ++i) {
    absl::Status status = CheckNextHop(name, i, route.next_hops[i]);
    if (!status.ok()) return status;
    const NextHop& hop = route.next_hops[i];
    for (size_t j = 0; j < i; ++j) {
      const NextHop& earlier = route.next_hops[j];
      if (absl::EqualsIgnoreCase(hop.host, earlier.host) &&
          hop.port == earlier.port) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ": next_hop[", i, "] repeats next_hop[", j, "] (",
            QuoteForError(hop.host), " port ", hop.port, "). Remove one of them"));
      }
    }
  }
  const std::string pattern = absl::AsciiStrToLower(route.domain);
  for (size_t i = 0; i < route.recipients.size(); ++i) {
    problem = RecipientProblem(pattern, route.recipients[i]);
    if (!problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": recipient[", i, "] ",
                       QuoteForError(route.recipients[i]), " ", problem));
    }
  }
  for (size_t i = 0; i < route.etrn_clients.size(); ++i) {
    absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(route.etrn_clients[i]);
    if (!prefix.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": etrn_client[", i, "] ", QuoteForError(route.etrn_clients[i]), " ",
          prefix.status().message()));
    }
  }
  return absl::OkStatus();
}

// Lower-cases names and fills in the default port. REQUIRES: the route
// passed CheckRoute().
void Normalize(Route* route) {
  absl::AsciiStrToLower(&route->domain);
  for (NextHop& hop : route->next_hops) {
    absl::AsciiStrToLower(&hop.host);
    if (hop.port == 0) hop.port = kDefaultPort;
  }
  for (std::string& recipient : route->recipients) {
    absl::AsciiStrToLower(&recipient);
  }
  route->etrn_networks.clear();
  for (std::string& client : route->etrn_clients) {
    IpPrefix prefix = *IpPrefix::Parse(client);
    client = prefix.ToString();
    route->etrn_networks.push_back(prefix);
  }
}

void ShuffleRange(std::vector<NextHop>::iterator begin,
                  std::vector<NextHop>::iterator end, absl::BitGenRef gen) {
  // Fisher-Yates, with absl::Uniform so that the result depends only on
  // the generator and not on the standard library's std::shuffle.
  for (auto n = end - begin; n > 1; --n) {
    const auto j = absl::Uniform<decltype(n)>(gen, 0, n);
    std::swap(begin[n - 1], begin[j]);
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RouteTable>> RouteTable::Build(
    std::vector<Route> routes) {
  std::vector<Entry> entries;
  entries.reserve(routes.size());
  // Lower-case domain -> index of the route that first used it.
  absl::flat_hash_map<std::string, size_t> first_index;
  for (size_t i = 0; i < routes.size(); ++i) {
    absl::Status status = CheckRoute(RouteName(i, routes[i].domain), routes[i]);
    if (!status.ok()) return status;
    const auto [it, inserted] =
        first_index.emplace(absl::AsciiStrToLower(routes[i].domain), i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          RouteName(i, routes[i].domain), ": duplicate of ",
          RouteName(it->second, routes[it->second].domain),
          " (domains are case-insensitive). Merge the two into one route"));
    }
  }
  for (Route& route : routes) {
    Normalize(&route);
    Entry entry{std::move(route), {}};
    entry.recipient_set.insert(entry.route.recipients.begin(),
                               entry.route.recipients.end());
    entries.push_back(std::move(entry));
  }
  return std::shared_ptr<const RouteTable>(new RouteTable(std::move(entries)));
}

absl::Status RouteTable::Validate(const Route& route) {
  return CheckRoute(absl::StrCat("route ", QuoteForError(route.domain)), route);
}

std::shared_ptr<const RouteTable> RouteTable::Empty() {
  static const auto* const empty = new std::shared_ptr<const RouteTable>(
      new RouteTable(std::vector<Entry>()));
  return *empty;
}

RouteTable::RouteTable(std::vector<Entry> entries)
    : entries_(std::move(entries)) {
  for (const Entry& entry : entries_) {
    absl::string_view suffix = entry.route.domain;
    if (absl::ConsumePrefix(&suffix, "*.")) {
      wildcard_.emplace(suffix, &entry);
    } else {
      exact_.emplace(suffix, &entry);
    }
  }
}

const RouteTable::Entry* RouteTable::FindEntry(std::string_view domain) const {
  if (domain.empty() || domain.size() > kMaxDomainLength ||
      domain.front() == '[') {
    return nullptr;
  }
  // Lower-case into a stack buffer so that a lookup never allocates.
  char buffer[kMaxDomainLength];
  for (size_t i = 0; i < domain.size(); ++i) {
    buffer[i] = absl::ascii_tolower(domain[i]);
  }
  const absl::string_view name(buffer, domain.size());
  if (auto it = exact_.find(name); it != exact_.end()) return it->second;
  // Parent suffixes from the longest to the shortest, so that the most
  // specific wildcard wins. The name itself is never tried as a suffix,
  // which is why "*.example.net" does not match "example.net".
  for (size_t dot = name.find('.'); dot != absl::string_view::npos;
       dot = name.find('.', dot + 1)) {
    auto it = wildcard_.find(name.substr(dot + 1));
    if (it != wildcard_.end()) return it->second;
  }
  return nullptr;
}

const Route* RouteTable::Find(std::string_view domain) const {
  const Entry* entry = FindEntry(domain);
  return entry == nullptr ? nullptr : &entry->route;
}

RecipientVerdict RouteTable::Check(std::string_view local_part,
                                   std::string_view domain) const {
  const Entry* entry = FindEntry(domain);
  if (entry == nullptr) return RecipientVerdict::kNoRoute;
  if (entry->recipient_set.empty()) return RecipientVerdict::kAccept;
  std::string key = absl::AsciiStrToLower(ToAbsl(local_part));
  if (entry->recipient_set.contains(key)) return RecipientVerdict::kAccept;
  absl::StrAppend(&key, "@", absl::AsciiStrToLower(ToAbsl(domain)));
  return entry->recipient_set.contains(key)
             ? RecipientVerdict::kAccept
             : RecipientVerdict::kUnknownRecipient;
}

bool RouteTable::AllowsEtrn(std::string_view domain,
                            std::string_view client_ip) const {
  const Route* route = Find(domain);
  return route != nullptr && route->AllowsEtrnFrom(client_ip);
}

std::vector<const Route*> RouteTable::Routes() const {
  std::vector<const Route*> routes;
  routes.reserve(entries_.size());
  for (const Entry& entry : entries_) routes.push_back(&entry.route);
  return routes;
}

bool Route::AllowsEtrnFrom(std::string_view client_ip) const {
  for (const IpPrefix& network : etrn_networks) {
    if (network.Contains(client_ip)) return true;
  }
  return false;
}

std::vector<NextHop> OrderNextHops(const Route& route, absl::BitGenRef gen) {
  std::vector<NextHop> hops = route.next_hops;
  std::stable_sort(hops.begin(), hops.end(),
                   [](const NextHop& a, const NextHop& b) {
                     return a.priority < b.priority;
                   });
  auto begin = hops.begin();
  while (begin != hops.end()) {
    auto end = std::find_if(begin, hops.end(), [&](const NextHop& hop) {
      return hop.priority != begin->priority;
    });
    ShuffleRange(begin, end, gen);
    begin = end;
  }
  return hops;
}

}  // namespace ferry::route
