// ferryctl metrics: GetMetrics once, or WatchMetrics with --watch.
#include "admin/ferryctl/metrics_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "admin/ferryctl/output.h"
#include "google/protobuf/util/time_util.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::ferryctl {
namespace {

namespace v1 = ::ferry::admin::v1;

constexpr char kMetricsUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] metrics [PREFIX] [--watch[=INTERVAL]] [--json]

Shows ferryd's metrics, the values that its Prometheus endpoint
(metrics_listen) serves: one line per counter and gauge with its labels,
and for each histogram its count, its sum and the bucket bound that 99%
of the observations are at or below. Values are summed over workers.

PREFIX
    Show only metrics whose name starts with it, e.g. ferry_queue.

--watch[=INTERVAL]
    Show the metrics again every INTERVAL (default 1s, at least 100ms,
    e.g. 500ms, 5s) until interrupted.
--json
    Print each snapshot as one JSON object (GetMetricsResponse of
    proto/admin.proto) per line.
)";

constexpr absl::Duration kDefaultWatchInterval = absl::Seconds(1);
constexpr absl::Duration kMinWatchInterval = absl::Milliseconds(100);

// "12" for whole numbers, else up to six significant digits.
std::string FormatValue(double value) {
  if (std::isfinite(value) && value == std::floor(value) &&
      std::fabs(value) < 1e15) {
    return absl::StrFormat("%.0f", value);
  }
  return absl::StrFormat("%g", value);
}

std::string FormatLabels(const v1::Metric& metric) {
  std::vector<std::pair<std::string, std::string>> labels(
      metric.label().begin(), metric.label().end());
  std::sort(labels.begin(), labels.end());
  std::vector<std::string> parts;
  for (const auto& [key, value] : labels) {
    parts.push_back(absl::StrCat(key, "=", value));
  }
  return absl::StrJoin(parts, ",");
}

// Returns the first bound whose cumulative count reaches 99% of the
// observations, or "+Inf".
std::string Percentile99Bound(const v1::Histogram& histogram) {
  const double target = 0.99 * static_cast<double>(histogram.count());
  const int buckets =
      std::min(histogram.upper_bound_size(), histogram.cumulative_count_size());
  for (int i = 0; i < buckets; ++i) {
    if (static_cast<double>(histogram.cumulative_count(i)) >= target) {
      return FormatValue(histogram.upper_bound(i));
    }
  }
  return "+Inf";
}

std::string FormatMetricValue(const v1::Metric& metric) {
  switch (metric.value_case()) {
    case v1::Metric::kCounter:
      return FormatValue(metric.counter());
    case v1::Metric::kGauge:
      return FormatValue(metric.gauge());
    case v1::Metric::kHistogram: {
      const v1::Histogram& histogram = metric.histogram();
      std::string text = absl::StrCat("count=", histogram.count(),
                                      " sum=", FormatValue(histogram.sum()));
      if (histogram.count() > 0) {
        absl::StrAppend(&text, " p99<=", Percentile99Bound(histogram));
      }
      return text;
    }
    case v1::Metric::VALUE_NOT_SET:
      break;
  }
  return "-";
}

void PrintSnapshot(const v1::GetMetricsResponse& response,
                   const std::string& prefix, bool json, bool with_time) {
  if (json) {
    PrintJson(response);
    fflush(stdout);
    return;
  }
  if (with_time) printf("%s\n", HumanTime(response.time()).c_str());
  Table table({"NAME", "LABELS", "VALUE"});
  for (std::vector<std::string>& row : MetricRows(response, prefix)) {
    table.AddRow(std::move(row));
  }
  table.Print();
  if (with_time) printf("\n");
  fflush(stdout);
}

int GetOnce(const Invocation& invocation, v1::Metrics::Stub* stub,
            const std::string& prefix) {
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::GetMetricsResponse response;
  const grpc::Status rpc = stub->GetMetrics(&context, {}, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, "metrics", rpc);
  PrintSnapshot(response, prefix, invocation.options.json, false);
  return kExitOk;
}

int Watch(const Invocation& invocation, v1::Metrics::Stub* stub,
          const std::string& prefix, absl::Duration interval) {
  // A watch runs until interrupted, so it has no deadline.
  grpc::ClientContext context;
  v1::WatchMetricsRequest request;
  *request.mutable_interval() =
      google::protobuf::util::TimeUtil::NanosecondsToDuration(
          absl::ToInt64Nanoseconds(interval));
  std::unique_ptr<grpc::ClientReader<v1::GetMetricsResponse>> reader =
      stub->WatchMetrics(&context, request);
  v1::GetMetricsResponse response;
  while (reader->Read(&response)) {
    PrintSnapshot(response, prefix, invocation.options.json, true);
  }
  const grpc::Status rpc = reader->Finish();
  if (!rpc.ok()) return ReportRpcError(invocation.options, "metrics", rpc);
  return kExitOk;
}

// Rewrites a bare "--watch" as "--watch=1s", because "--watch VALUE"
// would take the next argument as the interval.
std::vector<std::string> NormalizeWatchFlag(std::vector<std::string> argv) {
  for (std::string& arg : argv) {
    if (arg == "--") break;
    if (arg == "--watch") {
      arg =
          absl::StrCat("--watch=", absl::FormatDuration(kDefaultWatchInterval));
    }
  }
  return argv;
}

}  // namespace

std::vector<std::vector<std::string>> MetricRows(
    const v1::GetMetricsResponse& response, const std::string& prefix) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Metric& metric : response.metric()) {
    if (metric.name().compare(0, prefix.size(), prefix) != 0) continue;
    rows.push_back(
        {metric.name(), FormatLabels(metric), FormatMetricValue(metric)});
  }
  return rows;
}

int RunMetrics(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kMetricsUsage)) return *code;
  const FlagSpec spec{.switches = {}, .values = {"watch"}, .repeated = {}};
  std::optional<Args> args =
      ParseOrComplain("metrics", NormalizeWatchFlag(invocation.argv), spec);
  if (!args) return kExitUsage;
  if (args->positional().size() > 1) {
    return Fail(kExitUsage,
                "metrics takes at most one PREFIX; run ferryctl metrics "
                "--help");
  }
  const std::string prefix =
      args->positional().empty() ? "" : args->positional()[0];
  absl::StatusOr<std::optional<absl::Duration>> interval =
      args->Duration("watch");
  if (!interval.ok()) {
    return Fail(kExitUsage, std::string(interval.status().message()));
  }
  if (interval->has_value() && **interval < kMinWatchInterval) {
    return Fail(kExitUsage,
                absl::StrCat("--watch=", absl::FormatDuration(**interval),
                             " is too short; use at least ",
                             absl::FormatDuration(kMinWatchInterval)));
  }
  int exit_code = kExitOk;
  auto channel = ConnectOrComplain(invocation.options, &exit_code);
  if (channel == nullptr) return exit_code;
  auto stub = v1::Metrics::NewStub(channel);
  if (!interval->has_value()) return GetOnce(invocation, stub.get(), prefix);
  return Watch(invocation, stub.get(), prefix, **interval);
}

}  // namespace ferry::ferryctl
