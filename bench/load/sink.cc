// ferry-bench-sink: an SMTP server on io_uring that accepts every message,
// checks the X-Ferry-Bench field that the driver adds (bench_message.h),
// and discards the message. See kUsage for the options and the output.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load/bench_message.h"
#include "bench/load/flags.h"
#include "bench/load/wire.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"

namespace ferry::bench {
namespace {

constexpr char kUsage[] = R"(NAME
    ferry-bench-sink - accept SMTP mail, check it and discard it

SYNOPSIS
    sink --listen=IP:PORT [--threads=N] [--stats-file=PATH]
         [--idle-timeout=SECONDS] [--json]
    sink --help

DESCRIPTION
    Listens on --listen and answers every SMTP session: EHLO advertises
    PIPELINING and 8BITMIME, and MAIL, RCPT, RSET and NOOP get 250, DATA
    gets 354, and the end of data gets 250. Commands that arrive together
    are answered with one write. Nothing is stored.

    Each message is checked for the X-Ferry-Bench field that the load
    driver adds:
        X-Ferry-Bench: RUN-ID SEQUENCE CRC32C
    The CRC-32C covers the body (everything after the first empty line,
    in transfer form), so a relay may add header fields such as Received:
    above it. A message is intact when the CRC matches, corrupt when it
    does not, and unverified when the field is missing or malformed (for
    example a DSN from the relay). A RUN-ID and SEQUENCE pair seen before
    counts as a duplicate.

    Each thread has its own io_uring and its own listening socket on the
    same address (SO_REUSEPORT); the kernel spreads connections over them.

OPTIONS
    --listen=IP:PORT
        Address to accept SMTP connections on. IPv4 only. Required.
    --threads=N
        Threads, each with its own io_uring. Default 1.
    --stats-file=PATH
        Rewrite PATH once a second, and at exit, with the counters as one
        JSON object (written to PATH.tmp, then renamed).
    --idle-timeout=SECONDS
        Close a session that sends nothing for this long. Default 300.
    --json
        Print the report at exit as one JSON object instead of text.
    --help
        Print this manual and exit.

SIGNALS
    SIGTERM, SIGINT
        Write the stats file, print the report and exit with status 0.

OUTPUT
    The counters: messages (all received), intact, corrupt, unverified,
    duplicates, octets received in messages, sessions accepted, and the
    wall-clock times of the first and the last message as Unix seconds
    (first_unix, last_unix).

EXIT STATUS
    0   stopped by a signal
    2   invalid options, or the address could not be bound

EXAMPLES
    sink --listen=127.0.0.1:2600 --stats-file=/tmp/sink.json
)";

// Counters shared by every thread.
struct SinkStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> intact{0};
  std::atomic<uint64_t> corrupt{0};
  std::atomic<uint64_t> unverified{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> sessions{0};
  std::atomic<int64_t> first_unix_ns{0};
  std::atomic<int64_t> last_unix_ns{0};

  absl::Mutex mutex;
  absl::flat_hash_set<std::pair<uint64_t, uint64_t>> seen
      ABSL_GUARDED_BY(mutex);
};

struct SinkOptions {
  sockaddr_in listen{};
  int threads = 1;
  std::string stats_file;
  absl::Duration idle_timeout = absl::Seconds(300);
  bool json = false;
};

void CountMessage(SinkStats* stats, absl::string_view message) {
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t zero = 0;
  stats->first_unix_ns.compare_exchange_strong(zero, now);
  stats->last_unix_ns.store(now);
  stats->messages.fetch_add(1);
  stats->bytes.fetch_add(message.size());
  const CheckResult result = CheckMessage(message);
  if (result.verdict == Verdict::kUnverified) {
    stats->unverified.fetch_add(1);
    return;
  }
  (result.verdict == Verdict::kIntact ? stats->intact : stats->corrupt)
      .fetch_add(1);
  absl::MutexLock lock(&stats->mutex);
  if (!stats->seen.insert({result.run_id, result.sequence}).second) {
    stats->duplicates.fetch_add(1);
  }
}

// One SMTP server session. Handles every complete line in the buffer,
// then sends the collected replies in one write.
class SinkSession {
 public:
  SinkSession(io::Ring* ring, int fd, SinkStats* stats,
              absl::Duration idle_timeout)
      : ring_(ring), fd_(fd), stats_(stats), reader_(ring, fd, idle_timeout) {}

  io::Task<void> Run();

 private:
  enum class State { kCommand, kData, kQuit };

  // Handles what the buffer holds. Returns false when more input is needed.
  bool Step();
  bool StepCommand();
  bool StepData();
  void HandleCommand(absl::string_view line);

  io::Ring* ring_;
  int fd_;
  SinkStats* stats_;
  SocketReader reader_;
  State state_ = State::kCommand;
  size_t data_scanned_ = 0;  // buffer offset where the end search resumes
  std::string replies_;
};

io::Task<void> SinkSession::Run() {
  replies_ = "220 sink.example.com ESMTP ferry-bench-sink\r\n";
  while (state_ != State::kQuit) {
    while (Step()) {
    }
    if (!replies_.empty()) {
      std::vector<iovec> iov = {{replies_.data(), replies_.size()}};
      const int sent =
          co_await SendAll(ring_, fd_, std::move(iov), absl::Seconds(30));
      replies_.clear();
      if (sent < 0) break;
    }
    if (state_ == State::kQuit) break;
    const int n = co_await reader_.Fill();
    if (n <= 0) break;
  }
  close(fd_);
}

bool SinkSession::Step() {
  switch (state_) {
    case State::kCommand:
      return StepCommand();
    case State::kData:
      return StepData();
    case State::kQuit:
      return false;
  }
  return false;
}

bool SinkSession::StepCommand() {
  std::string& buffer = reader_.buffer();
  const size_t end = buffer.find("\r\n");
  if (end == std::string::npos) return false;
  HandleCommand(absl::string_view(buffer).substr(0, end));
  buffer.erase(0, end + 2);
  return state_ != State::kQuit;
}

bool SinkSession::StepData() {
  std::string& buffer = reader_.buffer();
  // Content that is only the end-of-data line: an empty message.
  if (data_scanned_ == 0 && buffer.compare(0, 3, ".\r\n") == 0) {
    CountMessage(stats_, "");
    buffer.erase(0, 3);
    replies_ += "250 2.0.0 Ok: discarded\r\n";
    state_ = State::kCommand;
    return true;
  }
  const size_t from = data_scanned_ > 4 ? data_scanned_ - 4 : 0;
  const size_t end = buffer.find("\r\n.\r\n", from);
  if (end == std::string::npos) {
    data_scanned_ = buffer.size();
    return false;
  }
  CountMessage(stats_, absl::string_view(buffer).substr(0, end + 2));
  buffer.erase(0, end + 5);
  replies_ += "250 2.0.0 Ok: discarded\r\n";
  state_ = State::kCommand;
  return true;
}

void SinkSession::HandleCommand(absl::string_view line) {
  const std::string verb = absl::AsciiStrToUpper(line.substr(0, 4));
  if (verb == "EHLO") {
    replies_ +=
        "250-sink.example.com\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
        "250 ENHANCEDSTATUSCODES\r\n";
  } else if (verb == "HELO") {
    replies_ += "250 sink.example.com\r\n";
  } else if (verb == "MAIL" || verb == "RCPT" || verb == "RSET" ||
             verb == "NOOP") {
    replies_ += "250 2.0.0 Ok\r\n";
  } else if (verb == "DATA") {
    replies_ += "354 End data with <CR><LF>.<CR><LF>\r\n";
    state_ = State::kData;
    data_scanned_ = 0;
  } else if (verb == "QUIT") {
    replies_ += "221 2.0.0 Bye\r\n";
    state_ = State::kQuit;
  } else {
    replies_ += "502 5.5.2 Command not implemented\r\n";
  }
}

io::Task<void> ServeSession(io::Ring* ring, int fd, SinkStats* stats,
                            absl::Duration idle_timeout) {
  SinkSession session(ring, fd, stats, idle_timeout);
  co_await session.Run();
}

io::Task<void> AcceptLoop(io::Ring* ring, int listen_fd, SinkStats* stats,
                          absl::Duration idle_timeout) {
  while (true) {
    const int fd = co_await ring->Accept(listen_fd);
    if (fd < 0) {
      if (fd == -EMFILE || fd == -ENFILE) {
        co_await ring->Sleep(absl::Milliseconds(10));
      }
      continue;
    }
    stats->sessions.fetch_add(1);
    io::Spawn(ServeSession(ring, fd, stats, idle_timeout));
  }
}

// Returns a listening socket bound to `address` with SO_REUSEPORT, or a
// negative errno.
int Listen(const sockaddr_in& address) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
          0 ||
      listen(fd, 4096) != 0) {
    const int error = errno;
    close(fd);
    return -error;
  }
  return fd;
}

void RunThread(int listen_fd, SinkStats* stats, absl::Duration idle_timeout) {
  io::Ring ring;
  const absl::Status init = ring.Init(1024);
  if (!init.ok()) {
    fprintf(stderr, "sink: %s\n", std::string(init.message()).c_str());
    std::_Exit(2);
  }
  io::Spawn(AcceptLoop(&ring, listen_fd, stats, idle_timeout));
  ring.Run();
}

std::string StatsJson(const SinkStats& stats) {
  return absl::StrFormat(
      "{\"messages\":%d,\"intact\":%d,\"corrupt\":%d,\"unverified\":%d,"
      "\"duplicates\":%d,\"bytes\":%d,\"sessions\":%d,\"first_unix\":%.6f,"
      "\"last_unix\":%.6f}",
      stats.messages.load(), stats.intact.load(), stats.corrupt.load(),
      stats.unverified.load(), stats.duplicates.load(), stats.bytes.load(),
      stats.sessions.load(), stats.first_unix_ns.load() / 1e9,
      stats.last_unix_ns.load() / 1e9);
}

void WriteStatsFile(const std::string& path, const SinkStats& stats) {
  if (path.empty()) return;
  const std::string temporary = path + ".tmp";
  FILE* file = fopen(temporary.c_str(), "w");
  if (file == nullptr) {
    fprintf(stderr, "sink: cannot write %s: %s\n", temporary.c_str(),
            strerror(errno));
    return;
  }
  fprintf(file, "%s\n", StatsJson(stats).c_str());
  fclose(file);
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    fprintf(stderr, "sink: cannot rename %s to %s: %s\n", temporary.c_str(),
            path.c_str(), strerror(errno));
  }
}

void PrintReport(const SinkOptions& options, const SinkStats& stats) {
  if (options.json) {
    printf("%s\n", StatsJson(stats).c_str());
  } else {
    printf(
        "messages     %d received: %d intact, %d corrupt, %d unverified, "
        "%d duplicates\n",
        static_cast<int>(stats.messages.load()),
        static_cast<int>(stats.intact.load()),
        static_cast<int>(stats.corrupt.load()),
        static_cast<int>(stats.unverified.load()),
        static_cast<int>(stats.duplicates.load()));
    printf("octets       %lu in messages, %lu sessions\n",
           static_cast<unsigned long>(stats.bytes.load()),
           static_cast<unsigned long>(stats.sessions.load()));
  }
  fflush(stdout);
}

absl::StatusOr<SinkOptions> ParseOptions(const Flags& flags) {
  SinkOptions options;
  if (!flags.Has("listen")) {
    return absl::InvalidArgumentError("--listen=IP:PORT is required");
  }
  absl::StatusOr<sockaddr_in> endpoint =
      ParseEndpoint(*flags.String("listen", ""));
  if (!endpoint.ok()) return endpoint.status();
  options.listen = *endpoint;
  absl::StatusOr<int64_t> threads = flags.Int("threads", 1);
  if (!threads.ok()) return threads.status();
  if (*threads < 1 || *threads > 256) {
    return absl::InvalidArgumentError("--threads must be 1 to 256");
  }
  absl::StatusOr<double> idle = flags.Double("idle-timeout", 300);
  if (!idle.ok()) return idle.status();
  if (*idle <= 0) {
    return absl::InvalidArgumentError("--idle-timeout must be positive");
  }
  options.threads = static_cast<int>(*threads);
  options.idle_timeout = absl::Seconds(*idle);
  options.stats_file = *flags.String("stats-file", "");
  options.json = flags.Has("json");
  return options;
}

int Main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = Flags::Parse(
      argc, argv,
      {"listen", "threads", "stats-file", "idle-timeout", "json", "help"});
  if (flags.ok() && flags->Has("help")) {
    fputs(kUsage, stdout);
    return 0;
  }
  absl::StatusOr<SinkOptions> options =
      flags.ok() ? ParseOptions(*flags) : flags.status();
  if (!options.ok()) {
    fprintf(stderr, "sink: %s\n",
            std::string(options.status().message()).c_str());
    return 2;
  }
  // Block the stop signals in every thread; the main thread takes them
  // with sigtimedwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::vector<int> listeners;
  for (int t = 0; t < options->threads; ++t) {
    const int fd = Listen(options->listen);
    if (fd < 0) {
      fprintf(stderr, "sink: cannot listen on %s: %s\n",
              FormatEndpoint(options->listen).c_str(), strerror(-fd));
      return 2;
    }
    listeners.push_back(fd);
  }
  static SinkStats stats;
  for (int fd : listeners) {
    std::thread(RunThread, fd, &stats, options->idle_timeout).detach();
  }
  WriteStatsFile(options->stats_file, stats);
  const timespec second{.tv_sec = 1, .tv_nsec = 0};
  while (sigtimedwait(&stop_signals, nullptr, &second) < 0) {
    WriteStatsFile(options->stats_file, stats);
  }
  WriteStatsFile(options->stats_file, stats);
  PrintReport(*options, stats);
  // The ring threads never return; end the process without joining them.
  std::_Exit(0);
}

}  // namespace
}  // namespace ferry::bench

int main(int argc, char** argv) { return ferry::bench::Main(argc, argv); }
