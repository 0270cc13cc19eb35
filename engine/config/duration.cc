#include "engine/config/duration.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ferry::config {
namespace {

struct Unit {
  char symbol;
  int64_t seconds;
};

// Units in the order they must appear in a duration.
constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
constexpr int kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

// Nine digits keep every sum of four numbers times a unit far inside int64.
constexpr size_t kMaxDigits = 9;

// Returns the index of `symbol` in kUnits, or -1 when it is not a unit.
int UnitIndex(char symbol) {
  for (int i = 0; i < kUnitCount; ++i) {
    if (kUnits[i].symbol == symbol) return i;
  }
  return -1;
}

size_t CountDigits(absl::string_view text) {
  size_t n = 0;
  while (n < text.size() && absl::ascii_isdigit(text[n])) ++n;
  return n;
}

// Checks the character after a number and returns the index of its unit.
absl::StatusOr<int> ParseUnit(absl::string_view rest, int64_t number) {
  if (rest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the number ", number, " has no unit. Add d, h, m or s."));
  }
  if (rest[0] == '.') {
    return absl::InvalidArgumentError(
        "fractions are not supported. Combine units instead, as in 1h30m.");
  }
  int unit = UnitIndex(rest[0]);
  if (unit < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", std::string(1, rest[0]), "' is not a unit. Use d, h, m or s."));
  }
  return unit;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("the duration is empty");
  int64_t total_seconds = 0;
  int next_unit = 0;  // units before this index are already used up
  while (!text.empty()) {
    size_t digits = CountDigits(text);
    if (digits == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected a number at \"", text, "\". Write whole numbers with a ",
          "unit, as in 300s, 5m, 2h, 5d or 1h30m."));
    }
    if (digits > kMaxDigits) {
      return absl::InvalidArgumentError(
          absl::StrCat("a number has more than ", kMaxDigits, " digits"));
    }
    int64_t number = 0;
    absl::SimpleAtoi(text.substr(0, digits), &number);
    text.remove_prefix(digits);
    absl::StatusOr<int> unit = ParseUnit(text, number);
    if (!unit.ok()) return unit.status();
    if (*unit < next_unit) {
      return absl::InvalidArgumentError(
          "units must go from largest to smallest (d, h, m, s), each at most "
          "once");
    }
    next_unit = *unit + 1;
    total_seconds += number * kUnits[*unit].seconds;
    text.remove_prefix(1);
  }
  return absl::Seconds(total_seconds);
}

}  // namespace ferry::config
