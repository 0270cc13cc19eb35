// CountSmtpReplies: a scan over reply lines in wire form.
#include "engine/metrics/reply_counter.h"

namespace ferry::metrics {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Returns true when `line` (without its CRLF) is the last line of a reply.
bool IsFinalLine(std::string_view line) {
  if (line.size() < 3) return false;
  if (!IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2])) {
    return false;
  }
  return line.size() == 3 || line[3] == ' ';
}

}  // namespace

void CountSmtpReplies(std::string_view wire, WorkerMetrics* metrics) {
  while (!wire.empty()) {
    const size_t end = wire.find("\r\n");
    const std::string_view line = wire.substr(0, end);
    if (IsFinalLine(line) && line[0] >= '2' && line[0] <= '5') {
      metrics->smtp_replies[static_cast<ReplyClass>(line[0] - '2')].Add();
    }
    if (end == std::string_view::npos) break;
    wire.remove_prefix(end + 2);
  }
}

}  // namespace ferry::metrics
