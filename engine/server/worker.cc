#include "engine/server/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/base/log.h"
#include "engine/server/listener.h"

namespace ferry::server {
namespace {

constexpr unsigned kRingEntries = 4096;
constexpr absl::Duration kStopPollInterval = absl::Milliseconds(50);

// Returns the peer's IP address as text, or "unknown".
std::string PeerAddress(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return "unknown";
  }
  char text[INET6_ADDRSTRLEN] = "unknown";
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address)->sin_addr,
              text, sizeof(text));
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr,
              text, sizeof(text));
  }
  return text;
}

}  // namespace

Worker::Worker(int index, const Settings* settings,
               const route::RouteSnapshot* routes, ConnectionLimiter* limiter,
               WorkerSpoolState spool, metrics::WorkerMetrics* metrics)
    : index_(index),
      settings_(settings),
      limiter_(limiter),
      route_reader_(routes),
      policy_(&route_reader_, metrics),
      spool_state_(std::move(spool)) {
  context_.index = index;
  context_.metrics = metrics;
  context_.tag = absl::StrCat("w", index);
  context_.settings = settings;
  context_.routes = &route_reader_;
}

Worker::~Worker() {
  Join();
  for (int fd : listen_fds_) close(fd);
}

absl::Status Worker::Start() {
  thread_ = std::thread([this] { ThreadMain(); });
  started_.WaitForNotification();
  return start_status_;
}

void Worker::Stop() {
  stop_requested_.store(true, std::memory_order_release);
  ring_.Wake();
}

void Worker::Drain() {
  drain_requested_.store(true, std::memory_order_release);
  ring_.Wake();
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::ThreadMain() {
  SetLogThreadTag(context_.tag);
  start_status_ = InitOnThread();
  if (start_status_.ok()) {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    mailbox_open_ = true;
  }
  started_.Notify();
  if (!start_status_.ok()) {
    SetThreadLogSink(nullptr);
    if (log_writer_ != nullptr) log_writer_->FlushBlocking();
    return;
  }
  ring_.Run();
  CloseMailbox();
  // The spool counters let a benchmark compute fdatasync calls per record
  // without tracing the process.
  uint64_t records = 0, fdatasyncs = 0;
  for (size_t i = 0; i < queue_->spool_directory_count(); ++i) {
    const spool::SpoolWriter* writer = queue_->spool_directory(i)->writer.get();
    if (writer == nullptr) continue;
    records += writer->records_written();
    fdatasyncs += writer->fdatasync_count();
  }
  LogInfo("", "event=worker_stopped queued=", queue_->message_count(),
          " records=", records, " fdatasyncs=", fdatasyncs);
  SetThreadLogSink(nullptr);
  log_writer_->FlushBlocking();
}

absl::Status Worker::InitOnThread() {
  // The ring is created here because SINGLE_ISSUER ties it to the thread
  // that creates it.
  absl::Status status = ring_.Init(kRingEntries);
  if (!status.ok()) return status;
  ring_.SetWakeHandler([this] { OnWake(); });
  context_.ring = &ring_;
  log_writer_ = std::make_unique<io::RingLogWriter>(&ring_, STDERR_FILENO);
  SetThreadLogSink(log_writer_.get());

  queue_ = std::make_unique<DeliveryQueue>(&context_);
  context_.queue = queue_.get();
  const std::string own_dir = spool_state_.dirs[0]->path;
  queue_->SetSpoolDirectories(std::move(spool_state_.dirs));
  for (size_t i = 0; i < queue_->spool_directory_count(); ++i) {
    OpenSpoolWriter(i);
  }
  context_.spool = queue_->spool_directory(0)->writer.get();

  resolver_ = std::make_unique<dns::Resolver>(&ring_);
  status = resolver_->Init();
  if (!status.ok()) return status;
  context_.resolver = resolver_.get();

  for (const config::ListenAddress& address : settings_->listen) {
    absl::StatusOr<int> fd = OpenListener(address);
    if (!fd.ok()) return fd.status();
    listen_fds_.push_back(*fd);
  }
  for (int fd : listen_fds_) io::Spawn(AcceptLoop(fd));
  for (std::shared_ptr<QueuedMessage>& message : spool_state_.messages) {
    queue_->Add(std::move(message));
  }
  spool_state_.messages.clear();
  io::Spawn(queue_->RunTimer());
  LogInfo("", "event=worker_started spool=", own_dir,
          " queued=", queue_->message_count());
  return absl::OkStatus();
}

void Worker::OpenSpoolWriter(size_t index) {
  SpoolDirectory* dir = queue_->spool_directory(index);
  dir->writer = std::make_unique<spool::SpoolWriter>(
      &ring_, dir->path, settings_->segment_size, settings_->spare_segments);
  dir->writer->set_metrics(context_.metrics);
  dir->writer->SetOnSegmentOpened(
      [this, index](uint64_t s) { OnSegmentOpened(index, s); });
  absl::Status status = dir->writer->Open(dir->next_sequence);
  if (!status.ok()) {
    // Queued mail can still be delivered; new mail gets 451 4.3.0 until
    // the spool is writable again.
    LogError("", "spool event=not_writable dir=", dir->path,
             " error=", LogQuote(status.message()),
             " effect=new mail is deferred with 451 4.3.0");
  }
}

void Worker::OnSegmentOpened(size_t index, uint64_t sequence) {
  SpoolDirectory* dir = queue_->spool_directory(index);
  spool::SegmentTracker& tracker = dir->tracker;
  absl::Status status = tracker.AddSegment(sequence);
  if (!status.ok()) {
    LogError("", "spool event=segment_track_failed error=",
             LogQuote(status.message()));
    return;
  }
  absl::StatusOr<std::vector<uint64_t>> removable =
      tracker.SetCurrentSegment(sequence);
  if (!removable.ok()) return;
  for (uint64_t old : *removable) io::Spawn(dir->writer->Retire(old));
}

bool Worker::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    if (!mailbox_open_) return false;
    mailbox_.push_back(std::move(task));
  }
  ring_.Wake();
  return true;
}

void Worker::OnWake() {
  RunPostedTasks();
  if (stop_requested_.load(std::memory_order_acquire) && !stopping_) {
    BeginStop();
  }
  if (drain_requested_.load(std::memory_order_acquire) && !draining_) {
    BeginDrain();
  }
}

void Worker::BeginDrain() {
  draining_ = true;
  LogInfo("", "event=draining inbound=", inbound_.size(),
          " queued=", queue_->message_count());
  for (io::Operation* accept : pending_accepts_) ring_.Cancel(accept);
}

void Worker::RunPostedTasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    tasks.swap(mailbox_);
  }
  for (std::function<void()>& task : tasks) task();
}

void Worker::CloseMailbox() {
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    mailbox_open_ = false;
    dropped.swap(mailbox_);
  }
  if (!dropped.empty()) {
    LogInfo("", "event=posted_tasks_dropped count=", dropped.size());
  }
  // Destroyed here, outside the lock: their owners may report the drop.
  dropped.clear();
}

void Worker::BeginStop() {
  stopping_ = true;
  context_.stopping = true;
  LogInfo("", "event=stopping inbound=", inbound_.size(),
          " outbound=", queue_->active_connections());
  for (io::Operation* accept : pending_accepts_) ring_.Cancel(accept);
  queue_->WakeIdleConnections();
  for (InboundConnection& connection : inbound_) {
    connection.stop_requested = true;
    if (connection.pending_read != nullptr) {
      ring_.Cancel(connection.pending_read);
    }
  }
  io::Spawn(WaitForIdleThenExit());
}

bool Worker::Idle() const {
  if (!inbound_.empty() || queue_->active_connections() > 0) return false;
  for (size_t i = 0; i < queue_->spool_directory_count(); ++i) {
    const spool::SpoolWriter* writer = queue_->spool_directory(i)->writer.get();
    if (writer != nullptr && !writer->idle()) return false;
  }
  return true;
}

io::Task<void> Worker::WaitForIdleThenExit() {
  // Outcome records may still be on their way to disk after the last
  // connection closed; they are waited for too.
  const absl::Time deadline = absl::Now() + settings_->shutdown_grace;
  while (absl::Now() < deadline && !Idle()) {
    co_await ring_.Sleep(kStopPollInterval);
  }
  if (!Idle()) {
    LogWarning("", "event=stop_deadline inbound=", inbound_.size(),
               " outbound=", queue_->active_connections());
  }
  ring_.Stop();
}

io::Task<void> Worker::AcceptLoop(int listen_fd) {
  while (!stopping_ && !draining_) {
    io::Operation accept = ring_.Accept(listen_fd);
    pending_accepts_.push_back(&accept);
    const int fd = co_await accept;
    pending_accepts_.erase(
        std::find(pending_accepts_.begin(), pending_accepts_.end(), &accept));
    if (fd >= 0) {
      if (stopping_ || draining_) {
        close(fd);
        break;
      }
      io::Spawn(Serve(fd));
      continue;
    }
    if (stopping_ || draining_) break;
    LogWarning("", "event=accept_failed error=", LogQuote(strerror(-fd)));
    // Out of descriptors: wait instead of spinning on the same error.
    co_await ring_.Sleep(absl::Milliseconds(100));
  }
  if (draining_ && !stopping_) {
    // Closing the socket makes the kernel refuse new connections to this
    // worker instead of queueing them in a backlog that is never accepted from.
    auto it = std::find(listen_fds_.begin(), listen_fds_.end(), listen_fd);
    if (it != listen_fds_.end()) {
      close(listen_fd);
      listen_fds_.erase(it);
    }
  }
}

void Worker::LogRejection(const std::string& ip, const char* reason) {
  // A flood of connections must not become a flood of log lines: at most
  // one line a second, with the count of the lines left out.
  const absl::Time now = absl::Now();
  if (now - last_rejection_log_ < absl::Seconds(1)) {
    ++rejections_not_logged_;
    return;
  }
  LogWarning("", "event=connection_rejected client=", ip, " reason=", reason,
             " not_logged_before=", rejections_not_logged_);
  last_rejection_log_ = now;
  rejections_not_logged_ = 0;
}

io::Task<void> Worker::Serve(int fd) {
  const std::string ip = PeerAddress(fd);
  // Replies are small writes that the client waits for; see outbound.cc.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const ConnectionLimiter::Verdict verdict = limiter_->TryAcquire(ip);
  metrics::WorkerMetrics* worker_metrics = context_.metrics;
  if (verdict != ConnectionLimiter::Verdict::kAccept) {
    const bool total = verdict == ConnectionLimiter::Verdict::kTooManyTotal;
    const metrics::InboundResult result =
        total ? metrics::InboundResult::kRejectedMaxConnections
              : metrics::InboundResult::kRejectedMaxConnectionsPerAddress;
    worker_metrics->inbound_connections_total[result].Add();
    LogRejection(ip, total ? "max_connections" : "max_connections_per_address");
    co_await RejectConnection(
        &context_, fd,
        absl::StrCat("421 4.7.0 ", settings_->hostname,
                     total ? " Too many connections, try again later\r\n"
                           : " Too many connections from your address, "
                             "try again later\r\n"));
    co_return;
  }
  inbound_.emplace_back();
  auto it = std::prev(inbound_.end());
  it->fd = fd;
  it->client_ip = ip;
  it->session_id = absl::StrCat(context_.tag, "-", ++session_counter_);
  it->stop_requested = stopping_;
  const metrics::InboundResult accepted = metrics::InboundResult::kAccepted;
  worker_metrics->inbound_connections_total[accepted].Add();
  worker_metrics->inbound_connections.Add(1);
  co_await ServeInbound(&context_, &policy_, &*it);
  worker_metrics->inbound_connections.Add(-1);
  inbound_.erase(it);
  limiter_->Release(ip);
}

}  // namespace ferry::server
