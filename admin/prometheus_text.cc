// RenderPrometheusText: grouping into families, escaping and number
// formatting of the text exposition format 0.0.4.
#include "admin/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ferry::admin {
namespace {

// Escapes a HELP text: backslash and line feed.
std::string EscapeHelp(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Escapes a label value: backslash, double quote and line feed.
std::string EscapeLabelValue(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

Labels SortedLabels(const v1::Metric& metric) {
  Labels labels(metric.label().begin(), metric.label().end());
  std::sort(labels.begin(), labels.end());
  return labels;
}

// Returns "{a="1",b="2"}", or "" without labels.
std::string FormatLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    absl::StrAppend(&out, labels[i].first, "=\"",
                    EscapeLabelValue(labels[i].second), "\"");
  }
  out += '}';
  return out;
}

const char* TypeName(const v1::Metric& metric) {
  switch (metric.value_case()) {
    case v1::Metric::kCounter:
      return "counter";
    case v1::Metric::kGauge:
      return "gauge";
    case v1::Metric::kHistogram:
      return "histogram";
    case v1::Metric::VALUE_NOT_SET:
      break;
  }
  return nullptr;
}

void AppendSample(const std::string& name, const Labels& labels, double value,
                  std::string* out) {
  absl::StrAppend(out, name, FormatLabels(labels), " ",
                  FormatSampleValue(value), "\n");
}

void AppendHistogram(const v1::Metric& metric, std::string* out) {
  const v1::Histogram& histogram = metric.histogram();
  const Labels labels = SortedLabels(metric);
  const std::string bucket = absl::StrCat(metric.name(), "_bucket");
  const int buckets =
      std::min(histogram.upper_bound_size(), histogram.cumulative_count_size());
  for (int i = 0; i < buckets; ++i) {
    Labels with_le = labels;
    with_le.emplace_back("le", FormatSampleValue(histogram.upper_bound(i)));
    AppendSample(bucket, with_le,
                 static_cast<double>(histogram.cumulative_count(i)), out);
  }
  Labels with_inf = labels;
  with_inf.emplace_back("le", "+Inf");
  AppendSample(bucket, with_inf, static_cast<double>(histogram.count()), out);
  AppendSample(absl::StrCat(metric.name(), "_sum"), labels, histogram.sum(),
               out);
  AppendSample(absl::StrCat(metric.name(), "_count"), labels,
               static_cast<double>(histogram.count()), out);
}

void AppendMetric(const v1::Metric& metric, std::string* out) {
  switch (metric.value_case()) {
    case v1::Metric::kCounter:
      AppendSample(metric.name(), SortedLabels(metric), metric.counter(), out);
      return;
    case v1::Metric::kGauge:
      AppendSample(metric.name(), SortedLabels(metric), metric.gauge(), out);
      return;
    case v1::Metric::kHistogram:
      AppendHistogram(metric, out);
      return;
    case v1::Metric::VALUE_NOT_SET:
      return;
  }
}

}  // namespace

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Plain decimals for the usual range, so that counters read as whole
  // numbers and bucket bounds as "0.0005"; exponent notation outside it.
  // Both are the shortest text that reads back as the same double.
  const double magnitude = std::fabs(value);
  const bool fixed = value == 0 || (magnitude >= 1e-5 && magnitude < 1e15);
  char buffer[400];
  const std::to_chars_result result = std::to_chars(
      buffer, buffer + sizeof(buffer), value,
      fixed ? std::chars_format::fixed : std::chars_format::scientific);
  return std::string(buffer, result.ptr);
}

std::string RenderPrometheusText(
    const google::protobuf::RepeatedPtrField<v1::Metric>& metrics) {
  // The format requires every line of a family to be together, so metrics
  // are grouped by name in the order their names first occur.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const v1::Metric*>> families;
  for (const v1::Metric& metric : metrics) {
    if (TypeName(metric) == nullptr) continue;
    auto [it, inserted] = families.try_emplace(metric.name());
    if (inserted) order.push_back(metric.name());
    it->second.push_back(&metric);
  }
  std::string out;
  for (const std::string& name : order) {
    const std::vector<const v1::Metric*>& family = families[name];
    absl::StrAppend(&out, "# HELP ", name, " ",
                    EscapeHelp(family.front()->help()), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", TypeName(*family.front()),
                    "\n");
    for (const v1::Metric* metric : family) {
      // A family has one type; a metric of another type under the same
      // name would make the output invalid, so it is left out.
      if (metric->value_case() != family.front()->value_case()) continue;
      AppendMetric(*metric, &out);
    }
  }
  return out;
}

}  // namespace ferry::admin
