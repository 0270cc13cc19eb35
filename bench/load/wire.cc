#include "bench/load/wire.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ferry::bench {
namespace {

constexpr size_t kReceiveSize = 64 << 10;

// Drops the first `n` bytes of `iov`.
void Advance(std::vector<iovec>* iov, size_t n) {
  size_t i = 0;
  while (i < iov->size() && n >= (*iov)[i].iov_len) n -= (*iov)[i++].iov_len;
  iov->erase(iov->begin(), iov->begin() + i);
  if (!iov->empty()) {
    (*iov)[0].iov_base = static_cast<char*>((*iov)[0].iov_base) + n;
    (*iov)[0].iov_len -= n;
  }
}

// Returns the reply code of `line`, or -1 when it is not a reply line.
// Sets *last to false for a "NNN-" continuation line.
int ParseReplyLine(absl::string_view line, bool* last) {
  if (line.size() < 3 || !absl::ascii_isdigit(line[0]) ||
      !absl::ascii_isdigit(line[1]) || !absl::ascii_isdigit(line[2])) {
    return -1;
  }
  *last = line.size() == 3 || line[3] != '-';
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

}  // namespace

absl::StatusOr<sockaddr_in> ParseEndpoint(absl::string_view text) {
  const size_t colon = text.rfind(':');
  sockaddr_in address{};
  address.sin_family = AF_INET;
  uint32_t port = 0;
  const std::string host(text.substr(0, colon));
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port == 0 ||
      port > 65535 ||
      inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid endpoint \"", text,
                     "\": expected IPV4:PORT, such as ", "127.0.0.1:2600"));
  }
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

std::string FormatEndpoint(const sockaddr_in& address) {
  char host[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address.sin_addr, host, sizeof(host));
  return absl::StrCat(host, ":", ntohs(address.sin_port));
}

io::Task<int> SendAll(io::Ring* ring, int fd, std::vector<iovec> iov,
                      absl::Duration timeout) {
  while (!iov.empty()) {
    msghdr message{};
    message.msg_iov = iov.data();
    message.msg_iovlen = iov.size();
    const int sent = co_await ring->SendMsg(fd, &message, timeout);
    if (sent < 0) co_return sent;
    if (sent == 0) co_return -EPIPE;
    Advance(&iov, static_cast<size_t>(sent));
  }
  co_return 0;
}

io::Task<int> SocketReader::Fill() {
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kReceiveSize);
  const int n = co_await ring_->Recv(fd_, buffer_.data() + old_size,
                                     kReceiveSize, timeout_);
  buffer_.resize(old_size + (n > 0 ? n : 0));
  co_return n;
}

io::Task<int> SocketReader::ReadReply() {
  while (true) {
    const size_t end = buffer_.find("\r\n");
    if (end == std::string::npos) {
      const int n = co_await Fill();
      if (n < 0) co_return n;
      if (n == 0) co_return -ECONNRESET;
      continue;
    }
    bool last = true;
    const int code =
        ParseReplyLine(absl::string_view(buffer_).substr(0, end), &last);
    buffer_.erase(0, end + 2);
    if (code < 0) co_return -EPROTO;
    if (last) co_return code;
  }
}

io::Task<int> ConnectTcp(io::Ring* ring, const sockaddr_in& address,
                         absl::Duration timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) co_return -errno;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int rc =
      co_await ring->Connect(fd, reinterpret_cast<const sockaddr*>(&address),
                             sizeof(address), timeout);
  if (rc < 0) {
    close(fd);
    co_return rc;
  }
  co_return fd;
}

}  // namespace ferry::bench
