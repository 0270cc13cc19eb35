#include "engine/spool/queue_id.h"

#include <cassert>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"

namespace ferry::spool {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr int kBitsPerChar = 5;
constexpr int kWorkerBits = 8;
constexpr int kCounterBits = 10;

// The system Abseil has its own string_view type, distinct from std's.
absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

// Returns the value of base32 character `c`, or -1 if it is not in
// kAlphabet.
int DigitValue(char c) {
  for (int value = 0; value < 32; ++value) {
    if (kAlphabet[value] == c) return value;
  }
  return -1;
}

}  // namespace

std::string MakeQueueId(int worker, uint64_t counter, int64_t unix_micros) {
  assert(worker >= 0);
  assert(worker < kMaxQueueIdWorkers);
  assert(unix_micros >= 0);
  assert(unix_micros <= kMaxQueueIdUnixMicros);
  absl::uint128 bits = static_cast<uint64_t>(unix_micros);
  bits = (bits << kWorkerBits) | static_cast<uint64_t>(worker);
  bits = (bits << kCounterBits) | (counter & ((1u << kCounterBits) - 1));
  std::string id(kQueueIdLength, '0');
  for (size_t i = kQueueIdLength; i-- > 0;) {
    id[i] = kAlphabet[absl::Uint128Low64(bits) & 31];
    bits >>= kBitsPerChar;
  }
  return id;
}

absl::StatusOr<QueueIdParts> ParseQueueId(std::string_view queue_id) {
  if (queue_id.size() != kQueueIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid queue ID \"", ToAbsl(queue_id), "\": expected ",
                     kQueueIdLength, " characters"));
  }
  absl::uint128 bits = 0;
  for (char c : queue_id) {
    const int value = DigitValue(c);
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid queue ID \"", ToAbsl(queue_id),
                       "\": unexpected character '", std::string(1, c), "'"));
    }
    bits = (bits << kBitsPerChar) | static_cast<uint64_t>(value);
  }
  QueueIdParts parts;
  parts.counter_bits = static_cast<uint32_t>(absl::Uint128Low64(bits) &
                                             ((1u << kCounterBits) - 1));
  bits >>= kCounterBits;
  parts.worker = static_cast<int>(absl::Uint128Low64(bits) & 0xFF);
  bits >>= kWorkerBits;
  parts.unix_micros = static_cast<int64_t>(absl::Uint128Low64(bits));
  return parts;
}

}  // namespace ferry::spool
