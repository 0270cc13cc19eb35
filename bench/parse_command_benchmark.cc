// Microbenchmarks for ParseCommand(): one SMTP command line per iteration,
// for the verbs that a relay parses on every message.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/smtp/command.h"

namespace ferry::smtp {
namespace {

const std::vector<std::string>& CommandLines() {
  static const std::vector<std::string> lines = {
      "EHLO client.example.com",
      "MAIL FROM:<alice@example.com> SIZE=10240 BODY=8BITMIME",
      "RCPT TO:<bob@example.net> NOTIFY=FAILURE,DELAY "
      "ORCPT=rfc822;bob@example.net",
      "DATA",
      "QUIT",
  };
  return lines;
}

// state.range(0) selects the line from CommandLines().
void BM_ParseCommand(benchmark::State& state) {
  const std::string& line = CommandLines()[state.range(0)];
  const CommandLimits limits;
  for (auto _ : state) {
    ParsedCommand parsed = ParseCommand(line, limits);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetLabel(line.substr(0, line.find(' ')));
  state.SetBytesProcessed(state.iterations() * line.size());
}
BENCHMARK(BM_ParseCommand)->DenseRange(0, 4);

// One whole transaction's command lines per iteration.
void BM_ParseCommandTransaction(benchmark::State& state) {
  const CommandLimits limits;
  for (auto _ : state) {
    for (const std::string& line : CommandLines()) {
      ParsedCommand parsed = ParseCommand(line, limits);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseCommandTransaction);

}  // namespace
}  // namespace ferry::smtp

BENCHMARK_MAIN();
