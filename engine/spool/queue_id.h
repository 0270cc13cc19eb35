// Queue IDs: the name of one spooled message in logs, DSNs, Received
// headers and the admin API. Pure functions, safe from any thread.
//
// A queue ID is 14 characters of Crockford base32 (digits and upper-case
// letters without I, L, O and U) encoding 70 bits, most significant first:
//
//   bits 69..18  microseconds since the Unix epoch (52 bits, to year 2112)
//   bits 17..10  worker number (8 bits)
//   bits  9..0   low 10 bits of the worker's message counter
//
// The alphabet is in ASCII order, so IDs sort by arrival time as strings.
// Two IDs collide only if one worker makes both in the same microsecond
// with equal low counter bits. That takes 1024 messages within one
// microsecond, or a clock step back onto a microsecond that was already
// used for a counter value with the same low bits.
#ifndef FERRY_ENGINE_SPOOL_QUEUE_ID_H_
#define FERRY_ENGINE_SPOOL_QUEUE_ID_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ferry::spool {

inline constexpr size_t kQueueIdLength = 14;
inline constexpr int kMaxQueueIdWorkers = 256;
inline constexpr int64_t kMaxQueueIdUnixMicros = (int64_t{1} << 52) - 1;

// Returns the queue ID for the message numbered `counter` on `worker`,
// accepted at `unix_micros`. Only the low 10 bits of `counter` are used.
// REQUIRES: 0 <= worker < kMaxQueueIdWorkers and
// 0 <= unix_micros <= kMaxQueueIdUnixMicros.
std::string MakeQueueId(int worker, uint64_t counter, int64_t unix_micros);

// The fields a queue ID encodes.
struct QueueIdParts {
  int64_t unix_micros = 0;
  int worker = 0;
  uint32_t counter_bits = 0;  // low 10 bits of the counter
};

// Decodes a queue ID made by MakeQueueId(). Returns InvalidArgument when
// `queue_id` is not 14 characters of the upper-case alphabet.
absl::StatusOr<QueueIdParts> ParseQueueId(std::string_view queue_id);

}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_QUEUE_ID_H_
