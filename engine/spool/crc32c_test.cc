#include "engine/spool/crc32c.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ferry::spool {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t first, int step) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<uint8_t>(first + step * i);
  return out;
}

struct Vector {
  const char* name;
  std::vector<uint8_t> data;
  uint32_t crc;
};

// RFC 3720 appendix B.4, plus the usual "123456789" check value.
std::vector<Vector> KnownVectors() {
  const std::string digits = "123456789";
  return {
      {"32 zeros", Bytes(32, 0x00, 0), 0x8A9136AA},
      {"32 x 0xFF", Bytes(32, 0xFF, 0), 0x62A8AB43},
      {"ascending 0..31", Bytes(32, 0x00, 1), 0x46DD794E},
      {"descending 31..0", Bytes(32, 0x1F, -1), 0x113FDB5C},
      {"iSCSI read PDU",
       {0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
       0xD9963A56},
      {"digits", std::vector<uint8_t>(digits.begin(), digits.end()),
       0xE3069283},
      {"empty", {}, 0x00000000},
  };
}

TEST(Crc32cTest, MatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Crc32c(0, v.data.data(), v.data.size()), v.crc) << v.name;
  }
}

TEST(Crc32cTest, PortableMatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(internal::Crc32cPortable(0, v.data.data(), v.data.size()), v.crc)
        << v.name;
  }
}

TEST(Crc32cTest, Sse42MatchesKnownVectors) {
  if (!internal::Crc32cHasSse42()) GTEST_SKIP() << "CPU lacks SSE4.2";
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(internal::Crc32cSse42(0, v.data.data(), v.data.size()), v.crc)
        << v.name;
  }
}

TEST(Crc32cTest, ExtendEqualsWholeBuffer) {
  const std::vector<uint8_t> data = Bytes(100, 7, 13);
  const uint32_t whole = Crc32c(0, data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = Crc32c(0, data.data(), split);
    EXPECT_EQ(Crc32c(first, data.data() + split, data.size() - split), whole)
        << "split at " << split;
  }
}

TEST(Crc32cTest, BothPathsAgreeOnRandomData) {
  if (!internal::Crc32cHasSse42()) GTEST_SKIP() << "CPU lacks SSE4.2";
  std::mt19937_64 rng(42);
  std::vector<uint8_t> data(4096 + 7);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  // Every length up to 64 and a spread of offsets covers the unaligned
  // head and the byte-at-a-time tail of both loops.
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= data.size(); n += (n < 64 ? 1 : 97)) {
      const uint32_t seed = static_cast<uint32_t>(rng());
      EXPECT_EQ(internal::Crc32cSse42(seed, data.data() + offset, n),
                internal::Crc32cPortable(seed, data.data() + offset, n))
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::vector<uint8_t> data = Bytes(64, 0, 3);
  const uint32_t before = Crc32c(0, data.data(), data.size());
  data[17] ^= 0x10;
  EXPECT_NE(Crc32c(0, data.data(), data.size()), before);
}

}  // namespace
}  // namespace ferry::spool
