// Microbenchmarks for CRC-32C over buffer sizes from a frame header to a
// large message, for the dispatching entry point and both implementations.
#include <cstdint>
#include <string>

#include "benchmark/benchmark.h"
#include "engine/spool/crc32c.h"

namespace ferry::spool {
namespace {

using CrcFunction = uint32_t (*)(uint32_t, const void*, size_t);

void RunCrc(benchmark::State& state, CrcFunction crc) {
  const std::string data(state.range(0), 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc(0, data.data(), data.size()));
  }
  state.SetBytesProcessed(state.iterations() * data.size());
}

void BM_Crc32c(benchmark::State& state) { RunCrc(state, Crc32c); }
BENCHMARK(BM_Crc32c)->RangeMultiplier(8)->Range(16, 1 << 20);

void BM_Crc32cPortable(benchmark::State& state) {
  RunCrc(state, internal::Crc32cPortable);
}
BENCHMARK(BM_Crc32cPortable)->RangeMultiplier(8)->Range(16, 1 << 20);

void BM_Crc32cSse42(benchmark::State& state) {
  if (!internal::Crc32cHasSse42()) {
    state.SkipWithError("this CPU or build has no SSE4.2 crc32");
    return;
  }
  RunCrc(state, internal::Crc32cSse42);
}
BENCHMARK(BM_Crc32cSse42)->RangeMultiplier(8)->Range(16, 1 << 20);

}  // namespace
}  // namespace ferry::spool

BENCHMARK_MAIN();
