#include "engine/route/route_proto.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

using ::testing::ElementsAre;

admin::v1::Route FullRoute() {
  admin::v1::Route route;
  route.set_domain("example.net");
  admin::v1::NextHop* hop = route.add_next_hop();
  hop->set_host("mx1.example.net");
  hop->set_port(2525);
  hop->set_priority(10);
  route.add_next_hop()->set_host("mx2.example.net");
  route.add_recipient("bob");
  route.add_etrn_client("192.0.2.0/24");
  return route;
}

TEST(RouteFromProto, CopiesEveryField) {
  Route route = RouteFromProto(FullRoute());
  EXPECT_EQ(route.domain, "example.net");
  ASSERT_EQ(route.next_hops.size(), 2u);
  EXPECT_EQ(route.next_hops[0],
            (NextHop{.host = "mx1.example.net", .port = 2525, .priority = 10}));
  EXPECT_EQ(route.next_hops[1],
            (NextHop{.host = "mx2.example.net", .port = 0, .priority = 0}));
  EXPECT_THAT(route.recipients, ElementsAre("bob"));
  EXPECT_THAT(route.etrn_clients, ElementsAre("192.0.2.0/24"));
}

TEST(RouteToProto, RoundTrips) {
  const admin::v1::Route original = FullRoute();
  const admin::v1::Route copy = RouteToProto(RouteFromProto(original));
  EXPECT_EQ(copy.SerializeAsString(), original.SerializeAsString());
}

}  // namespace
}  // namespace ferry::route
