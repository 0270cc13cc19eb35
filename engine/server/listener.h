// Listening sockets for inbound SMTP. Each worker opens its own socket on
// every listen address with SO_REUSEPORT, so the kernel spreads new
// connections over the workers and no accept queue is shared.
#ifndef FERRY_ENGINE_SERVER_LISTENER_H_
#define FERRY_ENGINE_SERVER_LISTENER_H_

#include "absl/status/statusor.h"
#include "engine/config/listen_address.h"

namespace ferry::server {

// Checks that no other socket is bound to `address`. SO_REUSEPORT lets any
// process of the same user bind the same port, and the kernel would then
// split connections between the two, so a second ferryd on the same
// address must fail at start instead. Call it before OpenListener().
absl::Status CheckListenAddressFree(const config::ListenAddress& address);

// Returns a non-blocking listening socket bound to `address` with
// SO_REUSEADDR and SO_REUSEPORT, or an error naming the address and the
// system call that failed (for example "address already in use").
absl::StatusOr<int> OpenListener(const config::ListenAddress& address);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_LISTENER_H_
