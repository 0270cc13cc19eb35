#include "engine/io/ring.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ferry::io {
namespace {

__kernel_timespec ToKernelTimespec(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  __kernel_timespec ts;
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  return ts;
}

// The one place that maps an OpKind to its io_uring_prep_* call.
void PrepareSqe(io_uring_sqe* sqe, const OpArgs& a, __kernel_timespec* ts) {
  void* ptr = const_cast<void*>(a.ptr);
  switch (a.kind) {
    case OpKind::kAccept:
      io_uring_prep_accept(sqe, a.fd, nullptr, nullptr, SOCK_CLOEXEC);
      break;
    case OpKind::kRecv:
      io_uring_prep_recv(sqe, a.fd, ptr, a.len, 0);
      break;
    case OpKind::kSend:
      io_uring_prep_send(sqe, a.fd, ptr, a.len, MSG_NOSIGNAL);
      break;
    case OpKind::kSendMsg:
      io_uring_prep_sendmsg(sqe, a.fd, static_cast<const msghdr*>(a.ptr),
                            MSG_NOSIGNAL);
      break;
    case OpKind::kConnect:
      io_uring_prep_connect(sqe, a.fd, static_cast<const sockaddr*>(a.ptr),
                            static_cast<socklen_t>(a.len));
      break;
    case OpKind::kWritev:
      io_uring_prep_writev(sqe, a.fd, static_cast<const iovec*>(a.ptr),
                           static_cast<unsigned>(a.len), a.offset);
      break;
    case OpKind::kRead:
      io_uring_prep_read(sqe, a.fd, ptr, static_cast<unsigned>(a.len),
                         a.offset);
      break;
    case OpKind::kFdatasync:
      io_uring_prep_fsync(sqe, a.fd, IORING_FSYNC_DATASYNC);
      break;
    case OpKind::kOpenAt:
      io_uring_prep_openat(sqe, AT_FDCWD, static_cast<const char*>(a.ptr),
                           a.flags, a.mode);
      break;
    case OpKind::kUnlink:
      io_uring_prep_unlinkat(sqe, AT_FDCWD, static_cast<const char*>(a.ptr), 0);
      break;
    case OpKind::kRename:
      io_uring_prep_renameat(sqe, AT_FDCWD, static_cast<const char*>(a.ptr),
                             AT_FDCWD, static_cast<const char*>(a.ptr2), 0);
      break;
    case OpKind::kClose:
      io_uring_prep_close(sqe, a.fd);
      break;
    case OpKind::kPollIn:
      io_uring_prep_poll_add(sqe, a.fd, POLLIN);
      break;
    case OpKind::kPollOut:
      io_uring_prep_poll_add(sqe, a.fd, POLLOUT);
      break;
    case OpKind::kSleep:
      io_uring_prep_timeout(sqe, ts, 0, 0);
      break;
  }
}

}  // namespace

void Operation::await_suspend(std::coroutine_handle<> waiter) {
  waiter_ = waiter;
  const bool linked =
      args_.kind != OpKind::kSleep && timeout_ != absl::InfiniteDuration();
  if (args_.kind == OpKind::kSleep || linked) {
    timeout_spec_ = ToKernelTimespec(timeout_);
  }
  io_uring_sqe* sqe = ring_->GetSqe();
  PrepareSqe(sqe, args_, &timeout_spec_);
  io_uring_sqe_set_data(sqe, this);
  if (!linked) return;
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe* timeout_sqe = ring_->GetSqe();
  io_uring_prep_link_timeout(timeout_sqe, &timeout_spec_, 0);
  io_uring_sqe_set_data64(timeout_sqe, 0);
}

void Operation::Complete(int result, uint32_t flags) {
  result_ = result;
  flags_ = flags;
  waiter_.resume();
}

Ring::~Ring() {
  if (initialized_) io_uring_queue_exit(&ring_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status Ring::Init(unsigned entries) {
  io_uring_params params;
  memset(&params, 0, sizeof(params));
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_SUBMIT_ALL;
  int rc = io_uring_queue_init_params(entries, &ring_, &params);
  if (rc < 0) {
    return absl::InternalError(absl::StrCat(
        "io_uring_queue_init_params with SINGLE_ISSUER|DEFER_TASKRUN failed: ",
        strerror(-rc), " (needs Linux 6.1 or later)"));
  }
  initialized_ = true;
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return absl::InternalError(
        absl::StrCat("eventfd failed: ", strerror(errno)));
  }
  ArmWakeRead();
  return absl::OkStatus();
}

io_uring_sqe* Ring::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

Operation Ring::Accept(int fd) {
  return Operation(this, {.kind = OpKind::kAccept, .fd = fd},
                   absl::InfiniteDuration());
}

Operation Ring::Recv(int fd, void* buf, size_t len, absl::Duration timeout) {
  return Operation(
      this, {.kind = OpKind::kRecv, .fd = fd, .ptr = buf, .len = len}, timeout);
}

Operation Ring::Send(int fd, const void* buf, size_t len,
                     absl::Duration timeout) {
  return Operation(
      this, {.kind = OpKind::kSend, .fd = fd, .ptr = buf, .len = len}, timeout);
}

Operation Ring::SendMsg(int fd, const msghdr* msg, absl::Duration timeout) {
  return Operation(this, {.kind = OpKind::kSendMsg, .fd = fd, .ptr = msg},
                   timeout);
}

Operation Ring::Connect(int fd, const sockaddr* addr, socklen_t len,
                        absl::Duration timeout) {
  return Operation(
      this, {.kind = OpKind::kConnect, .fd = fd, .ptr = addr, .len = len},
      timeout);
}

Operation Ring::Writev(int fd, const iovec* iov, int count, uint64_t offset) {
  return Operation(this,
                   {.kind = OpKind::kWritev,
                    .fd = fd,
                    .ptr = iov,
                    .len = static_cast<uint64_t>(count),
                    .offset = offset},
                   absl::InfiniteDuration());
}

Operation Ring::Read(int fd, void* buf, size_t len, uint64_t offset) {
  return Operation(this,
                   {.kind = OpKind::kRead,
                    .fd = fd,
                    .ptr = buf,
                    .len = len,
                    .offset = offset},
                   absl::InfiniteDuration());
}

Operation Ring::Fdatasync(int fd) {
  return Operation(this, {.kind = OpKind::kFdatasync, .fd = fd},
                   absl::InfiniteDuration());
}

Operation Ring::OpenAt(const char* path, int flags, mode_t mode) {
  return Operation(
      this,
      {.kind = OpKind::kOpenAt, .ptr = path, .flags = flags, .mode = mode},
      absl::InfiniteDuration());
}

Operation Ring::Unlink(const char* path) {
  return Operation(this, {.kind = OpKind::kUnlink, .ptr = path},
                   absl::InfiniteDuration());
}

Operation Ring::Rename(const char* from, const char* to) {
  return Operation(this, {.kind = OpKind::kRename, .ptr = from, .ptr2 = to},
                   absl::InfiniteDuration());
}

Operation Ring::Close(int fd) {
  return Operation(this, {.kind = OpKind::kClose, .fd = fd},
                   absl::InfiniteDuration());
}

Operation Ring::PollIn(int fd, absl::Duration timeout) {
  return Operation(this, {.kind = OpKind::kPollIn, .fd = fd}, timeout);
}

Operation Ring::PollOut(int fd, absl::Duration timeout) {
  return Operation(this, {.kind = OpKind::kPollOut, .fd = fd}, timeout);
}

Operation Ring::Sleep(absl::Duration delay) {
  return Operation(this, {.kind = OpKind::kSleep}, delay);
}

void Ring::Cancel(Operation* op) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel(sqe, op, 0);
  io_uring_sqe_set_data64(sqe, 0);
}

void Ring::AddBeforeSubmitHook(std::function<void()> hook) {
  before_submit_hooks_.push_back(std::move(hook));
}

void Ring::SetWakeHandler(std::function<void()> on_wake) {
  on_wake_ = std::move(on_wake);
}

void Ring::Wake() {
  const uint64_t one = 1;
  // A full eventfd counter (EAGAIN) already guarantees a wake-up.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void Ring::ArmWakeRead() {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data(sqe, &wake_marker_);
}

void Ring::Dispatch(io_uring_cqe* cqe) {
  void* data = io_uring_cqe_get_data(cqe);
  if (data == nullptr) return;
  if (data == &wake_marker_) {
    ArmWakeRead();
    if (on_wake_) on_wake_();
    return;
  }
  static_cast<Operation*>(data)->Complete(cqe->res, cqe->flags);
}

void Ring::Run() {
  stopping_ = false;
  while (!stopping_) {
    for (auto& hook : before_submit_hooks_) hook();
    int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      // Nothing can be submitted or reaped: the ring is unusable.
      fprintf(stderr, "io_uring_submit_and_wait failed: %s\n", strerror(-rc));
      std::abort();
    }
    // Completions may resume coroutines that submit more; reap in batches.
    io_uring_cqe* cqes[256];
    unsigned count;
    while ((count = io_uring_peek_batch_cqe(&ring_, cqes, 256)) > 0) {
      for (unsigned i = 0; i < count; ++i) {
        io_uring_cqe cqe = *cqes[i];
        io_uring_cqe_seen(&ring_, cqes[i]);
        Dispatch(&cqe);
      }
    }
  }
}

}  // namespace ferry::io
