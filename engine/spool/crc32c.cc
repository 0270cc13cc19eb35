#include "engine/spool/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ferry::spool {
namespace {

// Bit-reversed form of the Castagnoli polynomial 0x1EDC6F41.
constexpr uint32_t kPolynomial = 0x82F63B78;

// Slicing-by-8 tables: kTables[0] is the classic byte table, and
// kTables[k][b] is the CRC of byte b followed by k zero bytes.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? (crc >> 1) ^ kPolynomial : crc >> 1;
    }
    tables[0][b] = crc;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xFF];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

// Both implementations read eight bytes at a time as one little-endian word.
static_assert(std::endian::native == std::endian::little,
              "Crc32c assumes a little-endian host");

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

uint32_t UpdateByte(uint32_t state, uint8_t byte) {
  return (state >> 8) ^ kTables[0][(state ^ byte) & 0xFF];
}

}  // namespace

namespace internal {

uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    const uint64_t word = LoadLittleEndian64(p) ^ state;
    state = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^
            kTables[5][(word >> 16) & 0xFF] ^ kTables[4][(word >> 24) & 0xFF] ^
            kTables[3][(word >> 32) & 0xFF] ^ kTables[2][(word >> 40) & 0xFF] ^
            kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
  }
  for (; n > 0; --n, ++p) state = UpdateByte(state, *p);
  return ~state;
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(uint32_t crc,
                                                       const void* data,
                                                       size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t state = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    state = _mm_crc32_u64(state, LoadLittleEndian64(p));
  }
  auto state32 = static_cast<uint32_t>(state);
  for (; n > 0; --n, ++p) state32 = _mm_crc32_u8(state32, *p);
  return ~state32;
}

bool Crc32cHasSse42() {
  static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
  return has_sse42;
}

#else

uint32_t Crc32cSse42(uint32_t crc, const void* data, size_t n) {
  return Crc32cPortable(crc, data, n);
}

bool Crc32cHasSse42() { return false; }

#endif

}  // namespace internal

uint32_t Crc32c(uint32_t crc, const void* data, size_t n) {
  static const bool use_sse42 = internal::Crc32cHasSse42();
  return use_sse42 ? internal::Crc32cSse42(crc, data, n)
                   : internal::Crc32cPortable(crc, data, n);
}

}  // namespace ferry::spool
