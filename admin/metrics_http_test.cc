#include "admin/metrics_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ferry::admin {
namespace {

// Returns a loopback port that was free a moment ago.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Connects to 127.0.0.1:`port`; returns the socket or -1.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Reads until the server closes the connection (or 5 s pass).
std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// Sends `request` on a new connection and returns the whole response.
std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response = ReadAll(fd);
  close(fd);
  return response;
}

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void StartServer(MetricsHttpOptions options = {}) {
    port_ = FreePort();
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
        MetricsHttpServer::Start(
            absl::StrCat("127.0.0.1:", port_),
            [this] {
              ++renders_;
              return std::string("ferry_up 1\n");
            },
            options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  int port_ = 0;
  std::atomic<int> renders_{0};
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpServerTest, ServesMetrics) {
  StartServer();
  const std::string response =
      Exchange(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusLine(response), "HTTP/1.1 200 OK");
  EXPECT_NE(response.find("version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("\r\n\r\nferry_up 1\n"), std::string::npos);
  EXPECT_EQ(renders_.load(), 1);
}

TEST_F(MetricsHttpServerTest, AddressIsBoundAddress) {
  StartServer();
  EXPECT_EQ(server_->address(), absl::StrCat("127.0.0.1:", port_));
}

TEST_F(MetricsHttpServerTest, RequestInPieces) {
  StartServer();
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  for (const char* piece :
       {"GET /met", "rics HTTP/1.1\r\n", "Host: x\r\n", "\r\n"}) {
    send(fd, piece, strlen(piece), MSG_NOSIGNAL);
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(StatusLine(ReadAll(fd)), "HTTP/1.1 200 OK");
  close(fd);
}

TEST_F(MetricsHttpServerTest, NotFoundAndMethodNotAllowed) {
  StartServer();
  EXPECT_EQ(StatusLine(Exchange(port_, "GET / HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(StatusLine(Exchange(port_,
                                "POST /metrics HTTP/1.1\r\n"
                                "Content-Length: 5\r\n\r\nhello")),
            "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(renders_.load(), 0);
}

TEST_F(MetricsHttpServerTest, OversizedHeadGets431) {
  MetricsHttpOptions options;
  options.max_request_size = 1024;
  StartServer(options);
  const std::string request =
      "GET /metrics HTTP/1.1\r\nX: " + std::string(4000, 'a') + "\r\n\r\n";
  EXPECT_EQ(StatusLine(Exchange(port_, request)),
            "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST_F(MetricsHttpServerTest, PartialHeadTimesOutWith408) {
  MetricsHttpOptions options;
  options.request_timeout = absl::Milliseconds(200);
  StartServer(options);
  EXPECT_EQ(StatusLine(Exchange(port_, "GET /metrics HTTP/1.1\r\n")),
            "HTTP/1.1 408 Request Timeout");
}

TEST_F(MetricsHttpServerTest, SilentClientIsClosed) {
  MetricsHttpOptions options;
  options.request_timeout = absl::Milliseconds(200);
  StartServer(options);
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ReadAll(fd), "");
  close(fd);
}

TEST_F(MetricsHttpServerTest, ConcurrentClients) {
  StartServer();
  constexpr int kClients = 8;
  constexpr int kRequestsEach = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([this, &ok] {
      for (int j = 0; j < kRequestsEach; ++j) {
        const std::string response =
            Exchange(port_, "GET /metrics HTTP/1.1\r\n\r\n");
        if (StatusLine(response) == "HTTP/1.1 200 OK") ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ok.load(), kClients * kRequestsEach);
}

TEST_F(MetricsHttpServerTest, BusyServerAnswers503) {
  MetricsHttpOptions options;
  options.handler_threads = 1;
  options.max_waiting = 0;
  StartServer(options);
  // A silent client occupies the only handler.
  const int silent = Connect(port_);
  ASSERT_GE(silent, 0);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(StatusLine(Exchange(port_, "GET /metrics HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 503 Service Unavailable");
  close(silent);
}

TEST_F(MetricsHttpServerTest, ShutdownWithIdleClientIsQuick) {
  StartServer();
  const int idle = Connect(port_);
  ASSERT_GE(idle, 0);
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(Connect(port_), -1);
  close(idle);
}

TEST(MetricsHttpServerStartTest, AddressInUseFails) {
  const int port = FreePort();
  const std::string listen = absl::StrCat("127.0.0.1:", port);
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> first =
      MetricsHttpServer::Start(listen, [] { return std::string(); });
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> second =
      MetricsHttpServer::Start(listen, [] { return std::string(); });
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("metrics_listen"),
            std::string::npos);
  EXPECT_NE(second.status().message().find(listen), std::string::npos);
}

TEST(MetricsHttpServerStartTest, InvalidAddressFails) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("localhost:9925", [] { return std::string(); });
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(server.status()));
}

}  // namespace
}  // namespace ferry::admin
