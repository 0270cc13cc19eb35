// RouteSnapshot: the current routing table, published by the control thread
// and read by the worker threads, each through its own Reader.
//
// Memory publication: the control thread builds a RouteTable completely,
// then Publish() stores the pointer under a mutex and increments a version
// counter. A Reader caches the table with the version it had. Its Load()
// reads the counter (one atomic load, acquire ordering) and returns the
// cached table when the version is unchanged. Only after a Publish() does
// it take the mutex and copy the new pointer. Because the control thread
// stored that pointer under the same mutex, everything written while the
// table was built is visible to the reader. A table is never changed after
// it is published.
//
// The hot path writes no shared memory, so workers on different cores do
// not contend on the table's reference count. An old table is freed when
// the last Reader that cached it loads a newer one or is destroyed, which
// may happen on a worker thread.
//
// std::atomic<std::shared_ptr> would do the same job with a write to the
// reference count on every load. In libstdc++ 12 its load() also releases
// its internal spin lock with relaxed ordering, which ThreadSanitizer
// reports as a data race against a concurrent store().
//
// Thread-safe: one RouteSnapshot is shared by all threads. Each Reader
// belongs to one thread and must not outlive its RouteSnapshot.
#ifndef FERRY_ENGINE_ROUTE_ROUTE_SNAPSHOT_H_
#define FERRY_ENGINE_ROUTE_ROUTE_SNAPSHOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "engine/route/route_table.h"

namespace ferry::route {

class RouteSnapshot {
 public:
  // A worker's view of the snapshot. Not thread-safe.
  class Reader {
   public:
    explicit Reader(const RouteSnapshot* snapshot);

    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    // Returns the table most recently published (never nullptr). The
    // reference is valid until the next Load() on this reader, so copy the
    // shared_ptr to keep the table for longer.
    const std::shared_ptr<const RouteTable>& Load();

   private:
    const RouteSnapshot* const snapshot_;
    uint64_t version_;
    std::shared_ptr<const RouteTable> table_;
  };

  // Starts with RouteTable::Empty(), which denies every domain.
  RouteSnapshot();
  // REQUIRES: initial != nullptr.
  explicit RouteSnapshot(std::shared_ptr<const RouteTable> initial);

  RouteSnapshot(const RouteSnapshot&) = delete;
  RouteSnapshot& operator=(const RouteSnapshot&) = delete;

  // Makes `table` the table that later loads return. Readers that cached
  // the previous table keep it until their next Load().
  // REQUIRES: table != nullptr.
  void Publish(std::shared_ptr<const RouteTable> table);

  // Returns the table most recently published (never nullptr). Takes the
  // mutex, so workers use a Reader instead.
  std::shared_ptr<const RouteTable> Load() const;

 private:
  // std::mutex rather than absl::Mutex: Debian's Abseil libraries are not
  // built for ThreadSanitizer, which then misses absl::Mutex's ordering and
  // reports false data races.
  mutable std::mutex mutex_;
  std::shared_ptr<const RouteTable> table_;  // guarded by mutex_
  // Incremented by every Publish(), after table_ is set.
  std::atomic<uint64_t> version_{0};
};

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_ROUTE_SNAPSHOT_H_
