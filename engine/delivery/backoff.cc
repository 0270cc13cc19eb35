#include "engine/delivery/backoff.h"

#include <algorithm>

#include "absl/random/distributions.h"

namespace ferry::delivery {

absl::Duration BackoffDelay(int attempts, absl::Duration initial,
                            absl::Duration max) {
  if (initial <= absl::ZeroDuration()) return absl::ZeroDuration();
  absl::Duration delay = std::min(initial, max);
  // Doubling a positive delay reaches `max` within about 100 steps for any
  // Duration values, so the loop is short even for a huge `attempts`.
  for (int i = 1; i < attempts && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

absl::Duration JitteredBackoffDelay(int attempts, absl::Duration initial,
                                    absl::Duration max, absl::BitGenRef gen) {
  const double factor =
      absl::Uniform<double>(absl::IntervalClosedClosed, gen, 0.9, 1.1);
  return std::min(BackoffDelay(attempts, initial, max) * factor, max);
}

bool Expired(absl::Time arrival, absl::Time now,
             absl::Duration queue_lifetime) {
  return now - arrival >= queue_lifetime;
}

}  // namespace ferry::delivery
