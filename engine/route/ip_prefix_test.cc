#include "engine/route/ip_prefix.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

using ::testing::HasSubstr;

IpPrefix MustParse(std::string_view text) {
  absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(text);
  EXPECT_TRUE(prefix.ok()) << text << ": " << prefix.status();
  return prefix.ok() ? *prefix : *IpPrefix::Parse("::/128");
}

struct CanonicalCase {
  const char* input;
  const char* canonical;
};

TEST(IpPrefixParse, CanonicalForms) {
  const CanonicalCase cases[] = {
      {"192.0.2.7", "192.0.2.7"},
      {"192.0.2.7/32", "192.0.2.7"},
      {"192.0.2.0/24", "192.0.2.0/24"},
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"2001:db8::7", "2001:db8::7"},
      {"2001:DB8::/32", "2001:db8::/32"},
      {"2001:0db8:0000::/48", "2001:db8::/48"},
      {"::/0", "::/0"},
      {"::1", "::1"},
      {"::ffff:192.0.2.0/120", "192.0.2.0/24"},
      {"::ffff:192.0.2.7", "192.0.2.7"},
  };
  for (const CanonicalCase& c : cases) {
    EXPECT_EQ(MustParse(c.input).ToString(), c.canonical) << c.input;
  }
}

TEST(IpPrefixParse, LengthInIpv6Form) {
  EXPECT_EQ(MustParse("192.0.2.0/24").length(), 120);
  EXPECT_EQ(MustParse("2001:db8::/32").length(), 32);
  EXPECT_EQ(MustParse("192.0.2.1").length(), 128);
}

struct ErrorCase {
  const char* input;
  const char* message_part;
};

TEST(IpPrefixParse, RejectsInvalidInput) {
  const ErrorCase cases[] = {
      {"", "not an IP address or CIDR prefix"},
      {"mail.example.net", "not an IP address or CIDR prefix"},
      {"[::1]", "without brackets"},
      {"192.0.2", "not an IP address"},
      {"192.0.2.256", "not an IP address"},
      {"fe80::1%eth0", "not an IP address"},
      {" 192.0.2.1", "not an IP address"},
      {"192.0.2.0/", "invalid prefix length. Write /0 to /32"},
      {"192.0.2.0/33", "Write /0 to /32 after an IPv4 address"},
      {"2001:db8::/129", "Write /0 to /128 after an IPv6 address"},
      {"192.0.2.0/-1", "invalid prefix length"},
      {"192.0.2.0/+8", "invalid prefix length"},
      {"192.0.2.0/ 8", "invalid prefix length"},
      {"192.0.2.0/0008", "invalid prefix length"},
      {"192.0.2.0/24/24", "invalid prefix length"},
      {"192.0.2.7/24", "network address \"192.0.2.0/24\""},
      {"2001:db8::1/32", "network address \"2001:db8::/32\""},
      {"10.1.2.3/9", "network address \"10.0.0.0/9\""},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(c.input);
    ASSERT_FALSE(prefix.ok()) << c.input;
    EXPECT_EQ(prefix.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(prefix.status().message(), HasSubstr(c.message_part))
        << c.input;
  }
}

struct MatchCase {
  const char* prefix;
  const char* address;
  bool contained;
};

TEST(IpPrefixContains, MatchesByFamilyAndLength) {
  const MatchCase cases[] = {
      // IPv4
      {"192.0.2.7", "192.0.2.7", true},
      {"192.0.2.7", "192.0.2.8", false},
      {"192.0.2.0/24", "192.0.2.255", true},
      {"192.0.2.0/24", "192.0.3.0", false},
      {"10.0.0.0/9", "10.127.255.255", true},
      {"10.0.0.0/9", "10.128.0.0", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      // IPv6
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"2001:db8::7", "2001:DB8:0::7", true},
      {"::1", "::1", true},
      {"::1", "127.0.0.1", false},
      {"2001:db8::/33", "2001:db8:8000::", false},
      // IPv4-mapped IPv6 clients, as dual-stack sockets report them
      {"192.0.2.0/24", "::ffff:192.0.2.9", true},
      {"192.0.2.0/24", "::ffff:198.51.100.9", false},
      {"::ffff:192.0.2.0/120", "192.0.2.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},
      {"::/0", "192.0.2.1", true},
      {"2001:db8::/32", "192.0.2.1", false},
      // Not addresses
      {"0.0.0.0/0", "", false},
      {"0.0.0.0/0", "[192.0.2.1]", false},
      {"0.0.0.0/0", "192.0.2.1:25", false},
      {"::/0", "host.example", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(MustParse(c.prefix).Contains(c.address), c.contained)
        << c.prefix << " contains " << c.address;
  }
}

TEST(IpPrefix, EqualityUsesCanonicalForm) {
  EXPECT_EQ(MustParse("192.0.2.0/24"), MustParse("::ffff:192.0.2.0/120"));
  EXPECT_FALSE(MustParse("192.0.2.0/24") == MustParse("192.0.2.0/25"));
}

}  // namespace
}  // namespace ferry::route
