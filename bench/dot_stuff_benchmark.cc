// Microbenchmarks for DotStuffer: turning raw content (BDAT chunks) into
// transfer form, swept over content size and over the share of lines that
// start with a dot.
#include <algorithm>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "engine/smtp/dot_stuffer.h"
#include "engine/smtp/message_body.h"

namespace ferry::smtp {
namespace {

// Returns `size` octets of CRLF text in 76-octet lines, where one line in
// `dot_every` starts with "." (0: none does).
std::string MakeRawContent(size_t size, int dot_every) {
  std::string text;
  for (int line = 0; text.size() < size; ++line) {
    if (dot_every > 0 && line % dot_every == 0) text += ".";
    text.append(74, static_cast<char>('a' + line % 26));
    text += "\r\n";
  }
  return text;
}

// state.range(0): content size in octets. state.range(1): one line in
// this many starts with a dot (0: none). Chunks of 64 KiB, like BDAT.
void BM_DotStuff(benchmark::State& state) {
  const std::string raw =
      MakeRawContent(state.range(0), static_cast<int>(state.range(1)));
  constexpr size_t kChunk = 64 << 10;
  for (auto _ : state) {
    MessageBody body;
    DotStuffer stuffer(BareLineEnding::kNormalize);
    for (size_t offset = 0; offset < raw.size(); offset += kChunk) {
      const size_t n = std::min(kChunk, raw.size() - offset);
      stuffer.Append(std::string_view(raw).substr(offset, n), &body);
    }
    stuffer.Finish(&body);
    benchmark::DoNotOptimize(body);
  }
  state.SetBytesProcessed(state.iterations() * raw.size());
}
BENCHMARK(BM_DotStuff)
    ->ArgNames({"size", "dot_every"})
    ->ArgsProduct({{1 << 10, 10 << 10, 100 << 10, 1 << 20}, {0, 16}});

}  // namespace
}  // namespace ferry::smtp

BENCHMARK_MAIN();
