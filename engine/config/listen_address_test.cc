#include "engine/config/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "gtest/gtest.h"

namespace ferry::config {
namespace {

struct ValidCase {
  const char* text;
  int family;
  const char* host;
  uint16_t port;
  const char* canonical;
};

TEST(ParseListenAddressTest, AcceptsIpLiterals) {
  const ValidCase cases[] = {
      {"127.0.0.1:2525", AF_INET, "127.0.0.1", 2525, "127.0.0.1:2525"},
      {"0.0.0.0:25", AF_INET, "0.0.0.0", 25, "0.0.0.0:25"},
      {"[::1]:2525", AF_INET6, "::1", 2525, "[::1]:2525"},
      {"[::]:25", AF_INET6, "::", 25, "[::]:25"},
      {"[0:0::0001]:65535", AF_INET6, "::1", 65535, "[::1]:65535"},
      {"10.1.2.3:1", AF_INET, "10.1.2.3", 1, "10.1.2.3:1"},
  };
  for (const ValidCase& c : cases) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(c.text);
    ASSERT_TRUE(address.ok()) << c.text << ": " << address.status();
    EXPECT_EQ(address->family(), c.family) << c.text;
    EXPECT_EQ(address->host, c.host) << c.text;
    EXPECT_EQ(address->port, c.port) << c.text;
    EXPECT_EQ(address->ToString(), c.canonical) << c.text;
  }
}

TEST(ParseListenAddressTest, FillsSockaddrIn) {
  absl::StatusOr<ListenAddress> address = ParseListenAddress("127.0.0.1:2525");
  ASSERT_TRUE(address.ok());
  ASSERT_EQ(address->sockaddr_length, sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&address->sockaddr);
  EXPECT_EQ(sin->sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin->sin_port), 2525);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0x7f000001u);
}

TEST(ParseListenAddressTest, FillsSockaddrIn6) {
  absl::StatusOr<ListenAddress> address = ParseListenAddress("[::1]:25");
  ASSERT_TRUE(address.ok());
  ASSERT_EQ(address->sockaddr_length, sizeof(sockaddr_in6));
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address->sockaddr);
  EXPECT_EQ(sin6->sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sin6->sin6_port), 25);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
}

struct InvalidCase {
  const char* text;
  const char* message_part;
};

TEST(ParseListenAddressTest, RejectsInvalidAddresses) {
  const InvalidCase cases[] = {
      {"", "port is missing"},
      {"127.0.0.1", "port is missing"},
      {"127.0.0.1:", "port \"\" is invalid"},
      {"127.0.0.1:0", "port \"0\" is invalid"},
      {"127.0.0.1:65536", "port \"65536\" is invalid"},
      {"127.0.0.1:+25", "port \"+25\" is invalid"},
      {"127.0.0.1:25x", "port \"25x\" is invalid"},
      {"127.0.0.1:000025", "port \"000025\" is invalid"},
      {":25", "host is missing"},
      {"[]:25", "host is missing"},
      {"localhost:25", "\"localhost\" is not an IP address"},
      {"256.0.0.1:25", "\"256.0.0.1\" is not an IP address"},
      {"::1:25", "needs brackets"},
      {"[::1]", "port is missing"},
      {"[::1]25", "port is missing"},
      {"[::1:25", "no matching ']'"},
      {"[127.0.0.1]:25", "not an IPv6 address"},
      {"[fe80::1%eth0]:25", "not an IPv6 address"},
  };
  for (const InvalidCase& c : cases) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(c.text);
    ASSERT_FALSE(address.ok()) << "\"" << c.text << "\" parsed";
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument)
        << c.text;
    EXPECT_NE(address.status().message().find(c.message_part),
              std::string::npos)
        << c.text << ": " << address.status();
  }
}

}  // namespace
}  // namespace ferry::config
