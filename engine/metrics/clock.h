// The monotonic clock that latency metrics are measured with.
#ifndef FERRY_ENGINE_METRICS_CLOCK_H_
#define FERRY_ENGINE_METRICS_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace ferry::metrics {

// Returns nanoseconds on the steady clock, which never jumps when the
// wall clock is set. Only differences of two results mean anything.
inline uint64_t MonotonicNanos() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_CLOCK_H_
