// Benchmarks for SpoolWriter::Append() with group commit on a real
// io_uring and a real file system: each iteration starts N appends in one
// loop iteration and runs the ring until all of them are durable.
//
// The spool goes to a new folder under $FERRY_BENCH_DIR, else /var/tmp,
// and is removed at the end. Results depend on the device: on tmpfs
// fdatasync costs nothing.
#include <sys/uio.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"
#include "engine/spool/record.h"
#include "engine/spool/spool_writer.h"

namespace ferry::spool {
namespace {

std::string MakeSpoolDir() {
  const char* base = std::getenv("FERRY_BENCH_DIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/var/tmp", "/ferry-bench-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

struct BatchState {
  int remaining = 0;
  int failed = 0;
  io::Ring* ring = nullptr;
};

io::Task<void> AppendOne(SpoolWriter* writer, const std::string* prefix,
                         const std::string* body, BatchState* batch) {
  std::vector<iovec> parts = {
      {const_cast<char*>(prefix->data()), prefix->size()},
      {const_cast<char*>(body->data()), body->size()}};
  absl::StatusOr<RecordLocation> location =
      co_await writer->Append(std::move(parts));
  if (!location.ok()) ++batch->failed;
  if (--batch->remaining == 0) batch->ring->Stop();
}

// state.range(0): concurrent appends per batch. state.range(1): body size.
// Reports messages/s and fdatasync calls per message.
void BM_SpoolAppendGroupCommit(benchmark::State& state) {
  const int concurrency = static_cast<int>(state.range(0));
  const std::string body(state.range(1), 'x');
  const std::string dir = MakeSpoolDir();
  io::Ring ring;
  if (dir.empty() || !ring.Init(1024).ok()) {
    state.SkipWithError("cannot create the spool folder or the ring");
    return;
  }
  Envelope envelope;
  envelope.queue_id = "CREH7RF426G000";
  envelope.sender = "alice@example.com";
  envelope.recipients.push_back({"bob@example.net", "", ""});
  const std::vector<iovec> body_iov = {
      {const_cast<char*>(body.data()), body.size()}};
  const std::string prefix = *EncodeMessagePrefix(envelope, body_iov);
  int failed = 0;
  {
    SpoolWriter writer(&ring, dir + "/w0", 64 << 20);
    if (!writer.Open(1).ok()) {
      state.SkipWithError("SpoolWriter::Open failed");
      return;
    }
    for (auto _ : state) {
      BatchState batch{.remaining = concurrency, .ring = &ring};
      for (int i = 0; i < concurrency; ++i) {
        io::Spawn(AppendOne(&writer, &prefix, &body, &batch));
      }
      ring.Run();
      failed += batch.failed;
    }
    const double messages =
        static_cast<double>(state.iterations()) * concurrency;
    state.counters["msgs_per_s"] =
        benchmark::Counter(messages, benchmark::Counter::kIsRate);
    state.counters["fdatasync_per_msg"] =
        static_cast<double>(writer.fdatasync_count()) / messages;
    state.SetBytesProcessed(static_cast<int64_t>(messages) *
                            (prefix.size() + body.size()));
  }
  std::filesystem::remove_all(dir);
  if (failed > 0) state.SkipWithError("an append failed");
}
BENCHMARK(BM_SpoolAppendGroupCommit)
    ->ArgNames({"appends", "size"})
    ->ArgsProduct({{1, 8, 64, 256}, {1 << 10, 10 << 10}})
    ->UseRealTime();

}  // namespace
}  // namespace ferry::spool

BENCHMARK_MAIN();
