// Microbenchmarks for RouteTable::Find() and Check(), swept over the
// number of routes, for exact domains, wildcard subdomains and misses.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/route/route_table.h"

namespace ferry::route {
namespace {

// What the looked-up domains match.
enum LookupKind : int {
  kExact = 0,     // "dN.example" with an exact route
  kWildcard = 1,  // "mail.wN.example" under a "*.wN.example" route
  kMiss = 2,      // "nN.example" with no route
};

// Builds a table of `size` exact routes and `size` wildcard routes.
std::shared_ptr<const RouteTable> MakeTable(int size) {
  std::vector<Route> routes;
  for (int i = 0; i < size; ++i) {
    for (const std::string& domain : {absl::StrCat("d", i, ".example"),
                                      absl::StrCat("*.w", i, ".example")}) {
      Route route;
      route.domain = domain;
      route.next_hops.push_back(NextHop{.host = "127.0.0.1", .port = 2600});
      routes.push_back(std::move(route));
    }
  }
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      RouteTable::Build(std::move(routes));
  return table.ok() ? *table : nullptr;
}

std::vector<std::string> MakeDomains(int size, LookupKind kind) {
  std::vector<std::string> domains;
  for (int i = 0; i < 1024; ++i) {
    const int n = (i * 7919) % size;
    switch (kind) {
      case kExact:
        domains.push_back(absl::StrCat("D", n, ".Example"));
        break;
      case kWildcard:
        domains.push_back(absl::StrCat("mail.w", n, ".example"));
        break;
      case kMiss:
        domains.push_back(absl::StrCat("n", n, ".example"));
        break;
    }
  }
  return domains;
}

// state.range(0): routes of each kind. state.range(1): LookupKind.
void BM_RouteLookup(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const LookupKind kind = static_cast<LookupKind>(state.range(1));
  std::shared_ptr<const RouteTable> table = MakeTable(size);
  if (table == nullptr) {
    state.SkipWithError("RouteTable::Build failed");
    return;
  }
  const std::vector<std::string> domains = MakeDomains(size, kind);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->Find(domains[i]));
    i = (i + 1) % domains.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteLookup)
    ->ArgNames({"routes", "kind"})
    ->ArgsProduct({{10, 1000, 100000}, {kExact, kWildcard, kMiss}});

// RCPT-time check against an exact route without a recipient list.
void BM_RouteCheck(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  std::shared_ptr<const RouteTable> table = MakeTable(size);
  if (table == nullptr) {
    state.SkipWithError("RouteTable::Build failed");
    return;
  }
  const std::vector<std::string> domains = MakeDomains(size, kExact);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->Check("bob", domains[i]));
    i = (i + 1) % domains.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteCheck)->Arg(10)->Arg(100000);

}  // namespace
}  // namespace ferry::route

BENCHMARK_MAIN();
