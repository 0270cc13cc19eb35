// Rendering of the admin API's metrics in the Prometheus text exposition
// format, version 0.0.4: HELP and TYPE lines per metric family, then one
// sample line per counter or gauge, and _bucket, _sum and _count lines
// per histogram.
#ifndef FERRY_ADMIN_PROMETHEUS_TEXT_H_
#define FERRY_ADMIN_PROMETHEUS_TEXT_H_

#include <string>

#include "google/protobuf/repeated_ptr_field.h"
#include "proto/admin.pb.h"

namespace ferry::admin {

// The Content-Type of RenderPrometheusText()'s output.
inline constexpr char kPrometheusContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// Returns `metrics` as Prometheus text. Metrics with the same name form one
// family, written where the name first occurs, with the HELP text of its
// first metric. Labels are sorted by name. A metric with no value is left
// out.
std::string RenderPrometheusText(
    const google::protobuf::RepeatedPtrField<v1::Metric>& metrics);

// Returns `value` as the format writes sample values and "le" bounds:
// the shortest text that reads back as the same double (in plain decimal
// from 1e-5 to below 1e15), "+Inf", "-Inf" or "NaN".
std::string FormatSampleValue(double value);

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_PROMETHEUS_TEXT_H_
