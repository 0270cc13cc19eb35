// MetricsHttpServer: the listening socket, the accept thread, the handler
// threads and the per-connection request loop.
#include "admin/metrics_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "admin/http_request.h"
#include "admin/prometheus_text.h"
#include "engine/base/log.h"
#include "engine/config/listen_address.h"

namespace ferry::admin {
namespace {

constexpr int kListenBacklog = 64;
// After the response, the rest of the request (such as a POST body) is
// read and dropped for at most this long. Closing a socket with unread
// data resets the connection, and the client might lose the response.
constexpr absl::Duration kLingerTime = absl::Seconds(1);
constexpr size_t kMaxLingerBytes = 64 * 1024;
// Pause after an accept() error such as EMFILE, so the loop does not spin.
constexpr int kAcceptErrorPauseMs = 1000;

// Returns the bound address of `fd` as "IP:PORT" or "[IPV6]:PORT".
std::string BoundAddress(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  char ip[INET6_ADDRSTRLEN] = "?";
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return "?";
  }
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
    return absl::StrCat("[", ip, "]:", ntohs(in6->sin6_port));
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
  inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
  return absl::StrCat(ip, ":", ntohs(in->sin_port));
}

absl::StatusOr<int> OpenListeningSocket(const std::string& text) {
  absl::StatusOr<config::ListenAddress> address =
      config::ParseListenAddress(text);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen: invalid address \"", text,
                     "\": ", address.status().message()));
  }
  const int fd =
      socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("metrics_listen: socket failed: ", strerror(errno)));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address->family() == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address->sockaddr),
           address->sockaddr_length) != 0 ||
      listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat(
        "metrics_listen: cannot listen on ", address->ToString(), ": ",
        strerror(error),
        error == EADDRINUSE ? ". Another program uses the port; choose "
                              "another metrics_listen port."
                            : "."));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, control::Control* control) {
  return Start(listen, [control] {
    return RenderPrometheusText(control->GetMetrics().metric());
  });
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, RenderFunction render,
    MetricsHttpOptions options) {
  absl::StatusOr<int> listen_fd = OpenListeningSocket(listen);
  if (!listen_fd.ok()) return listen_fd.status();
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    close(*listen_fd);
    return absl::InternalError(
        absl::StrCat("metrics_listen: eventfd failed: ", strerror(errno)));
  }
  std::unique_ptr<MetricsHttpServer> server(
      new MetricsHttpServer(*listen_fd, wake_fd, BoundAddress(*listen_fd),
                            std::move(render), options));
  LogInfo("", "metrics event=listening address=", server->address(),
          " path=/metrics");
  return server;
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int wake_fd,
                                     std::string address, RenderFunction render,
                                     MetricsHttpOptions options)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      address_(std::move(address)),
      render_(std::move(render)),
      options_(options) {
  for (int i = 0; i < options_.handler_threads; ++i) {
    handlers_.emplace_back([this] { HandlerLoop(); });
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

MetricsHttpServer::~MetricsHttpServer() { Shutdown(); }

void MetricsHttpServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  stopping_.store(true);
  const uint64_t one = 1;
  // The eventfd stays readable from now on, which ends every poll().
  if (write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    LogWarning("",
               "metrics event=wake_failed error=", LogQuote(strerror(errno)));
  }
  {
    // Handlers wait on the mutex for a condition that reads stopping_;
    // releasing the mutex makes them evaluate it again.
    absl::MutexLock lock(&mutex_);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& handler : handlers_) handler.join();
  handlers_.clear();
  absl::MutexLock lock(&mutex_);
  for (int fd : waiting_) close(fd);
  waiting_.clear();
  close(listen_fd_);
  close(wake_fd_);
  LogInfo("", "metrics event=stopped address=", address_);
}

void MetricsHttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      LogError("",
               "metrics event=poll_failed error=", LogQuote(strerror(errno)),
               " effect=endpoint stopped");
      return;
    }
    if (stopping_.load()) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      LogWarning(
          "", "metrics event=accept_failed error=", LogQuote(strerror(errno)));
      pollfd wake = {wake_fd_, POLLIN, 0};
      poll(&wake, 1, kAcceptErrorPauseMs);
      continue;
    }
    {
      absl::MutexLock lock(&mutex_);
      if (waiting_.size() < options_.max_waiting) {
        waiting_.push_back(fd);
        continue;
      }
    }
    // Every handler is busy and the line is full, so reply at once without
    // waiting for the client to read (the reply fits a socket buffer).
    const std::string busy = ErrorResponse(503);
    send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
  }
}

void MetricsHttpServer::HandlerLoop() {
  while (true) {
    int fd = -1;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(
          absl::Condition(this, &MetricsHttpServer::HasWorkOrStopping));
      if (stopping_.load()) return;
      fd = waiting_.front();
      waiting_.pop_front();
    }
    Serve(fd);
  }
}

bool MetricsHttpServer::WaitFor(int fd, short events, absl::Time deadline) {
  while (!stopping_.load()) {
    const int64_t timeout_ms = absl::ToInt64Milliseconds(
        absl::Ceil(deadline - absl::Now(), absl::Milliseconds(1)));
    if (timeout_ms <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd_, POLLIN, 0}};
    const int rc = poll(fds, 2, static_cast<int>(timeout_ms));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[1].revents != 0) return false;
    // POLLERR or POLLHUP count as ready: the next recv() or send() fails.
    if (fds[0].revents != 0) return true;
  }
  return false;
}

bool MetricsHttpServer::SendAll(int fd, const std::string& bytes,
                                absl::Time deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    if (!WaitFor(fd, POLLOUT, deadline)) return false;
  }
  return true;
}

void MetricsHttpServer::Serve(int fd) {
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  std::string received;
  char buffer[4096];
  HeadStatus head = HeadStatus::kIncomplete;
  while (head == HeadStatus::kIncomplete) {
    if (!WaitFor(fd, POLLIN, deadline)) {
      // A client that sent part of a request learns why it is closed.
      if (!received.empty() && !stopping_.load()) {
        SendAll(fd, ErrorResponse(408), absl::Now() + absl::Seconds(1));
      }
      close(fd);
      return;
    }
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      close(fd);
      return;
    }
    received.append(buffer, static_cast<size_t>(n));
    head = CheckRequestHead(received, options_.max_request_size);
  }
  const std::string response =
      head == HeadStatus::kTooLarge
          ? ErrorResponse(431)
          : RespondToRequest(received, render_, kPrometheusContentType);
  if (SendAll(fd, response, deadline)) {
    shutdown(fd, SHUT_WR);
    const absl::Time linger_end = absl::Now() + kLingerTime;
    size_t dropped = 0;
    while (dropped < kMaxLingerBytes && WaitFor(fd, POLLIN, linger_end)) {
      const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;
      dropped += static_cast<size_t>(n);
    }
  }
  close(fd);
}

}  // namespace ferry::admin
