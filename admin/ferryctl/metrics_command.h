// ferryctl metrics: the Metrics service, as a table for people or JSON,
// once or repeated with --watch.
#ifndef FERRY_ADMIN_FERRYCTL_METRICS_COMMAND_H_
#define FERRY_ADMIN_FERRYCTL_METRICS_COMMAND_H_

#include <string>
#include <vector>

#include "admin/ferryctl/command.h"
#include "proto/admin.pb.h"

namespace ferry::ferryctl {

int RunMetrics(const Invocation& invocation);

// Returns one row (name, labels, value) per metric whose name starts with
// `prefix`. Labels are "key=value" pairs sorted by key and joined by
// commas. A histogram's value is its count, sum and the bucket bound
// that 99% of its observations are at or below ("p99<=0.005").
std::vector<std::vector<std::string>> MetricRows(
    const ::ferry::admin::v1::GetMetricsResponse& response,
    const std::string& prefix);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_METRICS_COMMAND_H_
