#include "engine/route/route_config.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::Config ConfigWithTwoRoutes() {
  config::Config config;
  config::Route* route = config.add_route();
  route->set_domain("example.net");
  config::NextHop* hop = route->add_next_hop();
  hop->set_host("mx1.example.net");
  hop->set_port(2525);
  hop->set_priority(10);
  hop = route->add_next_hop();
  hop->set_host("mx2.example.net");
  route->add_recipient("bob");
  route->add_etrn_client("192.0.2.0/24");
  route = config.add_route();
  route->set_domain("*.example.org");
  route->add_next_hop()->set_host("127.0.0.1");
  return config;
}

TEST(RoutesFromConfig, CopiesEveryField) {
  std::vector<Route> routes = RoutesFromConfig(ConfigWithTwoRoutes());
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].domain, "example.net");
  ASSERT_EQ(routes[0].next_hops.size(), 2u);
  EXPECT_EQ(routes[0].next_hops[0],
            (NextHop{.host = "mx1.example.net", .port = 2525, .priority = 10}));
  EXPECT_EQ(routes[0].next_hops[1],
            (NextHop{.host = "mx2.example.net", .port = 0, .priority = 0}));
  EXPECT_THAT(routes[0].recipients, ElementsAre("bob"));
  EXPECT_THAT(routes[0].etrn_clients, ElementsAre("192.0.2.0/24"));
  EXPECT_EQ(routes[1].domain, "*.example.org");
}

TEST(BuildRouteTable, BuildsValidConfig) {
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      BuildRouteTable(ConfigWithTwoRoutes());
  ASSERT_TRUE(table.ok()) << table.status();
  const Route* route = (*table)->Find("a.example.org");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->next_hops[0].port, 25u);
}

TEST(BuildRouteTable, ErrorNamesConfigIndex) {
  config::Config config = ConfigWithTwoRoutes();
  config.mutable_route(1)->mutable_next_hop(0)->set_port(65536);
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      BuildRouteTable(config);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(),
              HasSubstr("route[1] \"*.example.org\": next_hop[0] port 65536"));
}

}  // namespace
}  // namespace ferry::route
