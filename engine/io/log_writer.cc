#include "engine/io/log_writer.h"

#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ferry::io {
namespace {

// Writes all of `text` with blocking write(2) calls, giving up on error.
void WriteBlocking(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

RingLogWriter::RingLogWriter(Ring* ring, int fd) : ring_(ring), fd_(fd) {
  // A write to a regular file opened with O_APPEND is atomic whatever its
  // size (main() sets O_APPEND on a stderr file). On a pipe or socket
  // only writes of up to PIPE_BUF bytes are, so lines from several workers
  // could mix in larger ones.
  struct stat info;
  if (fstat(fd_, &info) == 0 && S_ISREG(info.st_mode)) {
    atomic_write_limit_ = SIZE_MAX;
  }
  ring_->AddBeforeSubmitHook([this] { StartWriteIfIdle(); });
}

RingLogWriter::~RingLogWriter() { FlushBlocking(); }

void RingLogWriter::Write(std::string line) {
  if (pending_.size() + line.size() > kMaxBufferedBytes) {
    ++dropped_lines_;
    ++dropped_not_reported_;
    return;
  }
  if (dropped_not_reported_ > 0) {
    absl::StrAppend(&pending_, "log: ", dropped_not_reported_,
                    " lines dropped because stderr was not writable\n");
    dropped_not_reported_ = 0;
  }
  pending_ += line;
}

void RingLogWriter::StartWriteIfIdle() {
  if (in_flight_ || pending_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  const absl::Duration since = absl::FromChrono(now - last_write_);
  if (pending_.size() < kEagerBytes && since < kWriteInterval) {
    // A timer that is already set calls back here when it fires.
    if (!timer_armed_) {
      timer_armed_ = true;
      Spawn(WriteLater(kWriteInterval - since));
    }
    return;
  }
  in_flight_ = true;
  last_write_ = now;
  writing_.swap(pending_);
  Spawn(WriteOut());
}

Task<void> RingLogWriter::WriteLater(absl::Duration delay) {
  co_await ring_->Sleep(delay);
  timer_armed_ = false;
  StartWriteIfIdle();
}

// Returns how many bytes of `text` from `start` to write at once: at most
// `limit`, ending after a newline when one is in range.
static size_t NextChunk(const std::string& text, size_t start, size_t limit) {
  const size_t left = text.size() - start;
  if (left <= limit) return left;
  const size_t newline = text.rfind('\n', start + limit - 1);
  if (newline == std::string::npos || newline < start) return limit;
  return newline + 1 - start;
}

Task<void> RingLogWriter::WriteOut() {
  size_t done = 0;
  while (done < writing_.size()) {
    iovec iov = {writing_.data() + done,
                 NextChunk(writing_, done, atomic_write_limit_)};
    // Offset -1: the file's current position, as write(2) would use, so
    // stderr may be a pipe, a terminal or a file opened for appending.
    const int n = co_await ring_->Writev(fd_, &iov, 1, uint64_t(-1));
    if (n <= 0) break;  // stderr is gone; nothing better to do with logs
    done += static_cast<size_t>(n);
  }
  writing_.clear();
  in_flight_ = false;
}

void RingLogWriter::FlushBlocking() {
  if (in_flight_) {
    // The ring stopped with this write in flight: the kernel may or may
    // not have written it, and writing it again is the lesser harm.
    WriteBlocking(fd_, writing_);
    writing_.clear();
    in_flight_ = false;
  }
  WriteBlocking(fd_, pending_);
  pending_.clear();
}

}  // namespace ferry::io
