// The Validator's checks of routes: domains, next hops, recipients and
// ETRN clients.

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/config/validator.h"
#include "engine/route/ip_prefix.h"

namespace ferry::config {
namespace {

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// Returns "" if `host` names a next hop, or else the reason it does not.
std::string NextHopHostProblem(const std::string& host) {
  if (IsIpAddress(host)) return "";
  if (host.front() == '[') {
    return "has brackets. Write an IPv6 address without them, as in "
           "\"::1\".";
  }
  if (std::count(host.begin(), host.end(), ':') == 1) {
    return "includes a port. Put the port in the port field.";
  }
  std::string problem = DnsNameProblem(host);
  if (problem.empty()) return "";
  return absl::StrCat("is not a valid host name or IP address because ",
                      problem, ".");
}

// Returns the character of `recipient` that a recipient entry cannot
// contain, or 0 when there is none.
char ForbiddenRecipientChar(const std::string& recipient) {
  for (char c : recipient) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c) || c == '<' ||
        c == '>') {
      return c;
    }
  }
  return 0;
}

}  // namespace

void Validator::CheckRoutes(const Config& config, const FieldPath& root) {
  std::map<std::string, int> seen;  // lower-case domain -> first route index
  for (int i = 0; i < config.route_size(); ++i) {
    const Route& route = config.route(i);
    FieldPath path = root.Child("route", i);
    CheckDomain(route, path);
    CheckNextHops(route, path);
    CheckRecipients(route, path);
    CheckEtrnClients(route, path);
    if (route.domain().empty()) continue;
    auto [it, inserted] =
        seen.emplace(absl::AsciiStrToLower(route.domain()), i);
    if (inserted) continue;
    FieldPath first = root.Child("route", it->second);
    Report(path.Child("domain"),
           absl::StrCat("\"", route.domain(), "\" repeats the domain of ",
                        first.ToString(), LineNote(first),
                        ". Put all next hops for a domain in one route."));
  }
}

void Validator::CheckDomain(const Route& route, const FieldPath& path) {
  absl::string_view domain = route.domain();
  FieldPath domain_path = path.Child("domain");
  if (domain.empty()) {
    Report(domain_path,
           "is missing. Set the domain that this route accepts mail for, "
           "such as \"example.net\" or \"*.example.net\".");
    return;
  }
  if (domain == "*" || domain == "*.") {
    Report(domain_path,
           absl::StrCat("\"", domain,
                        "\" would accept mail for every domain, which makes "
                        "an open relay. Name a domain, or \"*.name\" for the "
                        "subdomains of one."));
    return;
  }
  absl::string_view name = domain;
  absl::ConsumePrefix(&name, "*.");
  if (absl::StrContains(name, '*')) {
    Report(domain_path,
           absl::StrCat("\"", domain,
                        "\" has a '*' that is not the whole first label. "
                        "Write a wildcard as \"*.example.net\"."));
    return;
  }
  std::string problem = DnsNameProblem(name);
  if (problem.empty()) return;
  Report(domain_path,
         absl::StrCat("\"", domain, "\" is not a valid domain because ",
                      problem, "."));
}

void Validator::CheckNextHops(const Route& route, const FieldPath& path) {
  if (route.next_hop().empty()) {
    Report(path.Child("next_hop"),
           "is missing. Add at least one next_hop { host: \"...\" port: ... } "
           "to the route.");
    return;
  }
  // host and port -> first next hop index
  std::map<std::pair<std::string, uint32_t>, int> seen;
  for (int i = 0; i < route.next_hop_size(); ++i) {
    const NextHop& next_hop = route.next_hop(i);
    FieldPath next_hop_path = path.Child("next_hop", i);
    CheckNextHop(next_hop, next_hop_path);
    auto key =
        std::make_pair(absl::AsciiStrToLower(next_hop.host()), next_hop.port());
    auto [it, inserted] = seen.emplace(key, i);
    if (inserted || next_hop.host().empty()) continue;
    Report(next_hop_path, absl::StrCat("host \"", next_hop.host(), "\" port ",
                                       next_hop.port(), " repeats next_hop[",
                                       it->second, "]. Remove one of them."));
  }
}

void Validator::CheckNextHop(const NextHop& next_hop, const FieldPath& path) {
  const std::string& host = next_hop.host();
  if (host.empty()) {
    Report(path.Child("host"),
           "is missing. Set the host name or IP address of the server that "
           "receives mail for this route.");
  } else if (std::string problem = NextHopHostProblem(host); !problem.empty()) {
    Report(path.Child("host"), absl::StrCat("\"", host, "\" ", problem));
  }
  if (next_hop.port() < 1 || next_hop.port() > 65535) {
    Report(path.Child("port"),
           absl::StrCat(next_hop.port(),
                        " is out of range. Use a TCP port from 1 to 65535."));
  }
}

void Validator::CheckRecipients(const Route& route, const FieldPath& path) {
  for (int i = 0; i < route.recipient_size(); ++i) {
    const std::string& recipient = route.recipient(i);
    FieldPath recipient_path = path.Child("recipient", i);
    if (recipient.empty()) {
      Report(recipient_path,
             "is empty. Write a local part, such as \"postmaster\", or a "
             "whole address.");
      continue;
    }
    if (char c = ForbiddenRecipientChar(recipient); c != 0) {
      Report(recipient_path,
             absl::StrCat("\"", absl::CEscape(recipient), "\" contains '",
                          absl::CEscape(std::string(1, c)),
                          "'. Write the local part or address without "
                          "spaces, control characters or angle brackets."));
      continue;
    }
    size_t at = recipient.rfind('@');
    if (at != std::string::npos && (at == 0 || at + 1 == recipient.size())) {
      Report(recipient_path,
             absl::StrCat("\"", recipient,
                          "\" has an empty local part or domain. Write a "
                          "local part, or a whole address such as "
                          "\"bob@example.net\"."));
    }
  }
}

void Validator::CheckEtrnClients(const Route& route, const FieldPath& path) {
  for (int i = 0; i < route.etrn_client_size(); ++i) {
    const std::string& client = route.etrn_client(i);
    absl::StatusOr<route::IpPrefix> prefix = route::IpPrefix::Parse(client);
    if (prefix.ok()) continue;
    Report(path.Child("etrn_client", i),
           absl::StrCat("\"", absl::CEscape(client), "\" ",
                        prefix.status().message(), "."));
  }
}

}  // namespace ferry::config
