// ferry-bench-driver: an SMTP load generator on io_uring. It opens N
// sessions, sends test messages (see bench_message.h) with PIPELINING, and
// reports throughput and the latency from the end-of-data line to its 250
// reply. See kUsage for the options and the output.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/load/bench_message.h"
#include "bench/load/flags.h"
#include "bench/load/wire.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"

namespace ferry::bench {
namespace {

constexpr char kUsage[] = R"(NAME
    ferry-bench-driver - send SMTP test messages and measure the relay

SYNOPSIS
    driver --server=IP:PORT [--sessions=N] [--threads=N] [--size=OCTETS]
           [--count=N] [--duration=SECONDS] [--rate=MESSAGES_PER_SECOND]
           [--from=ADDRESS] [--to=ADDRESS] [--helo=NAME]
           [--reply-timeout=SECONDS] [--run-id=HEX] [--json]
    driver --help

DESCRIPTION
    Opens --sessions SMTP sessions to --server over loopback TCP, spread
    over --threads threads with one io_uring each. Each session sends EHLO
    and then one transaction after another: MAIL, RCPT and DATA in one
    write, then, after the 354 reply, the message and its end-of-data line.
    Without --rate the next transaction's MAIL, RCPT and DATA go in the
    same write as the end-of-data line (RFC 2920 PIPELINING), so a session
    waits for one round trip per message.

    Every message has a header field
        X-Ferry-Bench: RUN-ID SEQUENCE CRC32C
    with the CRC-32C of its body, which the sink checks. Sequence numbers
    run from 0 and are unique within a run.

    Closed loop (no --rate): every session sends its next message as soon
    as the previous one is answered. Latency is measured from sending the
    end-of-data line to receiving its reply.

    Open loop (--rate=R): message K is due at start + K/R seconds. An idle
    session takes the next message that is due, sends its MAIL, RCPT and
    DATA at once, and sends the content when the message is due. Latency
    is measured from the due time, not from the actual send, so a relay
    that stalls is charged for the messages that queue up behind the stall
    (no coordinated omission). Give enough sessions for the rate.

OPTIONS
    --server=IP:PORT
        The SMTP server to test. IPv4 only. Required.
    --sessions=N
        Concurrent SMTP sessions. Default 16.
    --threads=N
        Threads, each with its own io_uring and an equal share of the
        sessions and of --rate. Default 1.
    --size=OCTETS
        Approximate message size in octets; a K or M suffix multiplies by
        1024 or 1048576. Default 10K.
    --count=N
        Send N messages in total, then end. Default 10000 when --duration
        is not given.
    --duration=SECONDS
        Start no message after this many seconds. With --count too, the
        run ends at whichever limit comes first.
    --rate=MESSAGES_PER_SECOND
        Offered load for an open-loop run. Default 0: closed loop.
    --from=ADDRESS, --to=ADDRESS
        Envelope sender and recipient, also used in From: and To:.
        Defaults bench@example.com and bench@example.net.
    --helo=NAME
        EHLO argument. Default driver.example.com.
    --reply-timeout=SECONDS
        Longest wait for a connection, a reply or a send. A session that
        times out counts an I/O error and ends. Default 30.
    --run-id=HEX
        Run ID in the X-Ferry-Bench field. Default: random.
    --json
        Print the report as one JSON object instead of text.
    --help
        Print this manual and exit.

OUTPUT
    On standard output: messages accepted (250 after the end of data),
    rejected (any other reply to MAIL, RCPT, DATA or the end of data),
    connection errors and I/O errors (timeouts, resets, malformed replies);
    the elapsed time from the first message sent to the last reply;
    accepted messages and octets per second; and the latency percentiles
    p50, p99 and p99.9 and the maximum, in microseconds.

EXIT STATUS
    0   every message was accepted
    1   some message was rejected or hit an error
    2   invalid options

EXAMPLES
    driver --server=127.0.0.1:2600 --sessions=32 --size=10K --duration=10
    driver --server=127.0.0.1:2600 --rate=2000 --sessions=64 --count=20000
)";

using Clock = std::chrono::steady_clock;

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

struct DriverOptions {
  sockaddr_in server{};
  int sessions = 16;
  int threads = 1;
  int64_t size = 10 << 10;
  int64_t count = 0;      // 0: no count limit
  double duration_s = 0;  // 0: no time limit
  double rate = 0;        // 0: closed loop
  std::string from = "bench@example.com";
  std::string to = "bench@example.net";
  std::string helo = "driver.example.com";
  absl::Duration reply_timeout = absl::Seconds(30);
  uint64_t run_id = 0;
  bool json = false;
};

// What one thread measured.
struct ThreadResult {
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t connect_errors = 0;
  uint64_t io_errors = 0;
  uint64_t bytes = 0;
  int64_t first_send_ns = INT64_MAX;
  int64_t last_reply_ns = 0;
  std::vector<int64_t> latencies_ns;
};

// One message to send: its global sequence number and due time.
struct Slot {
  uint64_t sequence = 0;
  int64_t due_ns = 0;  // open loop only
};

// Hands out this thread's messages: sequence numbers thread, thread +
// threads, thread + 2 * threads, and so on.
class Schedule {
 public:
  Schedule(const DriverOptions& options, int thread, int64_t start_ns)
      : options_(options), thread_(thread), start_ns_(start_ns) {}

  std::optional<Slot> Claim() {
    const uint64_t sequence = next_ * options_.threads + thread_;
    if (options_.count > 0 &&
        sequence >= static_cast<uint64_t>(options_.count)) {
      return std::nullopt;
    }
    Slot slot{.sequence = sequence};
    int64_t offset_ns = NowNanos() - start_ns_;
    if (options_.rate > 0) {
      offset_ns = static_cast<int64_t>(sequence * 1e9 / options_.rate);
      slot.due_ns = start_ns_ + offset_ns;
    }
    if (options_.duration_s > 0 && offset_ns >= options_.duration_s * 1e9) {
      return std::nullopt;
    }
    ++next_;
    return slot;
  }

 private:
  const DriverOptions& options_;
  const int thread_;
  const int64_t start_ns_;
  uint64_t next_ = 0;
};

// State shared by the sessions of one thread.
struct ThreadContext {
  const DriverOptions* options = nullptr;
  const MessageTemplate* message = nullptr;
  io::Ring* ring = nullptr;
  Schedule* schedule = nullptr;
  std::string envelope;  // MAIL, RCPT and DATA lines
  int active_sessions = 0;
  ThreadResult result;
};

enum class EnvelopeResult { kOpen, kRejected, kBroken };

// Reads the replies to MAIL, RCPT and DATA.
io::Task<EnvelopeResult> ReadEnvelopeReplies(SocketReader* reader) {
  bool rejected = false;
  for (int expected : {250, 250, 354}) {
    const int code = co_await reader->ReadReply();
    if (code < 0) co_return EnvelopeResult::kBroken;
    const bool matches = code / 100 == expected / 100;
    if (!matches) rejected = true;
  }
  co_return rejected ? EnvelopeResult::kRejected : EnvelopeResult::kOpen;
}

io::Task<int> SendText(ThreadContext* context, int fd, absl::string_view text) {
  std::vector<iovec> iov = {{const_cast<char*>(text.data()), text.size()}};
  const int rc = co_await SendAll(context->ring, fd, std::move(iov),
                                  context->options->reply_timeout);
  co_return rc;
}

// Reads the greeting and sends EHLO. Returns false when the session
// cannot go on (the error is counted).
io::Task<bool> Greet(ThreadContext* context, int fd, SocketReader* reader) {
  const int greeting = co_await reader->ReadReply();
  if (greeting != 220) {
    ++(greeting < 0 ? context->result.io_errors : context->result.rejected);
    co_return false;
  }
  const std::string ehlo =
      absl::StrCat("EHLO ", context->options->helo, "\r\n");
  const int sent = co_await SendText(context, fd, ehlo);
  if (sent < 0) {
    ++context->result.io_errors;
    co_return false;
  }
  const int code = co_await reader->ReadReply();
  if (code != 250) {
    ++(code < 0 ? context->result.io_errors : context->result.rejected);
    co_return false;
  }
  co_return true;
}

// Sends the content of `slot` and the end-of-data line, followed by
// `after` in the same write, and records the reply. Returns false when
// the connection broke.
io::Task<bool> SendMessage(ThreadContext* context, int fd, SocketReader* reader,
                           const Slot& slot, std::string after) {
  const std::string head =
      context->message->Head(context->options->run_id, slot.sequence);
  const std::string& filler = context->message->Filler();
  const std::string tail = ".\r\n" + after;
  std::vector<iovec> iov = {{const_cast<char*>(head.data()), head.size()},
                            {const_cast<char*>(filler.data()), filler.size()},
                            {const_cast<char*>(tail.data()), tail.size()}};
  ThreadResult& result = context->result;
  const int64_t send_ns = NowNanos();
  result.first_send_ns = std::min(result.first_send_ns, send_ns);
  const int sent = co_await SendAll(context->ring, fd, std::move(iov),
                                    context->options->reply_timeout);
  if (sent < 0) {
    ++result.io_errors;
    co_return false;
  }
  const int code = co_await reader->ReadReply();
  const int64_t reply_ns = NowNanos();
  if (code < 0) {
    ++result.io_errors;
    co_return false;
  }
  result.last_reply_ns = std::max(result.last_reply_ns, reply_ns);
  if (code / 100 != 2) {
    ++result.rejected;
    co_return true;
  }
  ++result.accepted;
  result.bytes += head.size() + filler.size();
  const int64_t from_ns = context->options->rate > 0 ? slot.due_ns : send_ns;
  result.latencies_ns.push_back(reply_ns - from_ns);
  co_return true;
}

// Waits until `due_ns` on the ring (open loop).
io::Task<void> WaitUntil(io::Ring* ring, int64_t due_ns) {
  const int64_t delay = due_ns - NowNanos();
  if (delay <= 0) co_return;
  co_await ring->Sleep(absl::Nanoseconds(delay));
}

// Runs transactions until the schedule has no message left or the
// connection breaks, then sends QUIT.
io::Task<void> RunTransactions(ThreadContext* context, int fd,
                               SocketReader* reader) {
  const bool pipeline_next = context->options->rate <= 0;
  std::optional<Slot> slot = context->schedule->Claim();
  if (slot.has_value()) {
    const int sent = co_await SendText(context, fd, context->envelope);
    if (sent < 0) slot.reset();
  }
  while (slot.has_value()) {
    const EnvelopeResult envelope = co_await ReadEnvelopeReplies(reader);
    if (envelope == EnvelopeResult::kBroken) {
      ++context->result.io_errors;
      co_return;
    }
    std::optional<Slot> next;
    if (envelope == EnvelopeResult::kRejected) {
      ++context->result.rejected;
      const int reset = co_await SendText(context, fd, "RSET\r\n");
      const int reset_code = co_await reader->ReadReply();
      if (reset < 0 || reset_code < 0) co_return;
    } else {
      co_await WaitUntil(context->ring, slot->due_ns);
      if (pipeline_next) next = context->schedule->Claim();
      // A temporary argument inside the co_await expression is destroyed
      // twice by GCC 12, so the argument is built first.
      std::string after;
      if (next.has_value()) after = context->envelope;
      const bool alive = co_await SendMessage(context, fd, reader, *slot,
                                              std::move(after));
      if (!alive) co_return;
    }
    if (!pipeline_next || envelope == EnvelopeResult::kRejected) {
      next = context->schedule->Claim();
      if (next.has_value()) {
        const int sent = co_await SendText(context, fd, context->envelope);
        if (sent < 0) co_return;
      }
    }
    slot = next;
  }
  const int quit = co_await SendText(context, fd, "QUIT\r\n");
  if (quit == 0) {
    const int code = co_await reader->ReadReply();
    (void)code;
  }
}

io::Task<void> RunSession(ThreadContext* context) {
  const int fd = co_await ConnectTcp(context->ring, context->options->server,
                                     context->options->reply_timeout);
  if (fd < 0) {
    ++context->result.connect_errors;
  } else {
    SocketReader reader(context->ring, fd, context->options->reply_timeout);
    const bool greeted = co_await Greet(context, fd, &reader);
    if (greeted) co_await RunTransactions(context, fd, &reader);
    close(fd);
  }
  if (--context->active_sessions == 0) context->ring->Stop();
}

void RunThread(const DriverOptions& options, const MessageTemplate& message,
               int thread, int sessions, int64_t start_ns,
               ThreadResult* result) {
  io::Ring ring;
  const absl::Status init = ring.Init(std::max(256, 8 * sessions));
  if (!init.ok()) {
    fprintf(stderr, "driver: %s\n", std::string(init.message()).c_str());
    result->connect_errors += sessions;
    return;
  }
  Schedule schedule(options, thread, start_ns);
  ThreadContext context;
  context.options = &options;
  context.message = &message;
  context.ring = &ring;
  context.schedule = &schedule;
  context.envelope = absl::StrCat("MAIL FROM:<", options.from, ">\r\nRCPT TO:<",
                                  options.to, ">\r\nDATA\r\n");
  context.active_sessions = sessions;
  if (sessions > 0) {
    for (int i = 0; i < sessions; ++i) io::Spawn(RunSession(&context));
    ring.Run();
  }
  *result = std::move(context.result);
}

absl::StatusOr<DriverOptions> ParseOptions(const Flags& flags) {
  DriverOptions options;
  if (!flags.Has("server")) {
    return absl::InvalidArgumentError("--server=IP:PORT is required");
  }
  absl::StatusOr<std::string> server = flags.String("server", "");
  absl::StatusOr<sockaddr_in> endpoint = ParseEndpoint(*server);
  if (!endpoint.ok()) return endpoint.status();
  options.server = *endpoint;
  absl::StatusOr<int64_t> sessions = flags.Int("sessions", 16);
  absl::StatusOr<int64_t> threads = flags.Int("threads", 1);
  absl::StatusOr<int64_t> size = flags.Size("size", 10 << 10);
  absl::StatusOr<int64_t> count = flags.Int("count", 0);
  absl::StatusOr<double> duration = flags.Double("duration", 0);
  absl::StatusOr<double> rate = flags.Double("rate", 0);
  absl::StatusOr<double> timeout = flags.Double("reply-timeout", 30);
  absl::StatusOr<std::string> run_id = flags.String("run-id", "");
  for (const absl::Status& status :
       {sessions.status(), threads.status(), size.status(), count.status(),
        duration.status(), rate.status(), timeout.status()}) {
    if (!status.ok()) return status;
  }
  if (*sessions < 1 || *threads < 1 || *threads > *sessions) {
    return absl::InvalidArgumentError(
        "--sessions and --threads must be at least 1, with no more threads "
        "than sessions");
  }
  if (*count < 0 || *duration < 0 || *rate < 0 || *timeout <= 0) {
    return absl::InvalidArgumentError(
        "--count, --duration and --rate must not be negative, and "
        "--reply-timeout must be positive");
  }
  options.sessions = static_cast<int>(*sessions);
  options.threads = static_cast<int>(*threads);
  options.size = *size;
  options.count = *count;
  options.duration_s = *duration;
  if (options.count == 0 && options.duration_s == 0) options.count = 10000;
  options.rate = *rate;
  options.reply_timeout = absl::Seconds(*timeout);
  options.from = *flags.String("from", options.from);
  options.to = *flags.String("to", options.to);
  options.helo = *flags.String("helo", options.helo);
  options.json = flags.Has("json");
  if (run_id->empty()) {
    options.run_id = std::random_device{}() & 0xffffffffu;
  } else if (!absl::SimpleHexAtoi(*run_id, &options.run_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value \"", *run_id, "\" for --run-id: expected hex digits"));
  }
  return options;
}

// Returns the q-quantile of sorted `values` (nearest rank), or 0.
double QuantileMicros(const std::vector<int64_t>& values, double q) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(q * values.size());
  rank = std::min(rank, values.size() - 1);
  return values[rank] / 1000.0;
}

void PrintReport(const DriverOptions& options, ThreadResult total) {
  std::sort(total.latencies_ns.begin(), total.latencies_ns.end());
  const double elapsed_s =
      total.last_reply_ns > total.first_send_ns
          ? (total.last_reply_ns - total.first_send_ns) / 1e9
          : 0;
  const double messages_per_s = elapsed_s > 0 ? total.accepted / elapsed_s : 0;
  const double bytes_per_s = elapsed_s > 0 ? total.bytes / elapsed_s : 0;
  const double p50 = QuantileMicros(total.latencies_ns, 0.50);
  const double p99 = QuantileMicros(total.latencies_ns, 0.99);
  const double p999 = QuantileMicros(total.latencies_ns, 0.999);
  const double max = QuantileMicros(total.latencies_ns, 1.0);
  const std::string server = FormatEndpoint(options.server);
  if (options.json) {
    printf(
        "{\"server\":\"%s\",\"sessions\":%d,\"threads\":%d,\"size\":%d,"
        "\"rate\":%.1f,\"run_id\":\"%x\",\"accepted\":%d,\"rejected\":%d,"
        "\"connect_errors\":%d,\"io_errors\":%d,\"elapsed_s\":%.3f,"
        "\"messages_per_s\":%.1f,\"bytes_per_s\":%.0f,"
        "\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
        "\"max\":%.1f}}\n",
        server.c_str(), options.sessions, options.threads,
        static_cast<int>(options.size), options.rate,
        static_cast<unsigned>(options.run_id), static_cast<int>(total.accepted),
        static_cast<int>(total.rejected),
        static_cast<int>(total.connect_errors),
        static_cast<int>(total.io_errors), elapsed_s, messages_per_s,
        bytes_per_s, p50, p99, p999, max);
    return;
  }
  printf("server       %s, %d sessions on %d threads, %s\n", server.c_str(),
         options.sessions, options.threads,
         options.rate > 0
             ? absl::StrFormat("open loop at %.0f/s", options.rate).c_str()
             : "closed loop");
  printf(
      "messages     %d accepted, %d rejected, %d connect errors, "
      "%d I/O errors\n",
      static_cast<int>(total.accepted), static_cast<int>(total.rejected),
      static_cast<int>(total.connect_errors),
      static_cast<int>(total.io_errors));
  printf("throughput   %.1f messages/s, %.2f MB/s over %.3f s\n",
         messages_per_s, bytes_per_s / 1e6, elapsed_s);
  printf(
      "latency      p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us "
      "(%s)\n",
      p50, p99, p999, max,
      options.rate > 0 ? "from the due time" : "end of data to reply");
}

int Main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = Flags::Parse(
      argc, argv,
      {"server", "sessions", "threads", "size", "count", "duration", "rate",
       "from", "to", "helo", "reply-timeout", "run-id", "json", "help"});
  if (flags.ok() && flags->Has("help")) {
    fputs(kUsage, stdout);
    return 0;
  }
  absl::StatusOr<DriverOptions> options =
      flags.ok() ? ParseOptions(*flags) : flags.status();
  if (!options.ok()) {
    fprintf(stderr, "driver: %s\n",
            std::string(options.status().message()).c_str());
    return 2;
  }
  const MessageTemplate message(options->size, options->from, options->to);
  const int64_t start_ns = NowNanos() + 100'000'000;  // after connecting
  std::vector<ThreadResult> results(options->threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < options->threads; ++t) {
    const int sessions = options->sessions / options->threads +
                         (t < options->sessions % options->threads ? 1 : 0);
    threads.emplace_back(RunThread, std::cref(*options), std::cref(message), t,
                         sessions, start_ns, &results[t]);
  }
  ThreadResult total;
  for (int t = 0; t < options->threads; ++t) {
    threads[t].join();
    const ThreadResult& r = results[t];
    total.accepted += r.accepted;
    total.rejected += r.rejected;
    total.connect_errors += r.connect_errors;
    total.io_errors += r.io_errors;
    total.bytes += r.bytes;
    total.first_send_ns = std::min(total.first_send_ns, r.first_send_ns);
    total.last_reply_ns = std::max(total.last_reply_ns, r.last_reply_ns);
    total.latencies_ns.insert(total.latencies_ns.end(), r.latencies_ns.begin(),
                              r.latencies_ns.end());
  }
  const bool clean =
      total.rejected == 0 && total.connect_errors == 0 && total.io_errors == 0;
  PrintReport(*options, std::move(total));
  return clean ? 0 : 1;
}

}  // namespace
}  // namespace ferry::bench

int main(int argc, char** argv) { return ferry::bench::Main(argc, argv); }
