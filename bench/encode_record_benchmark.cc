// Microbenchmarks for EncodeMessagePrefix(): the frame header and envelope
// of a message record, including the CRC-32C over the body, swept over body
// size and recipient count.
#include <sys/uio.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/spool/record.h"

namespace ferry::spool {
namespace {

Envelope MakeEnvelope(int recipients) {
  Envelope envelope;
  envelope.queue_id = "CREH7RF426G000";
  envelope.arrival_unix_micros = 1700000000000000;
  envelope.client_ip = "192.0.2.1";
  envelope.helo = "client.example.com";
  envelope.sender = "alice@example.com";
  envelope.received_header =
      "Received: from client.example.com (client.example.com [192.0.2.1])\r\n"
      "\tby relay.example.com with ESMTP id CREH7RF426G000\r\n"
      "\tfor <bob@example.net>; Tue, 14 Nov 2023 22:13:20 +0000\r\n";
  for (int i = 0; i < recipients; ++i) {
    envelope.recipients.push_back(
        {absl::StrCat("user", i, "@example.net"), "", ""});
  }
  return envelope;
}

// state.range(0): body size in octets, in 64 KiB iovecs like MessageBody.
// state.range(1): recipients.
void BM_EncodeMessageRecord(benchmark::State& state) {
  const std::string body(state.range(0), 'x');
  std::vector<iovec> iov;
  constexpr size_t kChunk = 64 << 10;
  for (size_t offset = 0; offset < body.size(); offset += kChunk) {
    const size_t n = std::min(kChunk, body.size() - offset);
    iov.push_back({const_cast<char*>(body.data()) + offset, n});
  }
  const Envelope envelope = MakeEnvelope(static_cast<int>(state.range(1)));
  for (auto _ : state) {
    absl::StatusOr<std::string> prefix = EncodeMessagePrefix(envelope, iov);
    benchmark::DoNotOptimize(prefix);
  }
  state.SetBytesProcessed(state.iterations() * body.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeMessageRecord)
    ->ArgNames({"size", "rcpts"})
    ->ArgsProduct({{1 << 10, 10 << 10, 100 << 10}, {1, 10}});

// One outcome record per iteration.
void BM_EncodeOutcomeRecord(benchmark::State& state) {
  Outcome outcome;
  outcome.queue_id = "CREH7RF426G000";
  outcome.state = Outcome::kDelivered;
  outcome.attempts = 1;
  outcome.next_hop = "127.0.0.1:2600";
  outcome.reply = "250 2.0.0 Ok: queued";
  for (auto _ : state) {
    std::string record = EncodeOutcome(outcome);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeOutcomeRecord);

}  // namespace
}  // namespace ferry::spool

BENCHMARK_MAIN();
