#include "engine/spool/queue_id.h"

#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace ferry::spool {
namespace {

constexpr int64_t kDec2024 = 1733325296123456;  // 2024-12-04, microseconds

TEST(QueueIdTest, HasFixedLength) {
  EXPECT_EQ(MakeQueueId(3, 17, kDec2024).size(), kQueueIdLength);
}

TEST(QueueIdTest, UsesOnlyUpperCaseBase32) {
  const std::string id = MakeQueueId(255, 1023, kDec2024);
  for (char c : id) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) << id;
    EXPECT_EQ(std::string("ILOU").find(c), std::string::npos) << id;
  }
}

TEST(QueueIdTest, ExtremeValues) {
  EXPECT_EQ(MakeQueueId(0, 0, 0), "00000000000000");
  EXPECT_EQ(MakeQueueId(255, 1023, kMaxQueueIdUnixMicros), "ZZZZZZZZZZZZZZ");
}

TEST(QueueIdTest, ParseRoundTrip) {
  absl::StatusOr<QueueIdParts> parts =
      ParseQueueId(MakeQueueId(42, 5000, kDec2024));
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->unix_micros, kDec2024);
  EXPECT_EQ(parts->worker, 42);
  EXPECT_EQ(parts->counter_bits, 5000u % 1024);
}

TEST(QueueIdTest, SortsByTimeAcrossWorkers) {
  const std::string earlier = MakeQueueId(255, 1023, kDec2024);
  const std::string later = MakeQueueId(0, 0, kDec2024 + 1);
  EXPECT_LT(earlier, later);
}

TEST(QueueIdTest, SortsByTimeOverYears) {
  std::string previous = MakeQueueId(0, 0, 0);
  for (int64_t micros = 1; micros < kMaxQueueIdUnixMicros; micros *= 3) {
    const std::string id = MakeQueueId(0, 0, micros);
    EXPECT_LT(previous, id) << micros;
    previous = id;
  }
}

TEST(QueueIdTest, UniqueAcrossWorkersAndCounters) {
  std::set<std::string> ids;
  size_t count = 0;
  for (int worker = 0; worker < 4; ++worker) {
    for (uint64_t counter = 0; counter < 3000; ++counter) {
      // Many messages per microsecond, far more than a worker accepts.
      ids.insert(MakeQueueId(worker, counter, kDec2024 + counter / 100));
      ++count;
    }
  }
  EXPECT_EQ(ids.size(), count);
}

TEST(QueueIdTest, CounterKeepsLowTenBits) {
  EXPECT_EQ(MakeQueueId(1, 7, kDec2024), MakeQueueId(1, 7 + 1024, kDec2024));
}

TEST(QueueIdTest, ParseRejectsWrongLength) {
  EXPECT_FALSE(ParseQueueId("0123456789ABC").ok());
  EXPECT_FALSE(ParseQueueId("0123456789ABCDE").ok());
  EXPECT_FALSE(ParseQueueId("").ok());
}

TEST(QueueIdTest, ParseRejectsCharactersOutsideAlphabet) {
  for (const char* id :
       {"0123456789ABCI", "0123456789ABCL", "0123456789ABCO", "0123456789ABCU",
        "0123456789abcd", "0123456789ABC/"}) {
    EXPECT_FALSE(ParseQueueId(id).ok()) << id;
  }
}

}  // namespace
}  // namespace ferry::spool
