#include "engine/server/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ferry::server {
namespace {

absl::Status SocketError(const config::ListenAddress& address,
                         const char* call) {
  const int error = errno;
  return absl::UnavailableError(absl::StrCat("cannot listen on ",
                                             address.ToString(), ": ", call,
                                             " failed: ", strerror(error)));
}

}  // namespace

absl::Status CheckListenAddressFree(const config::ListenAddress& address) {
  const int fd = socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError(address, "socket");
  // SO_REUSEADDR only: without SO_REUSEPORT, bind fails with EADDRINUSE
  // when any socket, with or without SO_REUSEPORT, is bound to the address.
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address.family() == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&address.sockaddr),
                      address.sockaddr_length);
  const int error = errno;
  close(fd);
  if (rc == 0) return absl::OkStatus();
  if (error == EADDRINUSE) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address.ToString(),
        ": the address is already in use, perhaps by another ferryd. Stop "
        "that process or change smtp_listen."));
  }
  errno = error;
  return SocketError(address, "bind");
}

absl::StatusOr<int> OpenListener(const config::ListenAddress& address) {
  const int fd = socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError(address, "socket");
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    absl::Status status = SocketError(address, "setsockopt");
    close(fd);
    return status;
  }
  if (address.family() == AF_INET6) {
    // "[::]" then means IPv6 only, as "0.0.0.0" means IPv4 only.
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address.sockaddr),
           address.sockaddr_length) != 0) {
    absl::Status status = SocketError(address, "bind");
    close(fd);
    return status;
  }
  if (listen(fd, SOMAXCONN) != 0) {
    absl::Status status = SocketError(address, "listen");
    close(fd);
    return status;
  }
  return fd;
}

}  // namespace ferry::server
