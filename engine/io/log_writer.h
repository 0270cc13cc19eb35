// RingLogWriter: a LogSink (engine/base/log.h) that collects a worker's log
// lines and writes them to stderr through the worker's ring, so logging
// never blocks the worker. Lines are written just before the ring waits:
// in one write to a regular file, in PIPE_BUF pieces cut at line ends to a
// pipe or socket. A write starts at most once per kWriteInterval unless
// kEagerBytes have gathered, so a busy worker makes one write for many
// lines instead of one per loop iteration (a write to a regular file runs
// on a kernel worker thread, which costs two context switches).
//
// If stderr stalls, lines gather in memory up to kMaxBufferedBytes. Later
// lines are dropped and counted, and a line with the count follows once
// writing resumes. Owned by one worker thread.
#ifndef FERRY_ENGINE_IO_LOG_WRITER_H_
#define FERRY_ENGINE_IO_LOG_WRITER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "engine/base/log.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"

namespace ferry::io {

class RingLogWriter : public LogSink {
 public:
  static constexpr size_t kMaxBufferedBytes = 4 << 20;
  static constexpr absl::Duration kWriteInterval = absl::Milliseconds(10);
  static constexpr size_t kEagerBytes = 64 << 10;

  // Writes to `fd` (normally STDERR_FILENO) through `ring`.
  RingLogWriter(Ring* ring, int fd);
  // Writes what is left with plain write(2) calls.
  ~RingLogWriter() override;

  void Write(std::string line) override;

  // Writes everything collected so far with plain write(2) calls; for the
  // end of the worker, after its ring has stopped.
  void FlushBlocking();

  uint64_t dropped_lines() const { return dropped_lines_; }

 private:
  void StartWriteIfIdle();
  Task<void> WriteLater(absl::Duration delay);
  Task<void> WriteOut();

  Ring* ring_;
  int fd_;
  std::string pending_;  // lines not yet handed to the kernel
  std::string writing_;  // lines in the write in flight
  bool in_flight_ = false;
  bool timer_armed_ = false;
  // When the last write started, on the monotonic clock, so that a step
  // of the wall clock cannot hold lines back.
  std::chrono::steady_clock::time_point last_write_{};
  size_t atomic_write_limit_ = 4096;  // PIPE_BUF on Linux
  uint64_t dropped_lines_ = 0;
  uint64_t dropped_not_reported_ = 0;
};

}  // namespace ferry::io

#endif  // FERRY_ENGINE_IO_LOG_WRITER_H_
