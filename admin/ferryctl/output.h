// ferryctl's output: aligned tables for people and one JSON object per
// line for scripts (--json).
#ifndef FERRY_ADMIN_FERRYCTL_OUTPUT_H_
#define FERRY_ADMIN_FERRYCTL_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace ferry::ferryctl {

// Columns separated by two spaces, each as wide as its widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> cells);
  // Writes the table to stdout; the header only when there are rows or
  // `header_when_empty` is true.
  void Print(bool header_when_empty = true) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Writes `message` to stdout as one line of JSON, with the proto field
// names and every field, also those at their default value.
void PrintJson(const google::protobuf::Message& message);

// "key: value" lines for people, keys aligned.
void PrintFields(
    const std::vector<std::pair<std::string, std::string>>& fields);

// "2026-12-04 18:02:56 UTC", or "-" for an unset time.
std::string HumanTime(const google::protobuf::Timestamp& time);
// "3d4h", "5m12s", "0s".
std::string HumanDuration(absl::Duration duration);
std::string HumanDuration(const google::protobuf::Duration& duration);
// "512 B", "1.5 KiB", "12.0 MiB".
std::string HumanBytes(uint64_t bytes);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_OUTPUT_H_
