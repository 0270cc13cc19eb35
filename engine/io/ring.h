// Ring: one worker thread's io_uring, with each operation exposed as an
// awaitable for Task coroutines (engine/io/task.h).
//
// How user_data is packed: every submission that completes into a
// coroutine carries the address of its Operation (8-byte aligned) as
// user_data. user_data 0 marks submissions whose completion is ignored:
// linked timeouts and cancellations. Nothing else is ever packed there.
//
// Threading: a Ring belongs to the thread that calls Init() and Run(). The
// ring is created with IORING_SETUP_SINGLE_ISSUER and DEFER_TASKRUN, so no
// other thread may submit to it. Other threads reach it only through
// Wake() (an eventfd write), which is thread-safe.
//
// Buffer lifetime: a buffer passed to an operation must stay valid until
// the operation's co_await returns; the awaiting coroutine frame owns it.
#ifndef FERRY_ENGINE_IO_RING_H_
#define FERRY_ENGINE_IO_RING_H_

#include <liburing.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <coroutine>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ferry::io {

class Ring;

// The kinds of operation the engine submits. ring.cc maps each to its
// io_uring_prep_* call in one function, PrepareSqe().
enum class OpKind : uint8_t {
  kAccept,
  kRecv,
  kSend,
  kSendMsg,
  kConnect,
  kWritev,
  kRead,
  kFdatasync,
  kOpenAt,
  kUnlink,
  kRename,
  kClose,
  kPollIn,
  kPollOut,
  kSleep,
};

// Arguments of one operation; which fields count depends on the kind.
struct OpArgs {
  OpKind kind = OpKind::kSleep;
  int fd = -1;
  const void* ptr = nullptr;   // buffer, iovec array, msghdr, path or addr
  const void* ptr2 = nullptr;  // the new path of a rename
  uint64_t len = 0;            // bytes, iovec count or address length
  uint64_t offset = 0;         // file offset
  int flags = 0;               // open flags or socket flags
  uint32_t mode = 0;           // open mode
};

// One submitted operation, awaited by one coroutine. Its result is the
// completion's `res`: a count or fd on success, -errno on failure, and
// -ECANCELED when its timeout expired or it was cancelled.
class Operation {
 public:
  Operation(Ring* ring, const OpArgs& args, absl::Duration timeout)
      : ring_(ring), args_(args), timeout_(timeout) {}
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter);
  int await_resume() const noexcept { return result_; }

  // Called by the Ring when the completion arrives.
  void Complete(int result, uint32_t flags);
  uint32_t flags() const { return flags_; }

 private:
  Ring* ring_;
  OpArgs args_;
  absl::Duration timeout_;
  // Read by the kernel at submission; lives in the awaiting frame.
  __kernel_timespec timeout_spec_{};
  std::coroutine_handle<> waiter_;
  int result_ = 0;
  uint32_t flags_ = 0;
};

class Ring {
 public:
  Ring() = default;
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Creates the ring with `entries` submission slots and an eventfd for
  // Wake(). Fails naming the setup flag or system call that failed.
  absl::Status Init(unsigned entries);

  // Operations. `timeout` (when finite) is linked to the operation, which
  // then fails with -ECANCELED if it has not completed in time.
  Operation Accept(int fd);
  Operation Recv(int fd, void* buf, size_t len, absl::Duration timeout);
  Operation Send(int fd, const void* buf, size_t len, absl::Duration timeout);
  Operation SendMsg(int fd, const msghdr* msg, absl::Duration timeout);
  Operation Connect(int fd, const sockaddr* addr, socklen_t len,
                    absl::Duration timeout);
  Operation Writev(int fd, const iovec* iov, int count, uint64_t offset);
  Operation Read(int fd, void* buf, size_t len, uint64_t offset);
  Operation Fdatasync(int fd);
  Operation OpenAt(const char* path, int flags, mode_t mode);
  Operation Unlink(const char* path);
  // Renames `from` to `to`, replacing `to` if it exists (rename(2)).
  Operation Rename(const char* from, const char* to);
  Operation Close(int fd);
  Operation PollIn(int fd, absl::Duration timeout);
  Operation PollOut(int fd, absl::Duration timeout);
  // Completes with -ETIME after `delay` (or earlier, -ECANCELED, if
  // cancelled).
  Operation Sleep(absl::Duration delay);

  // Asks the kernel to cancel `op`; its co_await then returns -ECANCELED
  // (or its normal result, if it had already completed).
  void Cancel(Operation* op);

  // Runs `hook` on this thread at the end of every loop iteration, before
  // submitting. The spool uses it to batch fdatasync calls (group commit).
  void AddBeforeSubmitHook(std::function<void()> hook);

  // Runs the loop until Stop() is called from this thread.
  void Run();
  void Stop() { stopping_ = true; }

  // Makes Run() wake up and call `on_wake` on the ring's thread. Safe to
  // call from any thread.
  void Wake();
  void SetWakeHandler(std::function<void()> on_wake);

  // Returns a free submission entry, submitting queued ones to make room.
  io_uring_sqe* GetSqe();

 private:
  void ArmWakeRead();
  void Dispatch(io_uring_cqe* cqe);

  io_uring ring_{};
  bool initialized_ = false;
  bool stopping_ = false;
  int wake_fd_ = -1;
  uint64_t wake_value_ = 0;
  std::function<void()> on_wake_;
  std::vector<std::function<void()>> before_submit_hooks_;
  // Wake reads complete into this operation-less marker.
  struct WakeMarker {
    alignas(8) char tag;
  } wake_marker_;
};

}  // namespace ferry::io

#endif  // FERRY_ENGINE_IO_RING_H_
