#include "engine/server/etrn_access.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ferry::server {
namespace {

struct Case {
  std::string client;
  std::vector<std::string> networks;
  bool allowed;
};

class AddressInNetworksTest : public testing::TestWithParam<Case> {};

TEST_P(AddressInNetworksTest, Decides) {
  const Case& c = GetParam();
  EXPECT_EQ(AddressInNetworks(c.client, c.networks), c.allowed) << c.client;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AddressInNetworksTest,
    testing::Values(Case{"192.0.2.7", {"192.0.2.7"}, true},
                    Case{"192.0.2.8", {"192.0.2.7"}, false},
                    Case{"192.0.2.200", {"192.0.2.0/24"}, true},
                    Case{"192.0.3.1", {"192.0.2.0/24"}, false},
                    Case{"192.0.2.1", {"192.0.2.0/31"}, true},
                    Case{"192.0.2.2", {"192.0.2.0/31"}, false},
                    Case{"10.1.2.3", {"0.0.0.0/0"}, true},
                    Case{"127.0.0.1", {"10.0.0.0/8", "127.0.0.0/8"}, true},
                    Case{"::ffff:192.0.2.7", {"192.0.2.0/24"}, true},
                    Case{"2001:db8::5", {"2001:db8::/32"}, true},
                    Case{"2001:db9::5", {"2001:db8::/32"}, false},
                    Case{"::1", {"::1"}, true},
                    Case{"::1", {"127.0.0.1"}, false},
                    Case{"192.0.2.7", {"::/0"}, false},
                    Case{"192.0.2.7", {}, false},
                    Case{"192.0.2.7", {"192.0.2.7/33"}, false},
                    Case{"192.0.2.7", {"192.0.2.7/"}, false},
                    Case{"192.0.2.7", {"192.0.2.7/x"}, false},
                    Case{"192.0.2.7", {"mail.example.net"}, false},
                    Case{"unknown", {"0.0.0.0/0"}, false}));

}  // namespace
}  // namespace ferry::server
