#include "engine/dns/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::dns {
namespace {

using Addresses = std::vector<sockaddr_storage>;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kRcodeNxdomain = 3;

void Put16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

void Put32(std::string& out, uint32_t value) {
  Put16(out, static_cast<uint16_t>(value >> 16));
  Put16(out, static_cast<uint16_t>(value & 0xffff));
}

uint16_t Get16(const std::string& in, size_t pos) {
  return static_cast<uint16_t>(static_cast<uint8_t>(in[pos]) << 8 |
                               static_cast<uint8_t>(in[pos + 1]));
}

// A DNS server on 127.0.0.1 that answers A and AAAA queries from a fixed
// table, over UDP and TCP on the same port number, on its own thread.
// Names missing from the table get NXDOMAIN.
class FakeDnsServer {
 public:
  struct Host {
    std::vector<std::string> a;
    std::vector<std::string> aaaa;
    // Answer over UDP with the TC bit and no records, so that the client
    // asks again over TCP.
    bool truncate_udp = false;
  };

  ~FakeDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (const Connection& c : connections_) close(c.fd);
    if (udp_fd_ >= 0) close(udp_fd_);
    if (tcp_fd_ >= 0) close(tcp_fd_);
  }

  // REQUIRES: called before Start().
  void Add(const std::string& name, Host host) { hosts_[name] = host; }

  // Binds both sockets and starts serving. With `answer` false the server
  // reads every query and answers none.
  bool Start(bool answer) {
    answer_ = answer;
    for (int attempt = 0; attempt < 20 && !Bind(); ++attempt) {
      if (udp_fd_ >= 0) close(udp_fd_);
      if (tcp_fd_ >= 0) close(tcp_fd_);
      udp_fd_ = tcp_fd_ = -1;
    }
    if (udp_fd_ < 0) return false;
    thread_ = std::thread([this] { Serve(); });
    return true;
  }

  std::string ServersCsv() const { return absl::StrCat("127.0.0.1:", port_); }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }

 private:
  struct Connection {
    int fd;
    std::string buffer;
  };

  // Binds UDP to a free port and TCP to the same port number.
  bool Bind() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    udp_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    tcp_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto* sa = reinterpret_cast<sockaddr*>(&address);
    socklen_t len = sizeof(address);
    if (bind(udp_fd_, sa, len) != 0) return false;
    if (getsockname(udp_fd_, sa, &len) != 0) return false;
    port_ = ntohs(address.sin_port);
    if (bind(tcp_fd_, sa, len) != 0) return false;
    return listen(tcp_fd_, 8) == 0;
  }

  // Polls until the destructor sets stop_, and for at most 30 s.
  void Serve() {
    const absl::Time end = absl::Now() + absl::Seconds(30);
    while (!stop_ && absl::Now() < end) {
      std::vector<pollfd> fds = {{udp_fd_, POLLIN, 0}, {tcp_fd_, POLLIN, 0}};
      for (const Connection& c : connections_) {
        fds.push_back({c.fd, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents != 0) ServeUdp();
      if (fds[1].revents != 0) Accept();
      for (size_t i = fds.size(); i-- > 2;) {
        if (fds[i].revents != 0) ServeTcp(i - 2);
      }
    }
  }

  void ServeUdp() {
    char buf[1500];
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    ssize_t n = recvfrom(udp_fd_, buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (n <= 0) return;
    ++udp_queries_;
    if (!answer_) return;
    std::string reply = Answer(std::string(buf, n), /*over_udp=*/true);
    if (reply.empty()) return;
    sendto(udp_fd_, reply.data(), reply.size(), 0,
           reinterpret_cast<sockaddr*>(&peer), peer_len);
  }

  void Accept() {
    int fd = accept4(tcp_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) connections_.push_back({fd, ""});
  }

  // Reads from connection `index`, answering each complete query, which
  // TCP frames with a two-octet length.
  void ServeTcp(size_t index) {
    Connection& c = connections_[index];
    char buf[1500];
    ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      close(c.fd);
      connections_.erase(connections_.begin() + index);
      return;
    }
    c.buffer.append(buf, n);
    while (c.buffer.size() >= 2 && c.buffer.size() >= 2u + Get16(c.buffer, 0)) {
      const size_t len = Get16(c.buffer, 0);
      const std::string query = c.buffer.substr(2, len);
      c.buffer.erase(0, 2 + len);
      ++tcp_queries_;
      if (!answer_) continue;
      std::string reply = Answer(query, /*over_udp=*/false);
      std::string framed;
      Put16(framed, static_cast<uint16_t>(reply.size()));
      framed += reply;
      send(c.fd, framed.data(), framed.size(), MSG_NOSIGNAL);
    }
  }

  // Returns the response to `query`, or "" when it cannot be parsed.
  std::string Answer(const std::string& query, bool over_udp) const {
    if (query.size() < 12) return "";
    size_t pos = 12;
    std::string name;
    while (pos < query.size() && query[pos] != 0) {
      const size_t label = static_cast<uint8_t>(query[pos]);
      if (pos + 1 + label > query.size()) return "";
      if (!name.empty()) name += '.';
      name.append(query, pos + 1, label);
      pos += 1 + label;
    }
    if (pos + 5 > query.size()) return "";
    const uint16_t qtype = Get16(query, pos + 1);
    const size_t question_end = pos + 5;
    for (char& ch : name) ch = static_cast<char>(tolower(ch));

    auto it = hosts_.find(name);
    const bool found = it != hosts_.end();
    const bool truncated = found && over_udp && it->second.truncate_udp;
    std::vector<std::string> records;
    if (found && !truncated) records = Records(it->second, qtype);

    std::string out = query.substr(0, 2);  // ID
    uint16_t flags = 0x8000 | (Get16(query, 2) & 0x0100) | 0x0080;
    if (truncated) flags |= 0x0200;
    if (!found) flags |= kRcodeNxdomain;
    Put16(out, flags);
    Put16(out, 1);
    Put16(out, static_cast<uint16_t>(records.size()));
    Put16(out, 0);
    Put16(out, 0);
    out.append(query, 12, question_end - 12);
    for (const std::string& rdata : records) {
      Put16(out, 0xc00c);  // pointer to the name in the question
      Put16(out, qtype);
      Put16(out, 1);  // class IN
      Put32(out, 60);
      Put16(out, static_cast<uint16_t>(rdata.size()));
      out += rdata;
    }
    return out;
  }

  static std::vector<std::string> Records(const Host& host, uint16_t qtype) {
    std::vector<std::string> out;
    if (qtype == kTypeA) {
      for (const std::string& text : host.a) {
        in_addr addr{};
        inet_pton(AF_INET, text.c_str(), &addr);
        out.emplace_back(reinterpret_cast<const char*>(&addr), sizeof(addr));
      }
    } else if (qtype == kTypeAaaa) {
      for (const std::string& text : host.aaaa) {
        in6_addr addr{};
        inet_pton(AF_INET6, text.c_str(), &addr);
        out.emplace_back(reinterpret_cast<const char*>(&addr), sizeof(addr));
      }
    }
    return out;
  }

  std::map<std::string, Host> hosts_;
  bool answer_ = true;
  int udp_fd_ = -1;
  int tcp_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<Connection> connections_;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};
  std::thread thread_;
};

// Runs a ring until Finish() is called or a time limit passes, whichever
// comes first, so that a lookup that never completes fails the test
// instead of hanging it.
class RingRunner {
 public:
  explicit RingRunner(io::Ring* ring) : ring_(ring) {}

  // Returns true iff Finish() was called within `limit`.
  bool Run(absl::Duration limit) {
    if (finished_) return true;
    io::Spawn(Guard(limit));
    ring_->Run();
    return finished_;
  }

  void Finish() {
    finished_ = true;
    if (guard_ != nullptr) ring_->Cancel(guard_);
  }

 private:
  io::Task<void> Guard(absl::Duration limit) {
    io::Operation sleep = ring_->Sleep(limit);
    guard_ = &sleep;
    co_await sleep;
    guard_ = nullptr;
    ring_->Stop();
  }

  io::Ring* ring_;
  bool finished_ = false;
  io::Operation* guard_ = nullptr;
};

io::Task<void> ResolveInto(Resolver* resolver, std::string host, uint16_t port,
                           absl::StatusOr<Addresses>* out, RingRunner* runner) {
  *out = co_await resolver->Resolve(std::move(host), port);
  runner->Finish();
}

// Formats an address as "192.0.2.1:25" or "[::1]:25".
std::string AddressText(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return absl::StrCat(text, ":", ntohs(v4->sin_port));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
  inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  return absl::StrCat("[", text, "]:", ntohs(v6->sin6_port));
}

std::vector<std::string> AddressTexts(const Addresses& addresses) {
  std::vector<std::string> out;
  for (const sockaddr_storage& a : addresses) out.push_back(AddressText(a));
  return out;
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ring_.Init(64).ok());
    dns_.Add("relay.test", {.a = {"192.0.2.10"}, .aaaa = {}});
    dns_.Add("dual.test", {.a = {"192.0.2.20"}, .aaaa = {"2001:db8::20"}});
    dns_.Add("v6only.test", {.a = {}, .aaaa = {"2001:db8::30"}});
    dns_.Add("noaddress.test", {});
    dns_.Add("big.test",
             {.a = {"192.0.2.40"}, .aaaa = {}, .truncate_udp = true});
  }

  // Destroys the Resolver and runs the ring until the cancelled polls and
  // timer of its channel have completed, so their frames are freed.
  void TearDown() override {
    resolver_.reset();
    RunRingFor(absl::Milliseconds(20));
  }

  // Starts the fake server and creates resolver_, which queries only that
  // server.
  Resolver& StartResolver(bool answer = true, int timeout_ms = 1000,
                          int tries = 2) {
    EXPECT_TRUE(dns_.Start(answer));
    resolver_ = std::make_unique<Resolver>(
        &ring_, ResolverOptions{.servers_csv = dns_.ServersCsv(),
                                .timeout_ms = timeout_ms,
                                .tries = tries});
    absl::Status status = resolver_->Init();
    EXPECT_TRUE(status.ok()) << status;
    return *resolver_;
  }

  void RunRingFor(absl::Duration duration) {
    RingRunner runner(&ring_);
    io::Spawn([](io::Ring* ring, absl::Duration d,
                 RingRunner* run) -> io::Task<void> {
      co_await ring->Sleep(d);
      run->Finish();
    }(&ring_, duration, &runner));
    EXPECT_TRUE(runner.Run(duration + absl::Seconds(5)));
  }

  absl::StatusOr<Addresses> ResolveOnRing(Resolver& resolver,
                                          const std::string& host,
                                          uint16_t port) {
    absl::StatusOr<Addresses> result =
        absl::DeadlineExceededError("lookup did not complete within 10 s");
    RingRunner runner(&ring_);
    io::Spawn(ResolveInto(&resolver, host, port, &result, &runner));
    runner.Run(absl::Seconds(10));
    return result;
  }

  io::Ring ring_;
  FakeDnsServer dns_;
  std::unique_ptr<Resolver> resolver_;
};

TEST_F(ResolverTest, LocalhostComesFromHostsFile) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "localhost", 25);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(AddressTexts(*result), ::testing::Contains("127.0.0.1:25"));
  EXPECT_EQ(dns_.udp_queries(), 0);
}

struct LiteralCase {
  std::string host;
  std::string expected;
};

TEST_F(ResolverTest, AddressLiteralsNeedNoLookup) {
  const LiteralCase cases[] = {
      {"192.0.2.1", "192.0.2.1:2525"},
      {"[192.0.2.1]", "192.0.2.1:2525"},
      {"::1", "[::1]:2525"},
      {"[::1]", "[::1]:2525"},
      {"2001:db8::1", "[2001:db8::1]:2525"},
  };
  Resolver& resolver = StartResolver();
  for (const LiteralCase& c : cases) {
    absl::StatusOr<Addresses> result = ResolveOnRing(resolver, c.host, 2525);
    ASSERT_TRUE(result.ok()) << c.host << ": " << result.status();
    EXPECT_THAT(AddressTexts(*result), ElementsAre(c.expected)) << c.host;
  }
  EXPECT_EQ(dns_.udp_queries(), 0);
}

TEST_F(ResolverTest, NameResolvesThroughDnsServer) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result =
      ResolveOnRing(resolver, "relay.test", 2525);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(AddressTexts(*result), ElementsAre("192.0.2.10:2525"));
  EXPECT_GE(dns_.udp_queries(), 1);
}

TEST_F(ResolverTest, Ipv4AddressesComeFirst) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "dual.test", 25);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(AddressTexts(*result),
              ElementsAre("192.0.2.20:25", "[2001:db8::20]:25"));
}

TEST_F(ResolverTest, Ipv6OnlyNameResolves) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "v6only.test", 25);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(AddressTexts(*result), ElementsAre("[2001:db8::30]:25"));
}

TEST_F(ResolverTest, NxdomainIsNotFound) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result =
      ResolveOnRing(resolver, "missing.test", 25);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("missing.test"));
  EXPECT_THAT(result.status().message(), HasSubstr("host not found"));
}

TEST_F(ResolverTest, NameWithoutAddressIsNotFound) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result =
      ResolveOnRing(resolver, "noaddress.test", 25);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("noaddress.test"));
}

TEST_F(ResolverTest, SilentServerIsUnavailable) {
  Resolver& resolver = StartResolver(/*answer=*/false, /*timeout_ms=*/100,
                                     /*tries=*/1);
  const absl::Time start = absl::Now();
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "relay.test", 25);
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("relay.test"));
  EXPECT_THAT(result.status().message(), HasSubstr("timed out"));
  EXPECT_GE(elapsed, absl::Milliseconds(90));
  EXPECT_LT(elapsed, absl::Seconds(3));
  EXPECT_GE(dns_.udp_queries(), 1);
}

TEST_F(ResolverTest, RetriesAfterTimeoutWithEachTry) {
  Resolver& resolver = StartResolver(/*answer=*/false, /*timeout_ms=*/50,
                                     /*tries=*/3);
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "relay.test", 25);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  // An A and an AAAA query, each sent three times.
  EXPECT_EQ(dns_.udp_queries(), 6);
}

TEST_F(ResolverTest, TruncatedAnswerRetriesOverTcp) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "big.test", 25);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(AddressTexts(*result), ElementsAre("192.0.2.40:25"));
  EXPECT_GE(dns_.tcp_queries(), 1);
}

TEST_F(ResolverTest, ConcurrentLookupsAllComplete) {
  Resolver& resolver = StartResolver();
  RingRunner runner(&ring_);
  const std::string hosts[] = {"relay.test", "dual.test", "missing.test",
                               "big.test"};
  absl::StatusOr<Addresses> results[4];
  int remaining = 4;
  for (int i = 0; i < 4; ++i) {
    io::Spawn([](Resolver* r, std::string host, absl::StatusOr<Addresses>* out,
                 int* left, RingRunner* run) -> io::Task<void> {
      *out = co_await r->Resolve(std::move(host), 25);
      if (--*left == 0) run->Finish();
    }(&resolver, hosts[i], &results[i], &remaining, &runner));
  }
  ASSERT_TRUE(runner.Run(absl::Seconds(10)));
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_THAT(AddressTexts(*results[0]), ElementsAre("192.0.2.10:25"));
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_THAT(AddressTexts(*results[1]),
              ElementsAre("192.0.2.20:25", "[2001:db8::20]:25"));
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(results[3].ok()) << results[3].status();
  EXPECT_THAT(AddressTexts(*results[3]), ElementsAre("192.0.2.40:25"));
}

TEST_F(ResolverTest, DestroyCompletesPendingLookup) {
  Resolver& resolver =
      StartResolver(/*answer=*/false, /*timeout_ms=*/5000, /*tries=*/1);
  absl::StatusOr<Addresses> result = absl::UnknownError("not completed");
  RingRunner runner(&ring_);
  io::Spawn(ResolveInto(&resolver, "relay.test", 25, &result, &runner));
  io::Spawn(
      [](io::Ring* ring, std::unique_ptr<Resolver>* owner) -> io::Task<void> {
        co_await ring->Sleep(absl::Milliseconds(50));
        owner->reset();
      }(&ring_, &resolver_));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(runner.Run(absl::Seconds(10)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("shut down"));
  // TearDown() then completes the destroyed channel's cancelled polls and
  // timer, which must not touch the freed Resolver.
}

TEST_F(ResolverTest, ResolveBeforeInitFails) {
  Resolver resolver(&ring_);
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "relay.test", 25);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ResolverTest, InitTwiceFails) {
  Resolver& resolver = StartResolver();
  EXPECT_EQ(resolver.Init().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ResolverTest, MalformedServerListIsInvalid) {
  Resolver resolver(&ring_, ResolverOptions{.servers_csv = "not an address"});
  absl::Status status = resolver.Init();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not an address"));
}

TEST_F(ResolverTest, EmptyHostIsInvalid) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result = ResolveOnRing(resolver, "", 25);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ResolverTest, BracketedHostNameIsInvalid) {
  Resolver& resolver = StartResolver();
  absl::StatusOr<Addresses> result =
      ResolveOnRing(resolver, "[relay.test]", 25);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("[relay.test]"));
  EXPECT_EQ(dns_.udp_queries(), 0);
}

}  // namespace
}  // namespace ferry::dns
