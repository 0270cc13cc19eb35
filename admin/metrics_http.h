// MetricsHttpServer: ferryd's Prometheus endpoint, a small HTTP/1.1 server
// for GET /metrics on the metrics_listen address.
//
// It runs on its own threads, never on a worker: one accepts connections
// and a few others serve them, one request per connection, with blocking
// sockets, poll() and a time limit per request. A scrape calls the body
// function, which reads the metrics registry without waiting for workers.
#ifndef FERRY_ADMIN_METRICS_HTTP_H_
#define FERRY_ADMIN_METRICS_HTTP_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/control/control.h"

namespace ferry::admin {

struct MetricsHttpOptions {
  // Threads that serve requests, so that this many scrapes run at once.
  int handler_threads = 4;
  // Accepted connections that may wait for a handler; more get 503.
  size_t max_waiting = 16;
  // Longest request head (request line and header fields) in octets;
  // a longer one gets 431.
  size_t max_request_size = 8192;
  // Time a client has to send its request head, and then to read the
  // response.
  absl::Duration request_timeout = absl::Seconds(10);
};

class MetricsHttpServer {
 public:
  // Returns the body of GET /metrics.
  using RenderFunction = std::function<std::string()>;

  // Listens on `listen` ("IP:PORT" or "[IPV6]:PORT") and starts serving
  // the Prometheus text of `control`'s GetMetrics(). `control` must outlive
  // the server. Errors name the address and the reason, such as an address
  // in use.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, control::Control* control);

  // Same, with the body from `render`, which is called on a handler
  // thread, possibly on several at once.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, RenderFunction render,
      MetricsHttpOptions options = {});

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;
  // Calls Shutdown().
  ~MetricsHttpServer();

  // Stops accepting, ends the requests in progress and joins the threads.
  // Returns within about one poll interval.
  void Shutdown();

  // The address listened on, "127.0.0.1:9925" or "[::1]:9925".
  const std::string& address() const { return address_; }

 private:
  MetricsHttpServer(int listen_fd, int wake_fd, std::string address,
                    RenderFunction render, MetricsHttpOptions options);

  void AcceptLoop();
  void HandlerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return stopping_.load() || !waiting_.empty();
  }
  // Serves one connection and closes it.
  void Serve(int fd);
  // Waits until `fd` is ready for `events` or `deadline` passes; returns
  // false on timeout, error or Shutdown().
  bool WaitFor(int fd, short events, absl::Time deadline);
  bool SendAll(int fd, const std::string& bytes, absl::Time deadline);

  const int listen_fd_;
  // An eventfd that Shutdown() makes readable; every poll() includes it.
  const int wake_fd_;
  const std::string address_;
  const RenderFunction render_;
  const MetricsHttpOptions options_;

  std::atomic<bool> stopping_{false};
  bool shut_down_ = false;  // only Shutdown() and the destructor use it
  std::thread acceptor_;
  std::vector<std::thread> handlers_;
  absl::Mutex mutex_;
  std::deque<int> waiting_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_METRICS_HTTP_H_
