// Counting the SMTP replies a server session sends, by class (2xx to 5xx),
// from their wire form.
#ifndef FERRY_ENGINE_METRICS_REPLY_COUNTER_H_
#define FERRY_ENGINE_METRICS_REPLY_COUNTER_H_

#include <string_view>

#include "engine/metrics/worker_metrics.h"

namespace ferry::metrics {

// Adds one to `metrics->smtp_replies` for each complete reply in `wire`:
// each line that starts with a three-digit code followed by a space, or
// that is the code alone (RFC 5321 section 4.2: the last line of a
// multiline reply). Continuation lines ("250-...") and codes outside
// 2xx to 5xx are not counted.
void CountSmtpReplies(std::string_view wire, WorkerMetrics* metrics);

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_REPLY_COUNTER_H_
