#include "admin/ferryctl/args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ferry::ferryctl {

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& argv,
                                 const FlagSpec& spec) {
  Args args;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (flags_done || arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (arg == "--") {
        flags_done = true;
        continue;
      }
      args.positional_.push_back(arg);
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name =
        arg.substr(2, equals == std::string::npos ? std::string::npos
                                                  : equals - 2);
    std::string value;
    if (spec.switches.count(name)) {
      if (equals != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
    } else if (spec.values.count(name) || spec.repeated.count(name)) {
      if (equals != std::string::npos) {
        value = arg.substr(equals + 1);
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name));
    }
    if (args.flags_.count(name) && !spec.repeated.count(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " is given more than once"));
    }
    args.flags_.emplace(name, value);
  }
  return args;
}

bool Args::Has(const std::string& name) const { return flags_.count(name); }

std::string Args::Value(const std::string& name,
                        const std::string& fallback) const {
  auto it = flags_.find(name);
  return it == flags_.end() ? fallback : it->second;
}

std::vector<std::string> Args::Values(const std::string& name) const {
  std::vector<std::string> values;
  auto [begin, end] = flags_.equal_range(name);
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

absl::StatusOr<uint64_t> Args::Unsigned(const std::string& name,
                                        uint64_t fallback) const {
  if (!Has(name)) return fallback;
  uint64_t value = 0;
  const std::string text = Value(name);
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, "=", text, " is not a whole number of 0 or more"));
  }
  return value;
}

absl::StatusOr<std::optional<absl::Duration>> Args::Duration(
    const std::string& name) const {
  if (!Has(name)) return std::optional<absl::Duration>();
  absl::StatusOr<absl::Duration> duration = ParseDuration(Value(name));
  if (!duration.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": ", duration.status().message()));
  }
  return std::optional<absl::Duration>(*duration);
}

absl::StatusOr<absl::Duration> ParseDuration(const std::string& text) {
  // absl::ParseDuration accepts h, m, s and ms but not days.
  std::string rest = text;
  absl::Duration total = absl::ZeroDuration();
  const size_t d = rest.find('d');
  if (d != std::string::npos) {
    int64_t days = 0;
    if (!absl::SimpleAtoi(rest.substr(0, d), &days) || days < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", text, "\" is not a duration such as 30s, 5m, 2h or 1d"));
    }
    total += absl::Hours(24 * days);
    rest = rest.substr(d + 1);
  }
  absl::Duration part = absl::ZeroDuration();
  if (!rest.empty() && (!absl::ParseDuration(rest, &part) ||
                        part < absl::ZeroDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a duration such as 30s, 5m, 2h or 1d"));
  }
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "an empty value is not a duration such as 30s, 5m, 2h or 1d");
  }
  return total + part;
}

}  // namespace ferry::ferryctl
