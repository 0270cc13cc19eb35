#include "engine/server/outbound.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/base/log.h"
#include "engine/io/iovec.h"
#include "engine/server/delivery_queue.h"
#include "engine/smtp/client_session.h"

namespace ferry::server {
namespace {

constexpr size_t kReceiveBufferSize = 16 * 1024;

// Returns "host[ip]:port" for log lines and DSNs.
std::string DescribeNextHop(const std::string& host,
                            const sockaddr_storage& address) {
  char ip[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
    port = ntohs(in6->sin6_port);
  }
  return absl::StrCat(host, "[", ip, "]:", port);
}

socklen_t AddressLength(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? sizeof(sockaddr_in6)
                                       : sizeof(sockaddr_in);
}

smtp::Reply LocalReply(int code, const char* enhanced, std::string text) {
  return smtp::MakeReply(code, enhanced, std::move(text));
}

// One open connection to a next hop with its protocol state.
struct Connection {
  int fd = -1;
  std::string next_hop;  // "host[ip]:port"
  std::optional<smtp::ClientSession> session;
  char buffer[kReceiveBufferSize];
};

class OutboundRun {
 public:
  OutboundRun(WorkerContext* context, std::string domain)
      : context_(context), domain_(std::move(domain)) {}

  io::Task<void> Run();

 private:
  io::Task<bool> Open(const route::Route& route);
  io::Task<bool> TryNextHop(const route::NextHop& hop,
                            const sockaddr_storage& address);
  io::Task<bool> Exchange(absl::Duration timeout);
  io::Task<bool> SendAll(const std::string& bytes, absl::Duration timeout);
  io::Task<bool> SendBody(const QueuedMessage& message);
  io::Task<bool> WaitUntilReady();
  io::Task<void> RunTransaction(const QueuedMessage& message);
  io::Task<void> Deliver(DeliveryJob job);
  io::Task<void> DeliverJobs();
  io::Task<bool> WaitForJob(std::chrono::steady_clock::time_point deadline);
  bool RouteUnchanged() const;
  io::Task<void> Quit();
  io::Task<void> Close();
  absl::Duration CurrentTimeout() const;
  void CountAttempt(metrics::OutboundResult result) {
    context_->metrics->outbound_connections_total[result].Add();
  }

  WorkerContext* context_;
  std::string domain_;
  Connection conn_;
  // The next hops of the route this connection was opened for.
  std::vector<route::NextHop> route_hops_;
  smtp::Reply last_failure_;
  std::string last_failure_hop_;
};

io::Task<bool> OutboundRun::SendAll(const std::string& bytes,
                                    absl::Duration timeout) {
  size_t done = 0;
  while (done < bytes.size()) {
    const int n = co_await context_->ring->Send(conn_.fd, bytes.data() + done,
                                                bytes.size() - done, timeout);
    if (n <= 0) {
      conn_.session->ConnectionLost(
          n == -ECANCELED ? "timed out sending to the next hop"
                          : absl::StrCat("send failed: ", strerror(-n)));
      co_return false;
    }
    done += static_cast<size_t>(n);
  }
  co_return true;
}

io::Task<bool> OutboundRun::SendBody(const QueuedMessage& message) {
  std::vector<iovec> iov;
  const std::string& received = message.envelope.received_header;
  if (!received.empty()) {
    iov.push_back({const_cast<char*>(received.data()), received.size()});
  }
  for (const iovec& chunk : message.body.Iovecs()) iov.push_back(chunk);
  size_t first = 0;
  while (first < iov.size()) {
    msghdr msg{};
    msg.msg_iov = &iov[first];
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    const int n = co_await context_->ring->SendMsg(
        conn_.fd, &msg, context_->settings->client.data_block);
    if (n <= 0) {
      conn_.session->ConnectionLost(
          n == -ECANCELED ? "timed out sending the message"
                          : absl::StrCat("send failed: ", strerror(-n)));
      co_return false;
    }
    io::ConsumeIovecs(&iov, &first, static_cast<size_t>(n));
  }
  co_return true;
}

absl::Duration OutboundRun::CurrentTimeout() const {
  const ClientTimeouts& t = context_->settings->client;
  switch (conn_.session->state()) {
    case smtp::ClientState::kGreeting:
      return t.greeting;
    case smtp::ClientState::kData:
      return t.data_initiation;
    case smtp::ClientState::kDot:
      return t.data_termination;
    default:
      return t.command;
  }
}

// Sends what the session has queued, then reads once. Returns false when
// the connection is gone, after passing the reason to the session.
io::Task<bool> OutboundRun::Exchange(absl::Duration timeout) {
  std::string output = conn_.session->TakeOutput();
  if (!output.empty()) {
    const bool sent = co_await SendAll(output, timeout);
    if (!sent) co_return false;
  }
  if (conn_.session->closed()) co_return false;
  const int n = co_await context_->ring->Recv(conn_.fd, conn_.buffer,
                                              sizeof(conn_.buffer), timeout);
  if (n <= 0) {
    conn_.session->ConnectionLost(
        n == 0            ? "connection closed by the next hop"
        : n == -ECANCELED ? "timed out waiting for the next hop's reply"
                          : absl::StrCat("receive failed: ", strerror(-n)));
    co_return false;
  }
  conn_.session->Receive(std::string_view(conn_.buffer, n));
  co_return true;
}

io::Task<bool> OutboundRun::WaitUntilReady() {
  while (!conn_.session->ready()) {
    if (conn_.session->closed()) co_return false;
    const bool exchanged = co_await Exchange(CurrentTimeout());
    if (!exchanged) co_return false;
  }
  co_return true;
}

io::Task<bool> OutboundRun::TryNextHop(const route::NextHop& hop,
                                       const sockaddr_storage& address) {
  const std::string name = DescribeNextHop(hop.host, address);
  const int fd =
      socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    CountAttempt(metrics::OutboundResult::kConnectFailed);
    last_failure_ = LocalReply(
        451, "4.3.0", absl::StrCat("socket failed: ", strerror(errno)));
    last_failure_hop_ = name;
    co_return false;
  }
  // Commands and the end-of-data line are small writes that each wait for
  // a reply; Nagle's algorithm would hold them back for a delayed ACK.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int rc = co_await context_->ring->Connect(
      fd, reinterpret_cast<const sockaddr*>(&address), AddressLength(address),
      context_->settings->client.connect);
  if (rc < 0) {
    close(fd);
    CountAttempt(metrics::OutboundResult::kConnectFailed);
    last_failure_ = LocalReply(
        451, "4.4.1",
        absl::StrCat("connect to ", name, " failed: ",
                     rc == -ECANCELED ? "timed out" : strerror(-rc)));
    last_failure_hop_ = name;
    LogInfo(domain_, "event=connect_failed relay=", name,
            " error=", LogQuote(last_failure_.lines.front()));
    co_return false;
  }
  conn_.fd = fd;
  conn_.next_hop = name;
  smtp::ClientOptions options;
  options.helo_name = context_->settings->hostname;
  conn_.session.emplace(options);
  const bool ready = co_await WaitUntilReady();
  if (ready) {
    CountAttempt(metrics::OutboundResult::kConnected);
    co_return true;
  }
  CountAttempt(metrics::OutboundResult::kSessionFailed);
  // The greeting or EHLO/HELO failed: that next hop is not usable now.
  last_failure_ =
      LocalReply(451, "4.4.2",
                 absl::StrCat("next hop ", name,
                              " failed: ", conn_.session->error().message()));
  last_failure_hop_ = name;
  LogInfo(domain_, "event=session_failed relay=", name,
          " reply=", LogQuote(last_failure_.Summary()));
  co_await Close();
  co_return false;
}

io::Task<bool> OutboundRun::Open(const route::Route& route) {
  route_hops_ = route.next_hops;
  std::vector<route::NextHop> hops =
      route::OrderNextHops(route, context_->random);
  for (const route::NextHop& hop : hops) {
    absl::StatusOr<std::vector<sockaddr_storage>> addresses =
        co_await context_->resolver->Resolve(hop.host,
                                             static_cast<uint16_t>(hop.port));
    if (!addresses.ok()) {
      CountAttempt(metrics::OutboundResult::kResolveFailed);
      last_failure_ =
          LocalReply(451, "4.4.3",
                     absl::StrCat("cannot resolve next hop ", hop.host, ": ",
                                  addresses.status().message()));
      last_failure_hop_ = absl::StrCat(hop.host, ":", hop.port);
      continue;
    }
    for (const sockaddr_storage& address : *addresses) {
      const bool connected = co_await TryNextHop(hop, address);
      if (connected) co_return true;
    }
  }
  co_return false;
}

io::Task<void> OutboundRun::Close() {
  if (conn_.fd < 0) co_return;
  const int fd = std::exchange(conn_.fd, -1);
  co_await context_->ring->Close(fd);
}

// Returns the transaction for `job`: its recipients and the ESMTP
// parameters the message needs.
smtp::OutboundMessage MakeOutboundMessage(const DeliveryJob& job) {
  const spool::Envelope& envelope = job.message->envelope;
  smtp::OutboundMessage outbound;
  outbound.sender = envelope.null_sender ? "" : envelope.sender;
  for (size_t index : job.recipients) {
    const spool::SpooledRecipient& r = envelope.recipients[index];
    outbound.recipients.push_back(r.address);
    outbound.dsn.push_back(smtp::DsnRecipientParams{r.notify, r.orcpt});
  }
  // The stored form is dot-stuffed, so this is an upper bound of the
  // content size, which is what SIZE= may state.
  outbound.size = envelope.received_header.size() + job.message->body.size();
  outbound.needs_8bitmime = envelope.body_8bitmime;
  outbound.needs_smtputf8 = envelope.smtputf8;
  outbound.envid = envelope.envid;
  outbound.ret = envelope.ret;
  return outbound;
}

io::Task<void> OutboundRun::RunTransaction(const QueuedMessage& message) {
  while (!conn_.session->has_result()) {
    if (conn_.session->wants_body()) {
      std::string output = conn_.session->TakeOutput();
      if (!output.empty()) {
        const bool sent =
            co_await SendAll(output, context_->settings->client.command);
        if (!sent) continue;
      }
      const bool body_sent = co_await SendBody(message);
      if (body_sent) conn_.session->BodySent();
      continue;
    }
    const bool exchanged = co_await Exchange(CurrentTimeout());
    if (!exchanged && !conn_.session->has_result()) {
      conn_.session->ConnectionLost("connection lost");
    }
  }
}

io::Task<void> OutboundRun::Deliver(DeliveryJob job) {
  conn_.session->StartMessage(MakeOutboundMessage(job));
  co_await RunTransaction(*job.message);

  smtp::MessageResult result = conn_.session->TakeResult();
  std::vector<RecipientAttempt> attempts;
  for (smtp::RecipientResult& r : result.recipients) {
    attempts.push_back(
        RecipientAttempt{std::move(r.reply), r.local, conn_.next_hop});
  }
  co_await context_->queue->Complete(std::move(job), std::move(attempts));
}

io::Task<void> OutboundRun::DeliverJobs() {
  uint32_t sent = 0;
  const uint32_t limit = context_->settings->max_messages_per_connection;
  // On the monotonic clock, which a step of the wall clock cannot move.
  const auto idle_time =
      absl::ToChronoNanoseconds(context_->settings->connection_idle_time);
  auto idle_until = std::chrono::steady_clock::now() + idle_time;
  while (!context_->stopping && sent < limit && conn_.session->ready()) {
    std::optional<DeliveryJob> job = context_->queue->NextJob(domain_);
    if (!job) {
      const bool woken = co_await WaitForJob(idle_until);
      if (!woken) break;
      continue;
    }
    co_await Deliver(std::move(*job));
    ++sent;
    idle_until = std::chrono::steady_clock::now() + idle_time;
  }
}

// Waits, with the connection open, until the queue has a job for this
// destination or `deadline` passes. Returns false when the connection
// should end instead: the deadline passed, the next hop closed it or sent
// something unasked (such as a 421 reply), or the route changed.
io::Task<bool> OutboundRun::WaitForJob(
    std::chrono::steady_clock::time_point deadline) {
  const absl::Duration left =
      absl::FromChrono(deadline - std::chrono::steady_clock::now());
  if (left <= absl::ZeroDuration()) co_return false;
  io::Operation wait = context_->ring->PollIn(conn_.fd, left);
  IdleConnection idle{&wait};
  context_->queue->AddIdleConnection(domain_, &idle);
  const int rc = co_await wait;
  context_->queue->EndIdle(domain_, &idle);
  if (rc > 0) {
    LogDebug(domain_, "event=idle_connection_ended relay=", conn_.next_hop,
             " reason=next_hop_closed_or_sent_data");
    co_return false;
  }
  co_return idle.woken && RouteUnchanged();
}

// True when the destination's route still has the next hops this
// connection was opened for. A changed route gets a new connection.
bool OutboundRun::RouteUnchanged() const {
  std::shared_ptr<const route::RouteTable> table = context_->routes->Load();
  const route::Route* route = table->Find(domain_);
  return route != nullptr && route->next_hops == route_hops_;
}

io::Task<void> OutboundRun::Quit() {
  if (conn_.session->ready()) {
    conn_.session->Quit();
    while (!conn_.session->closed()) {
      const bool exchanged =
          co_await Exchange(context_->settings->client.command);
      if (!exchanged) break;
    }
  }
  co_await Close();
}

io::Task<void> OutboundRun::Run() {
  DeliveryQueue* queue = context_->queue;
  std::shared_ptr<const route::RouteTable> table = context_->routes->Load();
  const route::Route* route = table->Find(domain_);
  if (route == nullptr) {
    const smtp::Reply no_route = LocalReply(
        451, "4.4.4",
        absl::StrCat("no route for ", domain_, " in the routing table"));
    co_await queue->FailDestination(domain_, no_route, "");
  } else {
    const bool open = co_await Open(*route);
    if (open) {
      co_await DeliverJobs();
      co_await Quit();
    } else {
      co_await queue->FailDestination(domain_, last_failure_,
                                      last_failure_hop_);
    }
  }
  queue->ConnectionClosed(domain_);
}

}  // namespace

io::Task<void> RunOutbound(WorkerContext* context, std::string domain) {
  OutboundRun run(context, std::move(domain));
  co_await run.Run();
}

}  // namespace ferry::server
