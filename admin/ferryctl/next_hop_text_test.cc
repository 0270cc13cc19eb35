#include "admin/ferryctl/next_hop_text.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::ferryctl {
namespace {

using ::testing::HasSubstr;

struct ParseCase {
  const char* text;
  const char* host;
  uint32_t port;
  uint32_t priority;
};

TEST(ParseNextHop, AcceptsEveryForm) {
  const ParseCase cases[] = {
      {"mail.example.net", "mail.example.net", 25, 0},
      {"mail.example.net:2525", "mail.example.net", 2525, 0},
      {"mail.example.net:2525/10", "mail.example.net", 2525, 10},
      {"mail.example.net/20", "mail.example.net", 25, 20},
      {"192.0.2.7:587", "192.0.2.7", 587, 0},
      {"[2001:db8::25]", "2001:db8::25", 25, 0},
      {"[2001:db8::25]:2525/10", "2001:db8::25", 2525, 10},
      {"[::1]:65535", "::1", 65535, 0},
  };
  for (const ParseCase& c : cases) {
    absl::StatusOr<admin::v1::NextHop> hop = ParseNextHop(c.text);
    ASSERT_TRUE(hop.ok()) << c.text << ": " << hop.status();
    EXPECT_EQ(hop->host(), c.host) << c.text;
    EXPECT_EQ(hop->port(), c.port) << c.text;
    EXPECT_EQ(hop->priority(), c.priority) << c.text;
  }
}

struct ErrorCase {
  const char* text;
  const char* message_part;
};

TEST(ParseNextHop, RejectsMalformedText) {
  const ErrorCase cases[] = {
      {"", "the host is missing"},
      {":2525", "the host is missing"},
      {"mail.example.net:", "port after ':' is missing"},
      {"mail.example.net:0", "port \"0\" is not a number from 1 to 65535"},
      {"mail.example.net:65536", "port \"65536\""},
      {"mail.example.net:smtp", "port \"smtp\""},
      {"mail.example.net:+25", "port \"+25\""},
      {"mail.example.net:2525/", "priority \"\""},
      {"mail.example.net:2525/high", "priority \"high\""},
      {"mail.example.net:2525/-1", "priority \"-1\""},
      {"mail.example.net/4294967296", "priority \"4294967296\""},
      {"[2001:db8::25", "']' is missing"},
      {"2001:db8::25", "needs brackets"},
      {"2001:db8::25:2525/5", "needs brackets"},
      {"[2001:db8::25]2525", "only \":PORT\" may follow"},
      {"[]:25", "the host is missing"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<admin::v1::NextHop> hop = ParseNextHop(c.text);
    ASSERT_FALSE(hop.ok()) << c.text;
    EXPECT_EQ(hop.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(hop.status().message(),
                HasSubstr(std::string("\"") + c.text + "\""));
    EXPECT_THAT(hop.status().message(), HasSubstr(c.message_part)) << c.text;
  }
}

TEST(FormatNextHop, RoundTripsThroughParse) {
  for (const char* text : {"mail.example.net:25", "mail.example.net:2525/10",
                           "[2001:db8::25]:2525/10", "192.0.2.7:587"}) {
    absl::StatusOr<admin::v1::NextHop> hop = ParseNextHop(text);
    ASSERT_TRUE(hop.ok()) << text;
    EXPECT_EQ(FormatNextHop(*hop), text);
  }
}

TEST(FormatNextHop, WritesPortZeroAs25) {
  admin::v1::NextHop hop;
  hop.set_host("mail.example.net");
  EXPECT_EQ(FormatNextHop(hop), "mail.example.net:25");
}

}  // namespace
}  // namespace ferry::ferryctl
