#include "engine/dns/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <cerrno>
#include <coroutine>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/base/log.h"

namespace ferry::dns {
namespace internal {

// The two directions c-ares may wait on for one socket.
enum class Direction { kRead = 0, kWrite = 1 };

// One socket that c-ares asked to have watched. A closed watch stays alive
// while its polling coroutines still refer to it, so that a socket number
// reused by c-ares gets a new watch instead of an old coroutine.
struct SocketWatch {
  explicit SocketWatch(int socket_fd) : fd(socket_fd) {}

  bool Wants(Direction d) const {
    return !closed && wanted[static_cast<int>(d)];
  }

  const int fd;
  bool closed = false;
  bool wanted[2] = {false, false};
  // True while a WatchSocket coroutine runs for that direction.
  bool running[2] = {false, false};
  // The poll that coroutine awaits, or nullptr while it runs.
  io::Operation* pending[2] = {nullptr, nullptr};
};

// One ares_getaddrinfo() call, living in the frame of the Resolve()
// coroutine that awaits it. The c-ares callback fills in `result`.
struct Lookup {
  bool await_ready() const noexcept { return done; }
  void await_suspend(std::coroutine_handle<> handle) noexcept {
    waiter = handle;
  }
  void await_resume() const noexcept {}

  io::Ring* ring = nullptr;
  std::string host;
  uint16_t port = 0;
  bool done = false;
  std::coroutine_handle<> waiter;
  absl::StatusOr<std::vector<sockaddr_storage>> result;
};

// A c-ares channel with the coroutines that poll its sockets and run its
// timeouts. The Resolver and those coroutines share ownership of it, and
// all of them run on the thread that owns the ring (see resolver.h).
class Channel : public std::enable_shared_from_this<Channel> {
 public:
  explicit Channel(io::Ring* ring) : ring_(ring) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Creates the ares channel with `options`.
  absl::Status Init(const ResolverOptions& options);

  // Starts looking up `lookup->host`. The callback may run before Start()
  // returns (/etc/hosts hits, immediate failures).
  void Start(Lookup* lookup);

  // Destroys the ares channel, which completes pending lookups with
  // ARES_EDESTRUCTION, and cancels every pending poll and the timer.
  void Shutdown();

 private:
  static void OnSocketState(void* data, ares_socket_t fd, int readable,
                            int writable);
  static void OnAddrInfo(void* arg, int status, int timeouts,
                         ares_addrinfo* info);
  static io::Task<void> WatchSocket(std::shared_ptr<Channel> self,
                                    std::shared_ptr<SocketWatch> watch,
                                    Direction direction);
  static io::Task<void> RunTimer(std::shared_ptr<Channel> self);

  void UpdateWatch(int fd, bool readable, bool writable);
  void CloseWatch(SocketWatch& watch);
  void ProcessSocket(int fd, Direction direction);
  void RearmTimer();
  // Cancels the timer's sleep, at most once per sleep.
  void WakeTimer();

  io::Ring* const ring_;
  ares_channel channel_ = nullptr;
  bool destroyed_ = false;
  absl::flat_hash_map<int, std::shared_ptr<SocketWatch>> sockets_;
  bool timer_running_ = false;
  // The sleep RunTimer awaits, or nullptr while it runs.
  io::Operation* timer_sleep_ = nullptr;
  bool timer_waking_ = false;
  absl::Time timer_deadline_ = absl::InfiniteFuture();
};

}  // namespace internal

namespace {

using internal::Direction;
using internal::Lookup;
using internal::SocketWatch;

absl::Duration ToDuration(const timeval& tv) {
  return absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
}

absl::Status InitLibraryOnce() {
  // A function-local static is initialized once even when several workers
  // start at the same time. ares_library_cleanup() is never called, so
  // c-ares stays initialized for the life of the process.
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  if (status != ARES_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("ares_library_init failed: ", ares_strerror(status)));
  }
  return absl::OkStatus();
}

absl::Status LookupError(int status, const std::string& host) {
  const std::string prefix = absl::StrCat("DNS lookup of ", host, " failed: ");
  switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
      return absl::NotFoundError(absl::StrCat(prefix, "host not found"));
    case ARES_ETIMEOUT:
      return absl::UnavailableError(
          absl::StrCat(prefix, "timed out waiting for the DNS server"));
    case ARES_EBADNAME:
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "invalid host name"));
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return absl::UnavailableError(absl::StrCat(prefix, "resolver shut down"));
    default:
      // Server failures, refused or malformed answers and unreachable
      // servers may all clear up, so the caller defers and retries.
      return absl::UnavailableError(
          absl::StrCat(prefix, ares_strerror(status)));
  }
}

void SetPort(sockaddr_storage& address, uint16_t port) {
  if (address.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(port);
  }
}

// Returns the IPv4 addresses of `info` followed by its IPv6 addresses.
absl::StatusOr<std::vector<sockaddr_storage>> ToAddresses(
    const ares_addrinfo* info, const std::string& host, uint16_t port) {
  std::vector<sockaddr_storage> v4;
  std::vector<sockaddr_storage> v6;
  for (const ares_addrinfo_node* node = info->nodes; node != nullptr;
       node = node->ai_next) {
    const bool is_v4 =
        node->ai_family == AF_INET && node->ai_addrlen >= sizeof(sockaddr_in);
    const bool is_v6 =
        node->ai_family == AF_INET6 && node->ai_addrlen >= sizeof(sockaddr_in6);
    if (!is_v4 && !is_v6) continue;
    sockaddr_storage address{};
    memcpy(&address, node->ai_addr,
           is_v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    SetPort(address, port);
    (is_v4 ? v4 : v6).push_back(address);
  }
  if (v4.empty() && v6.empty()) return LookupError(ARES_ENODATA, host);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

// Returns the address when `host` is an IPv4 or IPv6 literal, optionally
// in brackets, and nullopt when it is a host name.
absl::StatusOr<std::optional<sockaddr_storage>> ParseAddressLiteral(
    const std::string& host, uint16_t port) {
  if (host.empty()) {
    return absl::InvalidArgumentError("DNS lookup failed: empty host name");
  }
  const bool bracketed =
      host.size() >= 2 && host.front() == '[' && host.back() == ']';
  const std::string text = bracketed ? host.substr(1, host.size() - 2) : host;
  sockaddr_storage address{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    address.ss_family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    address.ss_family = AF_INET6;
  } else if (bracketed) {
    return absl::InvalidArgumentError(
        absl::StrCat("DNS lookup of ", host,
                     " failed: brackets must enclose an IP address"));
  } else {
    return std::nullopt;
  }
  SetPort(address, port);
  return address;
}

// Resumes `waiter` from the ring's loop. c-ares callbacks use it so that
// the waiter never runs inside a c-ares call, where starting a lookup or
// destroying the Resolver would reenter or free the channel.
io::Task<void> ResumeFromRing(io::Ring* ring, std::coroutine_handle<> waiter) {
  co_await ring->Sleep(absl::ZeroDuration());
  waiter.resume();
}

}  // namespace

namespace internal {

absl::Status Channel::Init(const ResolverOptions& options) {
  ares_options ares{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
  ares.sock_state_cb = &Channel::OnSocketState;
  ares.sock_state_cb_data = this;
  // "f" then "b": /etc/hosts first, then DNS.
  ares.lookups = const_cast<char*>("fb");

  if (options.timeout_ms > 0) {
    mask |= ARES_OPT_TIMEOUTMS;
    ares.timeout = options.timeout_ms;
  }
  if (options.tries > 0) {
    mask |= ARES_OPT_TRIES;
    ares.tries = options.tries;
  }

  int status = ares_init_options(&channel_, &ares, mask);
  if (status != ARES_SUCCESS) {
    channel_ = nullptr;
    return absl::InternalError(
        absl::StrCat("ares_init_options failed: ", ares_strerror(status)));
  }

  if (options.servers_csv.empty()) return absl::OkStatus();
  status = ares_set_servers_ports_csv(channel_, options.servers_csv.c_str());
  if (status != ARES_SUCCESS) {
    ares_destroy(channel_);
    channel_ = nullptr;
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid DNS server list \"", options.servers_csv,
        "\": ", ares_strerror(status),
        ". Expected IP addresses with optional ports, separated by commas"));
  }
  return absl::OkStatus();
}

void Channel::Start(Lookup* lookup) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Sorting by RFC 6724 would connect() a probe socket per address. The
  // Resolver orders IPv4 before IPv6 instead.
  hints.ai_flags = ARES_AI_NOSORT;
  // NOTE: c-ares reads /etc/hosts with blocking stdio calls inside
  // ares_getaddrinfo(), on the worker thread. The file is small and
  // normally in the page cache.
  ares_getaddrinfo(channel_, lookup->host.c_str(), nullptr, &hints,
                   &Channel::OnAddrInfo, lookup);
  RearmTimer();
}

void Channel::Shutdown() {
  if (channel_ == nullptr) return;
  destroyed_ = true;
  WakeTimer();
  // Closes every socket (OnSocketState with neither direction) and calls
  // each pending lookup's callback with ARES_EDESTRUCTION.
  ares_destroy(channel_);
  channel_ = nullptr;
  for (auto& [fd, watch] : sockets_) CloseWatch(*watch);
  sockets_.clear();
}

void Channel::OnSocketState(void* data, ares_socket_t fd, int readable,
                            int writable) {
  static_cast<Channel*>(data)->UpdateWatch(fd, readable != 0, writable != 0);
}

void Channel::OnAddrInfo(void* arg, int status, int /*timeouts*/,
                         ares_addrinfo* info) {
  auto* lookup = static_cast<Lookup*>(arg);
  if (status == ARES_SUCCESS && info != nullptr) {
    lookup->result = ToAddresses(info, lookup->host, lookup->port);
  } else {
    lookup->result = LookupError(status == ARES_SUCCESS ? ARES_ENODATA : status,
                                 lookup->host);
  }
  if (info != nullptr) ares_freeaddrinfo(info);
  lookup->done = true;
  if (lookup->waiter) io::Spawn(ResumeFromRing(lookup->ring, lookup->waiter));
}

void Channel::UpdateWatch(int fd, bool readable, bool writable) {
  auto it = sockets_.find(fd);
  if (!readable && !writable) {
    // c-ares closes the socket right after this callback.
    if (it == sockets_.end()) return;
    CloseWatch(*it->second);
    sockets_.erase(it);
    return;
  }
  if (it == sockets_.end()) {
    it = sockets_.emplace(fd, std::make_shared<SocketWatch>(fd)).first;
  }
  std::shared_ptr<SocketWatch> watch = it->second;
  watch->wanted[0] = readable;
  watch->wanted[1] = writable;
  for (Direction d : {Direction::kRead, Direction::kWrite}) {
    const int i = static_cast<int>(d);
    if (watch->wanted[i] && !watch->running[i]) {
      watch->running[i] = true;
      io::Spawn(WatchSocket(shared_from_this(), watch, d));
    } else if (!watch->wanted[i] && watch->pending[i] != nullptr) {
      ring_->Cancel(watch->pending[i]);
    }
  }
}

void Channel::CloseWatch(SocketWatch& watch) {
  watch.closed = true;
  for (io::Operation* poll : watch.pending) {
    if (poll != nullptr) ring_->Cancel(poll);
  }
}

io::Task<void> Channel::WatchSocket(std::shared_ptr<Channel> self,
                                    std::shared_ptr<SocketWatch> watch,
                                    Direction direction) {
  const int i = static_cast<int>(direction);
  while (watch->Wants(direction)) {
    io::Operation poll =
        direction == Direction::kRead
            ? self->ring_->PollIn(watch->fd, absl::InfiniteDuration())
            : self->ring_->PollOut(watch->fd, absl::InfiniteDuration());
    watch->pending[i] = &poll;
    const int result = co_await poll;
    watch->pending[i] = nullptr;
    // After a cancellation the loop condition checks whether c-ares still
    // waits on this direction.
    if (result == -ECANCELED || !watch->Wants(direction)) continue;
    if (result < 0) {
      // The lookups on this socket then end by timeout, through RunTimer.
      LogWarning("", "dns_poll_failed fd=", watch->fd,
                 " error=", strerror(-result));
      break;
    }
    self->ProcessSocket(watch->fd, direction);
  }
  watch->running[i] = false;
}

void Channel::ProcessSocket(int fd, Direction direction) {
  const bool read = direction == Direction::kRead;
  ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD,
                  read ? ARES_SOCKET_BAD : fd);
  // An answer may have started a retry (another server, or TCP after a
  // truncated answer) with its own deadline.
  RearmTimer();
}

void Channel::RearmTimer() {
  if (destroyed_) return;
  timeval tv;
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    // No lookup is left, so the timer ends now instead of at its deadline.
    WakeTimer();
    return;
  }
  if (!timer_running_) {
    timer_running_ = true;
    io::Spawn(RunTimer(shared_from_this()));
    return;
  }
  // A new lookup or a retry may be due before the deadline the timer
  // sleeps to, so RunTimer wakes and recomputes it.
  if (absl::Now() + ToDuration(tv) < timer_deadline_) WakeTimer();
}

void Channel::WakeTimer() {
  if (timer_sleep_ == nullptr || timer_waking_) return;
  timer_waking_ = true;
  ring_->Cancel(timer_sleep_);
}

io::Task<void> Channel::RunTimer(std::shared_ptr<Channel> self) {
  timeval tv;
  while (!self->destroyed_ &&
         ares_timeout(self->channel_, nullptr, &tv) != nullptr) {
    const absl::Duration delay = ToDuration(tv);
    self->timer_deadline_ = absl::Now() + delay;
    io::Operation sleep = self->ring_->Sleep(delay);
    self->timer_sleep_ = &sleep;
    const int result = co_await sleep;
    self->timer_sleep_ = nullptr;
    self->timer_waking_ = false;
    if (self->destroyed_) break;
    // -ECANCELED comes from WakeTimer, and the loop recomputes the deadline.
    if (result == -ETIME) {
      ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
  }
  self->timer_running_ = false;
  self->timer_deadline_ = absl::InfiniteFuture();
}

}  // namespace internal

Resolver::Resolver(io::Ring* ring, ResolverOptions options)
    : ring_(ring), options_(std::move(options)) {}

Resolver::~Resolver() {
  if (channel_ != nullptr) channel_->Shutdown();
}

absl::Status Resolver::Init() {
  if (channel_ != nullptr) {
    return absl::FailedPreconditionError("Resolver::Init called twice");
  }
  absl::Status status = InitLibraryOnce();
  if (!status.ok()) return status;
  auto channel = std::make_shared<internal::Channel>(ring_);
  status = channel->Init(options_);
  if (!status.ok()) return status;
  channel_ = std::move(channel);
  return absl::OkStatus();
}

io::Task<absl::StatusOr<std::vector<sockaddr_storage>>> Resolver::Resolve(
    std::string host, uint16_t port) {
  absl::StatusOr<std::optional<sockaddr_storage>> literal =
      ParseAddressLiteral(host, port);
  if (!literal.ok()) co_return literal.status();
  if (literal->has_value()) {
    co_return std::vector<sockaddr_storage>{**literal};
  }
  if (channel_ == nullptr) {
    co_return absl::FailedPreconditionError(absl::StrCat(
        "DNS lookup of ", host, " failed: Resolver::Init has not succeeded"));
  }
  Lookup lookup;
  lookup.ring = ring_;
  lookup.host = std::move(host);
  lookup.port = port;
  channel_->Start(&lookup);
  co_await lookup;
  co_return std::move(lookup.result);
}

}  // namespace ferry::dns
