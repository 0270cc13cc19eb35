// Command-line arguments of one ferryctl command: flags (--name=value,
// --name value, or --name for a switch) and positional arguments.
#ifndef FERRY_ADMIN_FERRYCTL_ARGS_H_
#define FERRY_ADMIN_FERRYCTL_ARGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ferry::ferryctl {

// The flags a command takes. Switches take no value; repeatable value
// flags may be given more than once.
struct FlagSpec {
  std::set<std::string> switches;
  std::set<std::string> values;
  std::set<std::string> repeated;
};

class Args {
 public:
  // Parses `argv` against `spec`. "--" ends the flags. Fails with a
  // message naming an unknown flag, a missing value or a repeated flag.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const FlagSpec& spec);

  bool Has(const std::string& name) const;
  // The value of a value flag, or `fallback` when it was not given.
  std::string Value(const std::string& name,
                    const std::string& fallback = "") const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> Values(const std::string& name) const;
  // A flag's value as a count or a duration ("30s", "5m", "2h", "1d").
  // Errors name the flag and the value.
  absl::StatusOr<uint64_t> Unsigned(const std::string& name,
                                    uint64_t fallback) const;
  absl::StatusOr<std::optional<absl::Duration>> Duration(
      const std::string& name) const;

  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> flags_;
  std::vector<std::string> positional_;
};

// Parses "30s", "5m", "2h", "1d", "1h30m" or "500ms".
absl::StatusOr<absl::Duration> ParseDuration(const std::string& text);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_ARGS_H_
