// ConnectionLimiter: counts inbound connections in total and per client
// address across all workers, to enforce max_connections and
// max_connections_per_address.
//
// Shared by every worker thread. It takes a mutex, but only when a
// connection opens or closes, never per command or per message.
#ifndef FERRY_ENGINE_SERVER_CONNECTION_LIMITER_H_
#define FERRY_ENGINE_SERVER_CONNECTION_LIMITER_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace ferry::server {

class ConnectionLimiter {
 public:
  enum class Verdict { kAccept, kTooManyTotal, kTooManyFromAddress };

  ConnectionLimiter(uint32_t max_total, uint32_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Counts a new connection from `address` if both limits allow it.
  // Every kAccept must be matched by one Release() of the same address.
  Verdict TryAcquire(const std::string& address);
  void Release(const std::string& address);

  uint32_t total() const;

 private:
  const uint32_t max_total_;
  const uint32_t max_per_address_;
  mutable absl::Mutex mutex_;
  uint32_t total_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::flat_hash_map<std::string, uint32_t> per_address_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_CONNECTION_LIMITER_H_
