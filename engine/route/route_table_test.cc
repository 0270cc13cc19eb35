#include "engine/route/route_table.h"

#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

using ::testing::HasSubstr;

Route MakeRoute(std::string domain, std::string host = "mx.example.com") {
  Route route;
  route.domain = std::move(domain);
  route.next_hops.push_back(NextHop{.host = std::move(host), .port = 2525});
  return route;
}

std::shared_ptr<const RouteTable> MustBuild(std::vector<Route> routes) {
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      RouteTable::Build(std::move(routes));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : RouteTable::Empty();
}

struct BuildErrorCase {
  std::string name;
  std::vector<Route> routes;
  std::vector<std::string> message_parts;
};

std::vector<BuildErrorCase> BuildErrorCases() {
  Route no_hop = MakeRoute("example.net");
  no_hop.next_hops.clear();
  Route empty_host = MakeRoute("example.net", "");
  Route bracketed = MakeRoute("example.net", "[::1]");
  Route short_ipv4 = MakeRoute("example.net", "1.2.3");
  Route bad_ipv6 = MakeRoute("example.net", "fe80::zz");
  Route host_with_port = MakeRoute("example.net", "mail.example.net:2525");
  Route many_hops = MakeRoute("example.net");
  for (int i = 0; i < 40; ++i) {
    many_hops.next_hops.push_back(
        NextHop{.host = "mx.example.com", .port = static_cast<uint32_t>(3000 + i)});
  }
  Route long_recipient = MakeRoute("example.net");
  long_recipient.recipients = {std::string(300, 'a')};
  Route spaced_recipient = MakeRoute("example.net");
  spaced_recipient.recipients = {"a b"};
  Route repeated_hop = MakeRoute("example.net", "MX.example.com");
  repeated_hop.next_hops.push_back(
      NextHop{.host = "mx.example.com", .port = 2525, .priority = 5});
  Route bad_host = MakeRoute("example.net", "mx_1.example.net");
  Route big_port = MakeRoute("example.net");
  big_port.next_hops.push_back(
      NextHop{.host = "mx2.example.com", .port = 70000});
  Route empty_recipient = MakeRoute("example.net");
  empty_recipient.recipients = {"bob", ""};
  Route empty_local = MakeRoute("example.net");
  empty_local.recipients = {"@example.net"};
  Route other_domain = MakeRoute("example.net");
  other_domain.recipients = {"bob@example.org"};
  Route apex_of_wildcard = MakeRoute("*.example.net");
  apex_of_wildcard.recipients = {"bob@example.net"};
  Route etrn_host_name = MakeRoute("example.net");
  etrn_host_name.etrn_clients = {"192.0.2.7", "mail.example.net"};
  Route etrn_host_bits = MakeRoute("example.net");
  etrn_host_bits.etrn_clients = {"192.0.2.7/24"};
  const std::string long_label(64, 'a');
  const std::string long_name = std::string(250, 'a') + ".net";
  return {
      {"EmptyDomain", {MakeRoute("")}, {"route[0] \"\": domain is empty"}},
      {"StarAlone", {MakeRoute("*")}, {"route[0] \"*\"", "every domain"}},
      {"StarInside",
       {MakeRoute("a.*.example.net")},
       {"\"a.*.example.net\"", "leading \"*.\""}},
      {"Underscore",
       {MakeRoute("exa_mple.net")},
       {"\"exa_mple.net\"", "\"_\", which is not a letter"}},
      {"TrailingDot", {MakeRoute("example.net.")}, {"Remove the trailing dot"}},
      {"LeadingHyphen",
       {MakeRoute("-bad.example")},
       {"\"-bad\", which starts or ends with a hyphen"}},
      {"LongLabel",
       {MakeRoute(long_label + ".net")},
       {"label of 64 octets", "maximum of 63"}},
      {"LongName", {MakeRoute(long_name)}, {"254 octets", "maximum of 253"}},
      {"EmptyLabel", {MakeRoute("ex..ample")}, {"empty label"}},
      {"NonAscii", {MakeRoute("\xc3\xa9xample.net")}, {"A-label (xn--)"}},
      {"Ipv4Domain",
       {MakeRoute("192.0.2.1")},
       {"\"192.0.2.1\"", "looks like an IP address"}},
      {"NumericWildcard", {MakeRoute("*.2.1")}, {"looks like an IP address"}},
      {"NoNextHop",
       {MakeRoute("ok.example"), no_hop},
       {"route[1] \"example.net\": no next hop", "Add a next_hop"}},
      {"EmptyHost", {empty_host}, {"next_hop[0] host \"\" is empty"}},
      {"BracketedHost", {bracketed}, {"\"[::1]\" is in brackets"}},
      {"ShortIpv4Host", {short_ipv4}, {"not a valid IPv4 address"}},
      {"BadIpv6Host", {bad_ipv6}, {"not a valid IPv6 address"}},
      {"HostWithPort", {host_with_port}, {"includes a port"}},
      {"ManyNextHops", {many_hops}, {"41 next hops", "at most 32"}},
      {"LongRecipient", {long_recipient}, {"300 octets long"}},
      {"SpacedRecipient", {spaced_recipient}, {"contains a space"}},
      {"RepeatedNextHop",
       {repeated_hop},
       {"next_hop[1] repeats next_hop[0]", "port 2525"}},
      {"UnderscoreHost", {bad_host}, {"host \"mx_1.example.net\""}},
      {"PortOverRange",
       {big_port},
       {"next_hop[1] port 70000 is out of range", "from 1 to 65535"}},
      {"DuplicateDomain",
       {MakeRoute("example.net"), MakeRoute("Example.NET")},
       {"route[1] \"Example.NET\": duplicate of route[0] \"example.net\"",
        "Merge"}},
      {"DuplicateWildcard",
       {MakeRoute("*.example.net"), MakeRoute("*.EXAMPLE.net")},
       {"duplicate of route[0]"}},
      {"EmptyRecipient", {empty_recipient}, {"recipient[1] \"\" is empty"}},
      {"EmptyLocalPart", {empty_local}, {"empty local part"}},
      {"RecipientOtherDomain",
       {other_domain},
       {"recipient[0] \"bob@example.org\"", "can never match"}},
      {"RecipientWildcardApex",
       {apex_of_wildcard},
       {"recipient[0] \"bob@example.net\"", "does not match"}},
      {"EtrnClientHostName",
       {etrn_host_name},
       {"route[0] \"example.net\": etrn_client[1] \"mail.example.net\" is "
        "not an IP address or CIDR prefix"}},
      {"EtrnClientHostBits",
       {etrn_host_bits},
       {"etrn_client[0] \"192.0.2.7/24\"", "\"192.0.2.0/24\""}},
  };
}

TEST(RouteTableBuild, RejectsInvalidRoutes) {
  for (const BuildErrorCase& test : BuildErrorCases()) {
    SCOPED_TRACE(test.name);
    absl::StatusOr<std::shared_ptr<const RouteTable>> table =
        RouteTable::Build(test.routes);
    ASSERT_FALSE(table.ok());
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& part : test.message_parts) {
      EXPECT_THAT(table.status().message(), HasSubstr(part));
    }
  }
}

TEST(RouteTableValidate, NamesRouteWithoutIndex) {
  absl::Status status =
      RouteTable::Validate(MakeRoute("example.net", "mx_1.example.net"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("route \"example.net\": next_hop[0] host "
                        "\"mx_1.example.net\""));
  EXPECT_TRUE(RouteTable::Validate(MakeRoute("example.net")).ok());
}

TEST(RouteTableBuild, AcceptsHostForms) {
  const std::vector<std::string> hosts = {
      "mx.example.com",        "localhost",  "127.0.0.1", "::1", "2001:db8::25",
      "xn--bcher-kva.example", "a-b.example"};
  for (const std::string& host : hosts) {
    SCOPED_TRACE(host);
    EXPECT_TRUE(RouteTable::Build({MakeRoute("example.net", host)}).ok());
  }
}

TEST(RouteTableBuild, NormalizesCaseAndDefaultPort) {
  Route route = MakeRoute("Example.NET", "MX.Example.COM");
  route.next_hops[0].port = 0;
  route.recipients = {"Bob", "Alice@Example.NET"};
  std::shared_ptr<const RouteTable> table = MustBuild({route});
  const Route* found = table->Find("example.net");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->domain, "example.net");
  ASSERT_EQ(found->next_hops.size(), 1u);
  EXPECT_EQ(found->next_hops[0].host, "mx.example.com");
  EXPECT_EQ(found->next_hops[0].port, 25u);
  EXPECT_THAT(found->recipients,
              ::testing::ElementsAre("bob", "alice@example.net"));
}

TEST(RouteTableBuild, ParsesEtrnClients) {
  Route route = MakeRoute("example.net");
  route.etrn_clients = {"192.0.2.7/32", "2001:DB8::/32"};
  std::shared_ptr<const RouteTable> table = MustBuild({route});
  const Route* found = table->Find("example.net");
  ASSERT_NE(found, nullptr);
  EXPECT_THAT(found->etrn_clients,
              ::testing::ElementsAre("192.0.2.7", "2001:db8::/32"));
  ASSERT_EQ(found->etrn_networks.size(), 2u);
  EXPECT_EQ(found->etrn_networks[1].ToString(), "2001:db8::/32");
}

TEST(RouteTableBuild, RoutesKeepsInputOrder) {
  std::shared_ptr<const RouteTable> table = MustBuild(
      {MakeRoute("b.example"), MakeRoute("a.example"), MakeRoute("c.example")});
  std::vector<const Route*> routes = table->Routes();
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0]->domain, "b.example");
  EXPECT_EQ(routes[1]->domain, "a.example");
  EXPECT_EQ(routes[2]->domain, "c.example");
}

TEST(RouteTableBuild, EmptyListGivesEmptyTable) {
  std::shared_ptr<const RouteTable> table = MustBuild({});
  EXPECT_EQ(table->size(), 0u);
  EXPECT_EQ(table->Find("example.net"), nullptr);
}

struct FindCase {
  std::string domain;
  std::string expected;  // matching route's domain; "" for no match
};

TEST(RouteTableFind, PicksMostSpecificRoute) {
  std::shared_ptr<const RouteTable> table = MustBuild({
      MakeRoute("example.net"),
      MakeRoute("*.example.net"),
      MakeRoute("*.deep.example.net"),
      MakeRoute("exact.example.net"),
      MakeRoute("Mixed.Example.ORG"),
  });
  const std::vector<FindCase> cases = {
      {"example.net", "example.net"},
      {"EXAMPLE.NET", "example.net"},
      {"a.example.net", "*.example.net"},
      {"A.Example.Net", "*.example.net"},
      {"x.y.example.net", "*.example.net"},
      {"deep.example.net", "*.example.net"},
      {"a.deep.example.net", "*.deep.example.net"},
      {"a.b.deep.example.net", "*.deep.example.net"},
      {"exact.example.net", "exact.example.net"},
      {"a.exact.example.net", "*.example.net"},
      {"mixed.example.org", "mixed.example.org"},
      {"example.org", ""},
      {"net", ""},
      {"badexample.net", ""},
      {"example.net.", ""},
      {"", ""},
      {"[192.0.2.1]", ""},
      {"[IPv6:2001:db8::1]", ""},
      {std::string(300, 'a') + ".example.net", ""},
  };
  for (const FindCase& test : cases) {
    SCOPED_TRACE(test.domain);
    const Route* route = table->Find(test.domain);
    if (test.expected.empty()) {
      EXPECT_EQ(route, nullptr);
    } else {
      ASSERT_NE(route, nullptr);
      EXPECT_EQ(route->domain, test.expected);
    }
  }
}

TEST(RouteTableEtrn, AllowsListedClientsOnly) {
  Route exact = MakeRoute("example.net");
  exact.etrn_clients = {"192.0.2.0/24", "2001:db8::/32"};
  Route wildcard = MakeRoute("*.example.org");
  wildcard.etrn_clients = {"198.51.100.7"};
  Route closed = MakeRoute("example.com");
  std::shared_ptr<const RouteTable> table =
      MustBuild({exact, wildcard, closed});
  EXPECT_TRUE(table->AllowsEtrn("example.net", "192.0.2.200"));
  EXPECT_TRUE(table->AllowsEtrn("EXAMPLE.net", "::ffff:192.0.2.1"));
  EXPECT_TRUE(table->AllowsEtrn("example.net", "2001:db8:1::9"));
  EXPECT_FALSE(table->AllowsEtrn("example.net", "192.0.3.1"));
  EXPECT_FALSE(table->AllowsEtrn("example.net", "2001:db9::1"));
  EXPECT_TRUE(table->AllowsEtrn("mx.example.org", "198.51.100.7"));
  EXPECT_FALSE(table->AllowsEtrn("example.org", "198.51.100.7"));
  EXPECT_FALSE(table->AllowsEtrn("example.com", "192.0.2.1"));
  EXPECT_FALSE(table->AllowsEtrn("example.info", "192.0.2.1"));
  EXPECT_FALSE(table->AllowsEtrn("example.net", "not-an-address"));
}

TEST(RouteTableFind, WildcardSkipsItsOwnApex) {
  std::shared_ptr<const RouteTable> table = MustBuild({MakeRoute("*.a.b")});
  EXPECT_EQ(table->Find("a.b"), nullptr);
  EXPECT_NE(table->Find("x.a.b"), nullptr);
}

struct CheckCase {
  std::string local_part;
  std::string domain;
  RecipientVerdict expected;
};

TEST(RouteTableCheck, AppliesRecipientLists) {
  Route listed = MakeRoute("example.com");
  listed.recipients = {"bob", "Alice@Example.COM"};
  Route wildcard = MakeRoute("*.example.net");
  wildcard.recipients = {"bob@a.example.net", "carol"};
  std::shared_ptr<const RouteTable> table =
      MustBuild({listed, wildcard, MakeRoute("open.example")});
  const std::vector<CheckCase> cases = {
      {"bob", "example.com", RecipientVerdict::kAccept},
      {"BOB", "example.com", RecipientVerdict::kAccept},
      {"alice", "example.com", RecipientVerdict::kAccept},
      {"alice", "EXAMPLE.com", RecipientVerdict::kAccept},
      {"carol", "example.com", RecipientVerdict::kUnknownRecipient},
      {"bob", "other.org", RecipientVerdict::kNoRoute},
      {"bob", "[192.0.2.1]", RecipientVerdict::kNoRoute},
      {"bob", "a.example.net", RecipientVerdict::kAccept},
      {"bob", "b.example.net", RecipientVerdict::kUnknownRecipient},
      {"carol", "b.example.net", RecipientVerdict::kAccept},
      {"bob", "example.net", RecipientVerdict::kNoRoute},
      {"anyone", "open.example", RecipientVerdict::kAccept},
      {"\"odd user\"", "open.example", RecipientVerdict::kAccept},
  };
  for (const CheckCase& test : cases) {
    SCOPED_TRACE(test.local_part + "@" + test.domain);
    EXPECT_EQ(table->Check(test.local_part, test.domain), test.expected);
  }
}

TEST(OrderNextHops, SortsByPriority) {
  Route route = MakeRoute("example.net");
  route.next_hops = {{.host = "c", .port = 25, .priority = 30},
                     {.host = "a", .port = 25, .priority = 10},
                     {.host = "b", .port = 25, .priority = 20}};
  std::mt19937 gen(1);
  std::vector<NextHop> ordered = OrderNextHops(route, gen);
  ASSERT_EQ(ordered.size(), 3u);
  EXPECT_EQ(ordered[0].host, "a");
  EXPECT_EQ(ordered[1].host, "b");
  EXPECT_EQ(ordered[2].host, "c");
}

TEST(OrderNextHops, ShufflesEqualPriorities) {
  Route route = MakeRoute("example.net");
  route.next_hops = {{.host = "backup", .port = 25, .priority = 20},
                     {.host = "x", .port = 25, .priority = 10},
                     {.host = "y", .port = 25, .priority = 10},
                     {.host = "z", .port = 25, .priority = 10}};
  std::mt19937 gen(7);
  std::set<std::string> first_hosts;
  for (int i = 0; i < 200; ++i) {
    std::vector<NextHop> ordered = OrderNextHops(route, gen);
    ASSERT_EQ(ordered.size(), 4u);
    EXPECT_EQ(ordered[3].host, "backup");
    std::set<std::string> group = {ordered[0].host, ordered[1].host,
                                   ordered[2].host};
    EXPECT_EQ(group, (std::set<std::string>{"x", "y", "z"}));
    first_hosts.insert(ordered[0].host);
  }
  EXPECT_EQ(first_hosts, (std::set<std::string>{"x", "y", "z"}));
}

}  // namespace
}  // namespace ferry::route
