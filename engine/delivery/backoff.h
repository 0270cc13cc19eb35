// Retry timing for deferred mail: the delay before the next attempt, and
// whether a message has outlived the queue lifetime. Pure functions, safe to
// call from any thread.
#ifndef FERRY_ENGINE_DELIVERY_BACKOFF_H_
#define FERRY_ENGINE_DELIVERY_BACKOFF_H_

#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"

namespace ferry::delivery {

// Returns the delay before the next attempt after `attempts` attempts have
// failed: initial * 2^(attempts - 1), capped at `max`. Values of `attempts`
// below 1 count as 1. Returns zero when `initial` is not positive, and
// `max` when `initial` is larger than `max`.
absl::Duration BackoffDelay(int attempts, absl::Duration initial,
                            absl::Duration max);

// Returns BackoffDelay() multiplied by a random factor in [0.9, 1.1], so that
// messages deferred together do not all retry at the same moment. The
// result is capped at `max` after the factor is applied, so `max` stays a
// true maximum.
absl::Duration JitteredBackoffDelay(int attempts, absl::Duration initial,
                                    absl::Duration max, absl::BitGenRef gen);

// Returns true iff a message that arrived at `arrival` has been queued for
// `queue_lifetime` or longer at `now`.
bool Expired(absl::Time arrival, absl::Time now, absl::Duration queue_lifetime);

}  // namespace ferry::delivery

#endif  // FERRY_ENGINE_DELIVERY_BACKOFF_H_
