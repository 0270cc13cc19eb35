#include "engine/config/validator.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/config/config.h"
#include "engine/config/duration.h"
#include "engine/config/listen_address.h"

namespace ferry::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;

// Larger values are most likely typos. Each worker owns an io_uring, a
// listening socket per address and its own spool segments.
constexpr uint32_t kMaxWorkers = 1024;
constexpr uint64_t kMinSegmentSize = 1 << 20;
constexpr uint32_t kMaxSpareSegments = 64;
constexpr absl::Duration kMaxConnectionIdleTime = absl::Seconds(300);

// RFC 1035 section 2.3.4 limits labels to 63 octets. A name in wire form is
// at most 255 octets, which leaves 253 characters in text form.
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxNameLength = 253;

std::string LabelProblem(absl::string_view label) {
  if (label.empty()) return "it has an empty label";
  if (label.size() > kMaxLabelLength) {
    return absl::StrCat("the label \"", label, "\" is longer than ",
                        kMaxLabelLength, " characters");
  }
  for (char c : label) {
    if (!absl::ascii_isalnum(c) && c != '-') {
      return absl::StrCat("it contains '", std::string(1, c),
                          "', which is not a letter, digit or hyphen");
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return absl::StrCat("the label \"", label,
                        "\" starts or ends with a hyphen");
  }
  return "";
}

// Returns the field value as text format writes it: 0, "", "300s".
std::string ValueText(const Message& message, const FieldDescriptor* field) {
  std::string text;
  TextFormat::PrintFieldValueToString(message, field, -1, &text);
  return text;
}

uint64_t UnsignedValue(const Message& message, const FieldDescriptor* field) {
  const Reflection* reflection = message.GetReflection();
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
    return reflection->GetUInt64(message, field);
  }
  return reflection->GetUInt32(message, field);
}

}  // namespace

std::string DnsNameProblem(absl::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > kMaxNameLength) {
    return absl::StrCat("it is longer than ", kMaxNameLength, " characters");
  }
  if (name.back() == '.') return "it ends with a dot";
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    std::string problem = LabelProblem(label);
    if (!problem.empty()) return problem;
  }
  return "";
}

Validator::Validator(ConfigSource source) : source_(std::move(source)) {}

absl::Status Validator::status() const {
  if (errors_.empty()) return absl::OkStatus();
  std::vector<Error> sorted = errors_;
  std::stable_sort(
      sorted.begin(), sorted.end(), [](const Error& a, const Error& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
      });
  std::vector<absl::string_view> lines;
  for (const Error& error : sorted) lines.push_back(error.text);
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

void Validator::Report(const FieldPath& path, absl::string_view problem) {
  Error error = {INT_MAX, 0, ""};
  if (!source_.file_name.empty()) {
    absl::StrAppend(&error.text, source_.file_name);
  }
  TextFormat::ParseLocation location = path.Locate(source_.locations);
  if (location.line >= 0) {
    error.line = location.line;
    error.column = location.column;
    absl::StrAppend(&error.text, ":", location.line + 1, ":",
                    location.column + 1);
  }
  if (!error.text.empty()) error.text += ": ";
  absl::StrAppend(&error.text, path.ToString(), ": ", problem);
  errors_.push_back(std::move(error));
}

std::string Validator::LineNote(const FieldPath& path) const {
  TextFormat::ParseLocation location = path.Locate(source_.locations);
  if (location.line < 0) return "";
  return absl::StrCat(" (line ", location.line + 1, ")");
}

// ---- Fields written as 0 or "" ----

void Validator::CheckWrittenZeros(const Config& written) {
  if (source_.locations == nullptr) return;
  // A route with one next hop gives the defaults inside repeated messages.
  Config defaults;
  defaults.add_route()->add_next_hop();
  ApplyDefaults(&defaults);
  CheckZerosIn(written, defaults, FieldPath(Config::descriptor()),
               source_.locations);
}

void Validator::CheckZerosIn(const Message& written, const Message& defaults,
                             const FieldPath& path,
                             const TextFormat::ParseInfoTree* tree) {
  const google::protobuf::Descriptor* type = written.GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->message_type() != nullptr) {
      CheckZeroMessages(written, defaults, field, path, tree);
    } else if (!field->is_repeated()) {
      CheckZeroScalar(written, defaults, field, path, tree);
    }
  }
}

void Validator::CheckZeroScalar(const Message& written, const Message& defaults,
                                const FieldDescriptor* field,
                                const FieldPath& path,
                                const TextFormat::ParseInfoTree* tree) {
  // For a proto3 scalar, HasField() is false exactly when the value is 0.
  if (tree->GetLocation(field, -1).line < 0 ||
      written.GetReflection()->HasField(written, field) ||
      !defaults.GetReflection()->HasField(defaults, field)) {
    return;
  }
  Report(path.Child(field),
         absl::StrCat(ValueText(written, field),
                      " is not a valid value. Remove the line to use the "
                      "default (",
                      ValueText(defaults, field), ")."));
}

void Validator::CheckZeroMessages(const Message& written,
                                  const Message& defaults,
                                  const FieldDescriptor* field,
                                  const FieldPath& path,
                                  const TextFormat::ParseInfoTree* tree) {
  const Reflection* reflection = written.GetReflection();
  if (!field->is_repeated()) {
    const TextFormat::ParseInfoTree* nested = tree->GetTreeForNested(field, -1);
    if (nested == nullptr) return;
    CheckZerosIn(reflection->GetMessage(written, field),
                 defaults.GetReflection()->GetMessage(defaults, field),
                 path.Child(field), nested);
    return;
  }
  if (defaults.GetReflection()->FieldSize(defaults, field) == 0) return;
  const Message& element_defaults =
      defaults.GetReflection()->GetRepeatedMessage(defaults, field, 0);
  for (int i = 0; i < reflection->FieldSize(written, field); ++i) {
    const TextFormat::ParseInfoTree* nested = tree->GetTreeForNested(field, i);
    if (nested == nullptr) continue;
    CheckZerosIn(reflection->GetRepeatedMessage(written, field, i),
                 element_defaults, path.Child(field, i), nested);
  }
}

// ---- Every value of the effective configuration ----

void Validator::CheckEffective(const Config& config) {
  FieldPath root(Config::descriptor());
  CheckHostname(config, root);
  CheckListenAddresses(config, root);
  CheckSpoolDir(config, root);
  CheckAdmin(config.admin(), root.Child("admin"));
  CheckWorkers(config, root);
  CheckRoutes(config, root);
  CheckLimits(config.limits(), root.Child("limits"));
  CheckDurationFields(config.server_timeouts(), root.Child("server_timeouts"));
  CheckDurationFields(config.client_timeouts(), root.Child("client_timeouts"));
  CheckDelivery(config.delivery(), root.Child("delivery"));
  CheckSpoolAndInput(config, root);
}

void Validator::CheckHostname(const Config& config, const FieldPath& root) {
  const std::string& hostname = config.hostname();
  FieldPath path = root.Child("hostname");
  if (hostname.empty()) {
    Report(path,
           "is empty because gethostname() returned no name. Set it to this "
           "server's fully qualified domain name.");
    return;
  }
  std::string problem = DnsNameProblem(hostname);
  if (problem.empty()) return;
  Report(path, absl::StrCat("\"", hostname,
                            "\" is not a valid host name because ", problem,
                            ". Set it to this server's fully qualified "
                            "domain name."));
}

void Validator::CheckListenAddresses(const Config& config,
                                     const FieldPath& root) {
  std::map<std::string, int> seen;  // canonical address -> first index
  for (int i = 0; i < config.smtp_listen_size(); ++i) {
    FieldPath path = root.Child("smtp_listen", i);
    const std::string& text = config.smtp_listen(i);
    absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
    if (!address.ok()) {
      Report(path, absl::StrCat("invalid listen address \"", text,
                                "\": ", address.status().message()));
      continue;
    }
    auto [it, inserted] = seen.emplace(address->ToString(), i);
    if (inserted) continue;
    Report(path, absl::StrCat("\"", text, "\" repeats smtp_listen[", it->second,
                              "]. Remove one of them."));
  }
  CheckMetricsListen(config, seen, root);
}

void Validator::CheckMetricsListen(const Config& config,
                                   const std::map<std::string, int>& smtp,
                                   const FieldPath& root) {
  const std::string& text = config.metrics_listen();
  if (text.empty()) return;
  FieldPath path = root.Child("metrics_listen");
  absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
  if (!address.ok()) {
    Report(path, absl::StrCat("invalid listen address \"", text,
                              "\": ", address.status().message()));
    return;
  }
  auto it = smtp.find(address->ToString());
  if (it != smtp.end()) {
    Report(path, absl::StrCat("\"", text, "\" is also smtp_listen[", it->second,
                              "]. Give the metrics endpoint its own port."));
  }
}

void Validator::CheckSpoolDir(const Config& config, const FieldPath& root) {
  const std::string& spool_dir = config.spool_dir();
  if (spool_dir.empty()) {
    Report(root.Child("spool_dir"),
           "is empty because neither XDG_STATE_HOME nor HOME is set to an "
           "absolute path. Set spool_dir to an absolute path.");
  } else if (spool_dir[0] != '/') {
    Report(root.Child("spool_dir"),
           absl::StrCat("\"", spool_dir,
                        "\" is a relative path. Set an absolute path, such "
                        "as \"/var/spool/ferry\"."));
  }
}

void Validator::CheckAdmin(const Admin& admin, const FieldPath& path) {
  // sun_path holds 108 bytes including the terminating NUL.
  constexpr size_t kMaxSocketPath = 107;
  const std::string& socket = admin.socket();
  if (socket.empty()) {
    Report(path.Child("socket"),
           "is empty because neither XDG_RUNTIME_DIR nor HOME is set to an "
           "absolute path. Set admin.socket to an absolute path, such as "
           "\"/run/ferry/admin.sock\".");
  } else if (socket[0] != '/') {
    Report(path.Child("socket"),
           absl::StrCat("\"", socket,
                        "\" is a relative path. Set an absolute path, such "
                        "as \"/run/ferry/admin.sock\"."));
  } else if (socket.size() > kMaxSocketPath) {
    Report(path.Child("socket"),
           absl::StrCat("is ", socket.size(), " bytes long; a Unix socket "
                        "path may have at most ", kMaxSocketPath,
                        ". Choose a shorter path."));
  }
  const bool any_tls = !admin.tls_cert_file().empty() ||
                       !admin.tls_key_file().empty() ||
                       !admin.tls_client_ca_file().empty();
  if (admin.tcp_listen().empty()) {
    if (any_tls) {
      Report(path.Child("tcp_listen"),
             "is empty, so the TLS files are unused. Set tcp_listen to "
             "serve the admin API over TCP, or remove the tls_ fields.");
    }
    return;
  }
  absl::StatusOr<ListenAddress> address = ParseListenAddress(admin.tcp_listen());
  if (!address.ok()) {
    Report(path.Child("tcp_listen"), address.status().message());
  }
  for (const char* field :
       {"tls_cert_file", "tls_key_file", "tls_client_ca_file"}) {
    const google::protobuf::FieldDescriptor* descriptor =
        Admin::descriptor()->FindFieldByName(field);
    const std::string& value =
        admin.GetReflection()->GetString(admin, descriptor);
    if (value.empty()) {
      Report(path.Child(field),
             "is required with tcp_listen: the admin API is served over "
             "TCP only with TLS and client certificates.");
    }
  }
}

void Validator::CheckWorkers(const Config& config, const FieldPath& root) {
  if (config.workers() <= kMaxWorkers) return;
  Report(root.Child("workers"),
         absl::StrCat(config.workers(), " is more than the maximum of ",
                      kMaxWorkers, ". Use 0 for one worker per CPU."));
}

void Validator::CheckMinimum(const Message& message,
                             absl::string_view field_name, uint64_t minimum,
                             absl::string_view reason, const FieldPath& path) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(field_name));
  uint64_t value = UnsignedValue(message, field);
  if (value >= minimum) return;
  Report(path.Child(field), absl::StrCat(value, " is less than the minimum of ",
                                         minimum, reason, "."));
}

void Validator::CheckLimits(const Limits& limits, const FieldPath& path) {
  for (const char* name : {"max_message_size", "max_recipients", "max_commands",
                           "max_errors", "max_received_headers",
                           "max_connections", "max_connections_per_address"}) {
    CheckMinimum(limits, name, 1, "", path);
  }
  CheckMinimum(limits, "max_command_line", 512,
               " that RFC 5321 section 4.5.3.1.4 requires", path);
  // A spool record contains a whole message, and its size field is 32 bits
  // with a 1 GiB cap (kMaxPayloadSize in engine/spool/record.h). The
  // envelope needs room too, so the message limit stays below 1000 MiB.
  constexpr uint64_t kMaxMessageSize = uint64_t{1000} << 20;
  if (limits.max_message_size() > kMaxMessageSize) {
    Report(path.Child("max_message_size"),
           absl::StrCat(limits.max_message_size(),
                        " is more than the maximum of ", kMaxMessageSize,
                        " (1000 MiB) that one spool record can hold."));
  }
  if (limits.max_receiving_bytes() < limits.max_message_size()) {
    Report(path.Child("max_receiving_bytes"),
           absl::StrCat(limits.max_receiving_bytes(),
                        " is less than limits.max_message_size (",
                        limits.max_message_size(),
                        "), so a message of the largest size could never be "
                        "received. Raise it or lower max_message_size."));
  }
  if (limits.max_connections_per_address() > limits.max_connections()) {
    Report(path.Child("max_connections_per_address"),
           absl::StrCat(limits.max_connections_per_address(),
                        " is more than limits.max_connections (",
                        limits.max_connections(),
                        "). Lower it or raise max_connections."));
  }
}

std::optional<absl::Duration> Validator::CheckDuration(const std::string& text,
                                                       const FieldPath& path,
                                                       bool zero_allowed) {
  absl::StatusOr<absl::Duration> duration = ParseDuration(text);
  if (!duration.ok()) {
    Report(path, absl::StrCat("invalid duration \"", text,
                              "\": ", duration.status().message()));
    return std::nullopt;
  }
  if (*duration < absl::ZeroDuration() ||
      (*duration == absl::ZeroDuration() && !zero_allowed)) {
    Report(path, absl::StrCat("\"", text,
                              "\" is not positive. Use a duration such as "
                              "\"30s\", or remove the line to use the "
                              "default."));
    return std::nullopt;
  }
  return *duration;
}

// Checks every string field of `message`, because in the timeout and
// delivery messages each string field is a duration.
void Validator::CheckDurationFields(const Message& message,
                                    const FieldPath& path) {
  const google::protobuf::Descriptor* type = message.GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->type() != FieldDescriptor::TYPE_STRING) continue;
    CheckDuration(message.GetReflection()->GetString(message, field),
                  path.Child(field));
  }
}

void Validator::CheckDelivery(const Delivery& delivery, const FieldPath& path) {
  std::optional<absl::Duration> initial =
      CheckDuration(delivery.initial_backoff(), path.Child("initial_backoff"));
  std::optional<absl::Duration> max =
      CheckDuration(delivery.max_backoff(), path.Child("max_backoff"));
  std::optional<absl::Duration> lifetime =
      CheckDuration(delivery.queue_lifetime(), path.Child("queue_lifetime"));
  CheckMinimum(delivery, "max_connections_per_destination", 1, "", path);
  CheckMinimum(delivery, "max_messages_per_connection", 1, "", path);
  if (initial && max && *initial > *max) {
    Report(path.Child("initial_backoff"),
           absl::StrCat("\"", delivery.initial_backoff(),
                        "\" is longer than delivery.max_backoff (\"",
                        delivery.max_backoff(),
                        "\"). Lower initial_backoff or raise max_backoff."));
  }
  if (initial && lifetime && *lifetime <= *initial) {
    Report(path.Child("queue_lifetime"),
           absl::StrCat("\"", delivery.queue_lifetime(),
                        "\" is not longer than delivery.initial_backoff (\"",
                        delivery.initial_backoff(),
                        "\"), so deferred mail would bounce before its "
                        "first retry. Raise queue_lifetime."));
  }
  std::optional<absl::Duration> idle = CheckDuration(
      delivery.connection_idle_time(), path.Child("connection_idle_time"),
      /*zero_allowed=*/true);
  if (idle && *idle > kMaxConnectionIdleTime) {
    Report(path.Child("connection_idle_time"),
           absl::StrCat("\"", delivery.connection_idle_time(),
                        "\" is longer than the maximum of \"300s\", the "
                        "time a server may wait for the next command "
                        "(RFC 5321 4.5.3.2.7). Lower it."));
  }
}

void Validator::CheckSpoolAndInput(const Config& config,
                                   const FieldPath& root) {
  if (config.segment_size() < kMinSegmentSize) {
    Report(root.Child("segment_size"),
           absl::StrCat(config.segment_size(), " is less than the minimum of ",
                        kMinSegmentSize, " (1 MiB)."));
  }
  if (config.spare_segments() > kMaxSpareSegments) {
    Report(
        root.Child("spare_segments"),
        absl::StrCat(config.spare_segments(), " is more than the maximum of ",
                     kMaxSpareSegments, "."));
  }
  if (!BareLineEnding_IsValid(config.bare_line_ending())) {
    Report(root.Child("bare_line_ending"),
           absl::StrCat(config.bare_line_ending(),
                        " is not a known value. Use "
                        "BARE_LINE_ENDING_NORMALIZE or "
                        "BARE_LINE_ENDING_REJECT."));
  }
}

}  // namespace ferry::config
