// Parsing of the duration strings used in the configuration ("300s", "5m",
// "2h", "5d", "1h30m"). Pure functions, safe to call from any thread.
#ifndef FERRY_ENGINE_CONFIG_DURATION_H_
#define FERRY_ENGINE_CONFIG_DURATION_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ferry::config {

// Parses a duration written as one or more <number><unit> pairs with no
// spaces, such as "300s" or "1h30m". Units are d (24 hours), h, m and s.
// They must go from largest to smallest and each may appear once. Numbers
// are whole decimal numbers of at most 9 digits, with no sign.
// Returns the duration, which may be zero ("0s"), or an InvalidArgument
// status whose message describes the problem. The caller adds the field name.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);

}  // namespace ferry::config

#endif  // FERRY_ENGINE_CONFIG_DURATION_H_
