#include "engine/config/duration.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ferry::config {
namespace {

struct ValidCase {
  const char* text;
  absl::Duration expected;
};

TEST(ParseDurationTest, AcceptsValidDurations) {
  const ValidCase cases[] = {
      {"300s", absl::Seconds(300)},
      {"5m", absl::Minutes(5)},
      {"2h", absl::Hours(2)},
      {"5d", absl::Hours(5 * 24)},
      {"1h30m", absl::Minutes(90)},
      {"1d2h3m4s", absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4)},
      {"0s", absl::ZeroDuration()},
      {"007s", absl::Seconds(7)},
      {"999999999d", absl::Hours(999999999LL * 24)},
  };
  for (const ValidCase& c : cases) {
    absl::StatusOr<absl::Duration> duration = ParseDuration(c.text);
    ASSERT_TRUE(duration.ok()) << c.text << ": " << duration.status();
    EXPECT_EQ(*duration, c.expected) << c.text;
  }
}

struct InvalidCase {
  const char* text;
  const char* message_part;
};

TEST(ParseDurationTest, RejectsInvalidDurations) {
  const InvalidCase cases[] = {
      {"", "empty"},
      {"5", "has no unit"},
      {"5x", "'x' is not a unit"},
      {"5 s", "' ' is not a unit"},
      {"s", "expected a number"},
      {"-5s", "expected a number"},
      {"+5s", "expected a number"},
      {"1.5h", "fractions are not supported"},
      {"30m1h", "largest to smallest"},
      {"5m5m", "largest to smallest"},
      {"5ms", "expected a number"},
      {"5S", "'S' is not a unit"},
      {"1234567890s", "more than 9 digits"},
      {"5s ", "expected a number"},
  };
  for (const InvalidCase& c : cases) {
    absl::StatusOr<absl::Duration> duration = ParseDuration(c.text);
    ASSERT_FALSE(duration.ok()) << "\"" << c.text << "\" parsed";
    EXPECT_EQ(duration.status().code(), absl::StatusCode::kInvalidArgument)
        << c.text;
    EXPECT_NE(duration.status().message().find(c.message_part),
              std::string::npos)
        << c.text << ": " << duration.status();
  }
}

}  // namespace
}  // namespace ferry::config
