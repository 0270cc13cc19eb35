#include "bench/load/bench_message.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/spool/crc32c.h"

namespace ferry::bench {
namespace {

constexpr size_t kLineLength = 74;  // text octets per filler line

std::string SequenceLine(uint64_t sequence) {
  return absl::StrCat("message ", sequence, "\r\n");
}

// Returns the value of header field `name` (with its colon) in `header`,
// with surrounding white space removed, or nullopt when it is absent.
std::optional<absl::string_view> FindField(absl::string_view header,
                                           absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(header, "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, name)) {
      return absl::StripAsciiWhitespace(line.substr(name.size()));
    }
  }
  return std::nullopt;
}

}  // namespace

MessageTemplate::MessageTemplate(size_t size, absl::string_view from,
                                 absl::string_view to)
    : from_(from), to_(to) {
  const size_t head_size = Head(0xffffffffffffull, 1000000).size();
  for (int line = 0; head_size + filler_.size() < size; ++line) {
    filler_.append(kLineLength, static_cast<char>('a' + line % 26));
    filler_ += "\r\n";
  }
  approximate_size_ = head_size + filler_.size();
  filler_crc_ = spool::Crc32c(0, filler_.data(), filler_.size());
}

std::string MessageTemplate::Head(uint64_t run_id, uint64_t sequence) const {
  const std::string first_line = SequenceLine(sequence);
  // CRC of first_line followed by the filler, without building the body.
  uint32_t crc = spool::Crc32c(0, first_line.data(), first_line.size());
  crc = spool::Crc32c(crc, filler_.data(), filler_.size());
  return absl::StrFormat(
      "From: <%s>\r\nTo: <%s>\r\nSubject: ferry load test %d\r\n"
      "Message-ID: <%x.%d@bench.invalid>\r\n%s %x %d %08x\r\n\r\n%s",
      from_, to_, sequence, run_id, sequence, kBenchHeaderName, run_id,
      sequence, crc, first_line);
}

CheckResult CheckMessage(absl::string_view message) {
  CheckResult result;
  const size_t end = message.find("\r\n\r\n");
  if (end == absl::string_view::npos) return result;
  const absl::string_view header = message.substr(0, end + 2);
  const absl::string_view body = message.substr(end + 4);
  std::optional<absl::string_view> value = FindField(header, kBenchHeaderName);
  if (!value.has_value()) return result;
  std::vector<absl::string_view> fields =
      absl::StrSplit(*value, ' ', absl::SkipEmpty());
  uint64_t crc = 0;
  if (fields.size() != 3 || !absl::SimpleHexAtoi(fields[0], &result.run_id) ||
      !absl::SimpleAtoi(fields[1], &result.sequence) ||
      !absl::SimpleHexAtoi(fields[2], &crc)) {
    return result;
  }
  const uint32_t actual = spool::Crc32c(0, body.data(), body.size());
  result.verdict = actual == crc ? Verdict::kIntact : Verdict::kCorrupt;
  return result;
}

}  // namespace ferry::bench
