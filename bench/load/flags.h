// A small command-line parser for the load tools: every option is
// --name=VALUE or a bare --name switch, and each tool lists the names it
// accepts. Used on the main thread before any worker starts.
#ifndef FERRY_BENCH_LOAD_FLAGS_H_
#define FERRY_BENCH_LOAD_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ferry::bench {

class Flags {
 public:
  // Parses argv[1..argc). Returns InvalidArgument for a positional
  // argument, an option not in `known`, or a repeated option.
  static absl::StatusOr<Flags> Parse(
      int argc, char** argv, const absl::flat_hash_set<std::string>& known);

  bool Has(absl::string_view name) const { return values_.contains(name); }

  // Each getter returns `fallback` when the option is absent and
  // InvalidArgument, naming the option, when its value does not parse.
  absl::StatusOr<std::string> String(absl::string_view name,
                                     std::string fallback) const;
  absl::StatusOr<int64_t> Int(absl::string_view name, int64_t fallback) const;
  absl::StatusOr<double> Double(absl::string_view name, double fallback) const;
  // Accepts a plain count of octets or one with a K or M suffix (1024 or
  // 1048576 octets).
  absl::StatusOr<int64_t> Size(absl::string_view name, int64_t fallback) const;

 private:
  absl::flat_hash_map<std::string, std::string> values_;
};

}  // namespace ferry::bench

#endif  // FERRY_BENCH_LOAD_FLAGS_H_
