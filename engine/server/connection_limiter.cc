#include "engine/server/connection_limiter.h"

namespace ferry::server {

ConnectionLimiter::Verdict ConnectionLimiter::TryAcquire(
    const std::string& address) {
  absl::MutexLock lock(&mutex_);
  if (total_ >= max_total_) return Verdict::kTooManyTotal;
  uint32_t& count = per_address_[address];
  if (count >= max_per_address_) {
    if (count == 0) per_address_.erase(address);
    return Verdict::kTooManyFromAddress;
  }
  ++count;
  ++total_;
  return Verdict::kAccept;
}

void ConnectionLimiter::Release(const std::string& address) {
  absl::MutexLock lock(&mutex_);
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  --total_;
  if (--it->second == 0) per_address_.erase(it);
}

uint32_t ConnectionLimiter::total() const {
  absl::MutexLock lock(&mutex_);
  return total_;
}

}  // namespace ferry::server
