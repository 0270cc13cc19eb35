// Socket plumbing shared by the load driver and the sink: IPv4 endpoints,
// sending a whole buffer through the ring, and reading SMTP replies and
// command lines from a socket.
//
// Every object here belongs to the ring thread that uses it; not
// thread-safe. Buffers passed to the Send functions must stay valid until
// the returned task completes.
#ifndef FERRY_BENCH_LOAD_WIRE_H_
#define FERRY_BENCH_LOAD_WIRE_H_

#include <netinet/in.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"

namespace ferry::bench {

// Parses "A.B.C.D:PORT". Returns InvalidArgument naming `text` otherwise.
absl::StatusOr<sockaddr_in> ParseEndpoint(absl::string_view text);

// Returns "A.B.C.D:PORT".
std::string FormatEndpoint(const sockaddr_in& address);

// Sends every byte of `iov` with sendmsg, resubmitting after partial
// sends. Returns 0, or a negative errno (-ECANCELED on timeout) when a
// send fails. `timeout` applies to each sendmsg.
io::Task<int> SendAll(io::Ring* ring, int fd, std::vector<iovec> iov,
                      absl::Duration timeout);

// Buffered reader over one socket.
class SocketReader {
 public:
  SocketReader(io::Ring* ring, int fd, absl::Duration timeout)
      : ring_(ring), fd_(fd), timeout_(timeout) {}

  // Reads one SMTP reply (RFC 5321 section 4.2: "NNN-" lines, then one
  // "NNN " or "NNN" line). Returns its code (200..599), or a negative
  // errno: -ECANCELED on timeout, -ECONNRESET when the peer closed the
  // connection, -EPROTO for a line that is not a reply line.
  io::Task<int> ReadReply();

  // Receives more bytes into buffer(). Returns the count, 0 at end of
  // stream, or a negative errno.
  io::Task<int> Fill();

  // Bytes received and not consumed yet.
  std::string& buffer() { return buffer_; }

 private:
  io::Ring* ring_;
  int fd_;
  absl::Duration timeout_;
  std::string buffer_;
};

// Creates a TCP socket, sets TCP_NODELAY and connects it to `address`
// through the ring. Returns the descriptor or a negative errno.
io::Task<int> ConnectTcp(io::Ring* ring, const sockaddr_in& address,
                         absl::Duration timeout);

}  // namespace ferry::bench

#endif  // FERRY_BENCH_LOAD_WIRE_H_
