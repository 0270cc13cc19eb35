#include "engine/route/route_snapshot.h"

#include <utility>

namespace ferry::route {

RouteSnapshot::RouteSnapshot() : RouteSnapshot(RouteTable::Empty()) {}

RouteSnapshot::RouteSnapshot(std::shared_ptr<const RouteTable> initial)
    : table_(std::move(initial)) {}

void RouteSnapshot::Publish(std::shared_ptr<const RouteTable> table) {
  std::lock_guard<std::mutex> lock(mutex_);
  // After the swap, `table` holds the old table and releases it once the
  // mutex is released, so that no reader waits for its destructor.
  table_.swap(table);
  version_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const RouteTable> RouteSnapshot::Load() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return table_;
}

RouteSnapshot::Reader::Reader(const RouteSnapshot* snapshot)
    : snapshot_(snapshot) {
  std::lock_guard<std::mutex> lock(snapshot_->mutex_);
  version_ = snapshot_->version_.load(std::memory_order_relaxed);
  table_ = snapshot_->table_;
}

const std::shared_ptr<const RouteTable>& RouteSnapshot::Reader::Load() {
  if (snapshot_->version_.load(std::memory_order_acquire) != version_) {
    // Destroyed after the mutex is released, so that freeing an old table
    // never delays Publish() or another reader.
    std::shared_ptr<const RouteTable> previous = std::move(table_);
    std::lock_guard<std::mutex> lock(snapshot_->mutex_);
    // Both fields were written under the mutex, so they match each other.
    version_ = snapshot_->version_.load(std::memory_order_relaxed);
    table_ = snapshot_->table_;
  }
  return table_;
}

}  // namespace ferry::route
