// Test helper: records in the legacy 16-byte frame header form, which
// ferryd reads but no longer writes.
#ifndef FERRY_ENGINE_SPOOL_LEGACY_RECORD_TESTING_H_
#define FERRY_ENGINE_SPOOL_LEGACY_RECORD_TESTING_H_

#include <cstdint>
#include <string>

#include "engine/spool/crc32c.h"
#include "engine/spool/record.h"

namespace ferry::spool {

// Returns `record`, as EncodeMessagePrefix() (with its body) or
// EncodeOutcome() returned it, with the legacy frame header: the legacy
// magic, no stamp, and a header check over 16 bytes.
inline std::string ToLegacy(const std::string& record) {
  std::string legacy = record.substr(0, kLegacyFrameHeaderSize) +
                       record.substr(kFrameHeaderSize);
  legacy[3] = static_cast<char>(kLegacyRecordMagic >> 24);
  std::string zeroed = legacy.substr(0, kLegacyFrameHeaderSize);
  zeroed.replace(5, 3, 3, '\0');
  const uint32_t check = Crc32c(0, zeroed.data(), zeroed.size()) & 0xFFFFFF;
  for (int i = 0; i < 3; ++i) {
    legacy[5 + i] = static_cast<char>(check >> (8 * i));
  }
  return legacy;
}

}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_LEGACY_RECORD_TESTING_H_
