// Counter and Gauge: single-writer metric values. One worker thread writes
// each value and any thread may read it, so an update is a relaxed load and
// store rather than a locked read-modify-write. A reader sees every update
// eventually and never a torn value; it may see a value one update old.
//
// REQUIRES: only one thread calls the mutating methods of a given value
// (see WorkerMetrics for which thread that is).
#ifndef FERRY_ENGINE_METRICS_COUNTER_H_
#define FERRY_ENGINE_METRICS_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace ferry::metrics {

// A count that only grows.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
  }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down, such as open connections.
class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) {
    value_.store(value_.load(std::memory_order_relaxed) + delta,
                 std::memory_order_relaxed);
  }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_COUNTER_H_
