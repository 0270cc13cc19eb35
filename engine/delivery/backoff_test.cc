#include "engine/delivery/backoff.h"

#include <climits>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ferry::delivery {
namespace {

struct DelayCase {
  int attempts;
  absl::Duration expected;
};

TEST(BackoffDelay, DoublesUpToMax) {
  const absl::Duration initial = absl::Seconds(60);
  const absl::Duration max = absl::Hours(1);
  const std::vector<DelayCase> cases = {
      {-5, absl::Seconds(60)}, {0, absl::Seconds(60)},
      {1, absl::Seconds(60)},  {2, absl::Seconds(120)},
      {3, absl::Seconds(240)}, {4, absl::Seconds(480)},
      {5, absl::Seconds(960)}, {6, absl::Seconds(1920)},
      {7, absl::Hours(1)},     {8, absl::Hours(1)},
      {1000, absl::Hours(1)},  {INT_MAX, absl::Hours(1)},
  };
  for (const DelayCase& test : cases) {
    SCOPED_TRACE(test.attempts);
    EXPECT_EQ(BackoffDelay(test.attempts, initial, max), test.expected);
  }
}

TEST(BackoffDelay, ZeroInitialGivesZero) {
  EXPECT_EQ(BackoffDelay(10, absl::ZeroDuration(), absl::Hours(1)),
            absl::ZeroDuration());
}

TEST(BackoffDelay, InitialOverMaxGivesMax) {
  EXPECT_EQ(BackoffDelay(1, absl::Hours(2), absl::Hours(1)), absl::Hours(1));
}

TEST(BackoffDelay, InfiniteMaxStopsAtInfinity) {
  EXPECT_EQ(
      BackoffDelay(INT_MAX, absl::Nanoseconds(1), absl::InfiniteDuration()),
      absl::InfiniteDuration());
}

TEST(JitteredBackoffDelay, StaysWithinTenPercent) {
  std::mt19937 gen(42);
  const absl::Duration base = absl::Seconds(240);
  absl::Duration lowest = absl::InfiniteDuration();
  absl::Duration highest = absl::ZeroDuration();
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration delay =
        JitteredBackoffDelay(3, absl::Seconds(60), absl::Hours(1), gen);
    EXPECT_GE(delay, base * 0.9);
    EXPECT_LE(delay, base * 1.1);
    lowest = std::min(lowest, delay);
    highest = std::max(highest, delay);
  }
  // The factor spreads over the interval instead of sticking to one value.
  EXPECT_LT(lowest, base * 0.92);
  EXPECT_GT(highest, base * 1.08);
}

TEST(JitteredBackoffDelay, NeverExceedsMax) {
  std::mt19937 gen(7);
  absl::Duration lowest = absl::InfiniteDuration();
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration delay =
        JitteredBackoffDelay(50, absl::Seconds(60), absl::Hours(1), gen);
    EXPECT_LE(delay, absl::Hours(1));
    lowest = std::min(lowest, delay);
  }
  EXPECT_LT(lowest, absl::Hours(1) * 0.92);
}

struct ExpiredCase {
  std::string name;
  absl::Duration age;
  bool expired;
};

TEST(Expired, ComparesAgeWithLifetime) {
  const absl::Time arrival = absl::FromUnixSeconds(1700000000);
  const absl::Duration lifetime = absl::Hours(24 * 5);
  const std::vector<ExpiredCase> cases = {
      {"JustArrived", absl::ZeroDuration(), false},
      {"OneSecondBefore", lifetime - absl::Seconds(1), false},
      {"AtLifetime", lifetime, true},
      {"PastLifetime", lifetime + absl::Hours(1), true},
      {"ClockWentBack", -absl::Hours(1), false},
  };
  for (const ExpiredCase& test : cases) {
    SCOPED_TRACE(test.name);
    EXPECT_EQ(Expired(arrival, arrival + test.age, lifetime), test.expired);
  }
}

}  // namespace
}  // namespace ferry::delivery
