// The test messages that the load driver sends and the sink checks. Each
// message carries a header field
//
//   X-Ferry-Bench: <run id, hex> <sequence number> <CRC-32C of body, hex>
//
// where the body is everything after the empty line that ends the header
// section, in transfer form, up to but not including the end-of-data line.
// The driver never starts a body line with ".", so a relay that forwards
// the transfer form unchanged keeps the CRC valid, and a relay that adds
// header fields above it (Received:) does not affect it.
//
// Pure functions and immutable templates; safe from any thread.
#ifndef FERRY_BENCH_LOAD_BENCH_MESSAGE_H_
#define FERRY_BENCH_LOAD_BENCH_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ferry::bench {

inline constexpr absl::string_view kBenchHeaderName = "X-Ferry-Bench:";

// The parts of one message that are the same for every sequence number.
class MessageTemplate {
 public:
  // Builds a template whose messages are about `size` octets long (at least
  // the header section and one body line). `from` and `to` fill the From:
  // and To: fields.
  MessageTemplate(size_t size, absl::string_view from, absl::string_view to);

  // Returns the header section and the first body line of message
  // `sequence` of run `run_id`. The message is Head() followed by Filler().
  std::string Head(uint64_t run_id, uint64_t sequence) const;

  // Body lines shared by every message: 76-octet CRLF lines, none starting
  // with ".".
  const std::string& Filler() const { return filler_; }

  // Size of a whole message in octets (Head() size varies by a few octets
  // with the numbers in it; this uses a typical value).
  size_t approximate_size() const { return approximate_size_; }

 private:
  std::string from_;
  std::string to_;
  std::string filler_;
  uint32_t filler_crc_ = 0;
  size_t approximate_size_ = 0;
};

// What the sink found in one received message.
enum class Verdict {
  kIntact,      // the CRC in the header matches the body
  kCorrupt,     // the header is present but the CRC does not match
  kUnverified,  // no X-Ferry-Bench header, or one that does not parse
};

struct CheckResult {
  Verdict verdict = Verdict::kUnverified;
  uint64_t run_id = 0;    // valid unless kUnverified
  uint64_t sequence = 0;  // valid unless kUnverified
};

// Checks one message in transfer form, without its end-of-data line.
CheckResult CheckMessage(absl::string_view message);

}  // namespace ferry::bench

#endif  // FERRY_BENCH_LOAD_BENCH_MESSAGE_H_
