// Resolver: looks up the addresses of next-hop host names with c-ares,
// driving c-ares' sockets and timers through one worker's io_uring, so no
// lookup blocks the worker thread on the network.
//
// Threading: a Resolver belongs to the worker thread that owns its Ring.
// Init(), Resolve() and the destructor run on that thread only. Separate
// workers each have their own Resolver and c-ares channel.
//
// Nothing is cached: every Resolve() looks the host up in /etc/hosts and
// DNS again, so a changed address applies to the next delivery attempt.
#ifndef FERRY_ENGINE_DNS_RESOLVER_H_
#define FERRY_ENGINE_DNS_RESOLVER_H_

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"

namespace ferry::dns {

namespace internal {
class Channel;
}  // namespace internal

struct ResolverOptions {
  // DNS servers in the format of ares_set_servers_ports_csv(), such as
  // "127.0.0.1:5353,[::1]:53". Empty keeps the servers of /etc/resolv.conf.
  std::string servers_csv;
  // Time to wait for the answer to a query's first try, in milliseconds.
  // c-ares 1.18 doubles it after each round of tries over all servers. 0
  // keeps the c-ares default or the "timeout:" option of /etc/resolv.conf.
  int timeout_ms = 0;
  // Number of times each query is sent to each server. 0 keeps the c-ares
  // default or the "attempts:" option of /etc/resolv.conf.
  int tries = 0;
};

class Resolver {
 public:
  // REQUIRES: `ring` outlives the Resolver and every Resolve() call made on
  // it, because completions of pending lookups resume through the ring.
  explicit Resolver(io::Ring* ring, ResolverOptions options = {});
  // Completes pending Resolve() calls with Unavailable. They resume later
  // from the ring's loop, not from inside the destructor.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Initializes c-ares for the process (once, thread-safe) and creates this
  // Resolver's channel. Reads /etc/resolv.conf, so call it at worker start.
  // Returns InvalidArgument when options.servers_csv is malformed,
  // FailedPrecondition when called twice, Internal when c-ares fails.
  absl::Status Init();

  // Returns the IPv4 addresses of `host` and then its IPv6 addresses, each
  // with `port` set. An IP address literal ("192.0.2.1", "::1", "[::1]")
  // returns itself without a lookup. Host names are looked up in
  // /etc/hosts first, then in DNS (A and AAAA records).
  // Errors name the host: NotFound when the name does not exist or has no
  // address, Unavailable on timeouts and other temporary DNS failures,
  // InvalidArgument for an empty or malformed host, FailedPrecondition
  // before a successful Init().
  // Several calls may be in flight at once.
  io::Task<absl::StatusOr<std::vector<sockaddr_storage>>> Resolve(
      std::string host, uint16_t port);

 private:
  io::Ring* ring_;
  ResolverOptions options_;
  // Shared with the coroutines that poll c-ares' sockets, so that one
  // resumed after the Resolver is gone finds the channel marked destroyed.
  std::shared_ptr<internal::Channel> channel_;
};

}  // namespace ferry::dns

#endif  // FERRY_ENGINE_DNS_RESOLVER_H_
