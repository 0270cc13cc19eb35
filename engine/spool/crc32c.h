// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, RFC 3720 appendix B.4): the
// checksum on every spool record. Pure functions, safe from any thread.
#ifndef FERRY_ENGINE_SPOOL_CRC32C_H_
#define FERRY_ENGINE_SPOOL_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ferry::spool {

// Returns the CRC-32C of the bytes that gave `crc` followed by data[0, n).
// Crc32c(0, data, n) is the CRC of data alone, and
// Crc32c(Crc32c(0, a, na), b, nb) equals the CRC of a followed by b.
// Uses the SSE4.2 crc32 instruction when the CPU has it, else a table.
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

namespace internal {

// The two implementations behind Crc32c(), exposed so that tests can
// compare them. Same contract as Crc32c().
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n);

// REQUIRES: Crc32cHasSse42() returns true.
uint32_t Crc32cSse42(uint32_t crc, const void* data, size_t n);

// Returns true iff this build and CPU can run Crc32cSse42().
bool Crc32cHasSse42();

}  // namespace internal
}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_CRC32C_H_
