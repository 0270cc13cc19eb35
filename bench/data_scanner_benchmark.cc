// Microbenchmarks for DataScanner: finding the end of DATA in bytes that
// were received into a MessageBody, swept over message size and over the
// size of each receive.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "benchmark/benchmark.h"
#include "engine/smtp/data_scanner.h"
#include "engine/smtp/message_body.h"

namespace ferry::smtp {
namespace {

// Returns a message of about `size` octets in transfer form: a few header
// fields, then 76-column text lines, one in 16 starting with a stuffed dot,
// then the end-of-data line.
std::string MakeWireMessage(size_t size) {
  std::string text =
      "From: alice@example.com\r\nTo: bob@example.net\r\n"
      "Subject: benchmark\r\n\r\n";
  for (int line = 0; text.size() < size; ++line) {
    if (line % 16 == 0) text += "..";
    text.append(74, static_cast<char>('a' + line % 26));
    text += "\r\n";
  }
  text += ".\r\n";
  return text;
}

// state.range(0): message size in octets. state.range(1): octets per
// receive, as a socket read would deliver them.
void BM_DataScanner(benchmark::State& state) {
  const std::string wire = MakeWireMessage(state.range(0));
  const size_t receive_size = state.range(1);
  const DataScannerOptions options;
  std::string rest;
  for (auto _ : state) {
    MessageBody body;
    DataScanner scanner(options);
    size_t offset = 0;
    bool done = false;
    while (!done && offset < wire.size()) {
      const size_t n = std::min(receive_size, wire.size() - offset);
      auto [space, space_size] = body.TailSpace(1);
      const size_t take = std::min(n, space_size);
      std::memcpy(space, wire.data() + offset, take);
      body.Commit(take);
      offset += take;
      done = scanner.Scan(&body, &rest);
    }
    if (!done) state.SkipWithError("end of data not found");
    benchmark::DoNotOptimize(body);
  }
  state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_DataScanner)
    ->ArgNames({"size", "recv"})
    ->ArgsProduct({{1 << 10, 10 << 10, 100 << 10, 1 << 20},
                   {4 << 10, 64 << 10}});

}  // namespace
}  // namespace ferry::smtp

BENCHMARK_MAIN();
