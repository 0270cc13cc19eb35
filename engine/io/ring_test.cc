#include "engine/io/ring.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

#include "engine/io/iovec.h"
#include "engine/io/log_writer.h"
#include "engine/io/probe.h"
#include "engine/io/task.h"
#include "gtest/gtest.h"

namespace ferry::io {
namespace {

TEST(Probe, RequiredOperationsPresent) {
  EXPECT_TRUE(ProbeRequiredOperations().ok());
}

Task<int> Double(int x) { co_return 2 * x; }

TEST(Task, AwaitsNestedTask) {
  int result = 0;
  bool done = false;
  Spawn([](int* out, bool* finished) -> Task<void> {
    *out = co_await Double(21);
    *finished = true;
  }(&result, &done));
  EXPECT_TRUE(done);
  EXPECT_EQ(result, 42);
}

TEST(Ring, RecvReturnsBytesSent) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string got;
  Spawn([](Ring* r, int fd, std::string* out) -> Task<void> {
    char buf[16];
    int n = co_await r->Recv(fd, buf, sizeof(buf), absl::Seconds(5));
    if (n > 0) out->assign(buf, n);
    r->Stop();
  }(&ring, fds[0], &got));
  ASSERT_EQ(write(fds[1], "hello", 5), 5);
  ring.Run();
  EXPECT_EQ(got, "hello");
  close(fds[0]);
  close(fds[1]);
}

TEST(Ring, RecvTimesOutWithCanceled) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  int result = 0;
  Spawn([](Ring* r, int fd, int* out) -> Task<void> {
    char buf[16];
    *out = co_await r->Recv(fd, buf, sizeof(buf), absl::Milliseconds(20));
    r->Stop();
  }(&ring, fds[0], &result));
  ring.Run();
  EXPECT_EQ(result, -ECANCELED);
  close(fds[0]);
  close(fds[1]);
}

TEST(Ring, WritevThenFdatasync) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  char path[] = "/tmp/ferry-ring-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  int written = 0, synced = -1;
  Spawn([](Ring* r, int f, int* w, int* s) -> Task<void> {
    iovec iov[2] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>("cd"), 2}};
    *w = co_await r->Writev(f, iov, 2, 0);
    *s = co_await r->Fdatasync(f);
    r->Stop();
  }(&ring, fd, &written, &synced));
  ring.Run();
  EXPECT_EQ(written, 4);
  EXPECT_EQ(synced, 0);
  char buf[8] = {};
  EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 4);
  EXPECT_EQ(std::string(buf), "abcd");
  close(fd);
  unlink(path);
}

TEST(Ring, WakeRunsHandlerOnRingThread) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  int calls = 0;
  ring.SetWakeHandler([&] {
    ++calls;
    ring.Stop();
  });
  ring.Wake();
  ring.Run();
  EXPECT_EQ(calls, 1);
}

TEST(RingLogWriter, WritesLinesThroughRing) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    RingLogWriter writer(&ring, fds[1]);
    writer.Write("first line\n");
    writer.Write("second line\n");
    Spawn([](Ring* r) -> Task<void> {
      // One loop iteration submits the write; the sleep lets it finish.
      co_await r->Sleep(absl::Milliseconds(20));
      r->Stop();
    }(&ring));
    ring.Run();
    char buf[64] = {};
    const ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "first line\nsecond line\n");
    writer.Write("after stop\n");
  }
  // The destructor writes what the ring did not.
  char buf[64] = {};
  const ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "after stop\n");
  close(fds[0]);
  close(fds[1]);
}

// Returns the bytes waiting in the pipe, or "" when there are none.
std::string ReadAvailable(int fd) {
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : "";
}

TEST(RingLogWriter, WritesAtMostOncePerInterval) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  RingLogWriter writer(&ring, fds[1]);
  // The first write cannot start before this, so the second cannot start
  // before it plus the interval, however slowly the test runs.
  const absl::Time before_first = absl::Now();
  writer.Write("first\n");

  std::string first;
  std::string second;
  absl::Time second_at;
  Spawn([](Ring* r, RingLogWriter* w, int fd, std::string* one,
           std::string* two, absl::Time* two_at) -> Task<void> {
    const absl::Time give_up_first = absl::Now() + absl::Seconds(10);
    while (one->empty() && absl::Now() < give_up_first) {
      co_await r->Sleep(absl::Milliseconds(1));
      *one = ReadAvailable(fd);
    }
    w->Write("second\n");
    w->Write("third\n");
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (two->empty() && absl::Now() < give_up) {
      co_await r->Sleep(absl::Milliseconds(1));
      *two = ReadAvailable(fd);
    }
    *two_at = absl::Now();
    r->Stop();
  }(&ring, &writer, fds[0], &first, &second, &second_at));
  ring.Run();

  EXPECT_EQ(first, "first\n");
  EXPECT_EQ(second, "second\nthird\n");
  EXPECT_GE(second_at - before_first, RingLogWriter::kWriteInterval);
  close(fds[0]);
  close(fds[1]);
}

TEST(RingLogWriter, DropsLinesPastBufferLimit) {
  Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  RingLogWriter writer(&ring, fds[1]);
  const std::string line(1024, 'x');
  const size_t fit = RingLogWriter::kMaxBufferedBytes / line.size();
  for (size_t i = 0; i < fit + 10; ++i) writer.Write(line);
  EXPECT_EQ(writer.dropped_lines(), 10u);
  close(fds[0]);  // the destructor's write then fails instead of blocking
  signal(SIGPIPE, SIG_IGN);
}

TEST(ConsumeIovecs, SkipsWholeAndShortensPartial) {
  char a[4], b[6], c[3];
  std::vector<iovec> iov = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
  size_t first = 0;
  ConsumeIovecs(&iov, &first, 6);
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(iov[1].iov_base, static_cast<void*>(b + 2));
  EXPECT_EQ(iov[1].iov_len, 4u);
  ConsumeIovecs(&iov, &first, 4);
  EXPECT_EQ(first, 2u);
  EXPECT_EQ(iov[2].iov_len, 3u);
  ConsumeIovecs(&iov, &first, 3);
  EXPECT_EQ(first, 3u);
}

}  // namespace
}  // namespace ferry::io
