#include "bench/load/flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ferry::bench {
namespace {

absl::Status InvalidValue(absl::string_view name, absl::string_view value,
                          absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid value \"", value, "\" for --", name, ": expected ", expected));
}

}  // namespace

absl::StatusOr<Flags> Flags::Parse(
    int argc, char** argv, const absl::flat_hash_set<std::string>& known) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", argv[i],
                       "\": options have the form --name=VALUE"));
    }
    const size_t equals = arg.find('=');
    const std::string name(arg.substr(0, equals));
    const std::string value(
        equals == absl::string_view::npos ? "" : arg.substr(equals + 1));
    if (!known.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name, "; see --help"));
    }
    if (!flags.values_.emplace(name, value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " is given twice"));
    }
  }
  return flags;
}

absl::StatusOr<std::string> Flags::String(absl::string_view name,
                                          std::string fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> Flags::Int(absl::string_view name,
                                   int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return InvalidValue(name, it->second, "an integer");
  }
  return value;
}

absl::StatusOr<double> Flags::Double(absl::string_view name,
                                     double fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(it->second, &value)) {
    return InvalidValue(name, it->second, "a number");
  }
  return value;
}

absl::StatusOr<int64_t> Flags::Size(absl::string_view name,
                                    int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  absl::string_view text = it->second;
  int64_t unit = 1;
  if (absl::ConsumeSuffix(&text, "K") || absl::ConsumeSuffix(&text, "k")) {
    unit = 1024;
  } else if (absl::ConsumeSuffix(&text, "M") ||
             absl::ConsumeSuffix(&text, "m")) {
    unit = 1024 * 1024;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 0) {
    return InvalidValue(name, it->second, "octets, such as 10240 or 10K");
  }
  return value * unit;
}

}  // namespace ferry::bench
