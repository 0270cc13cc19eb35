// Validator: checks one configuration and collects every error as one line
// that names the file position, the field path and the fix. Only config.cc
// uses it. An instance is used once, on one thread.
#ifndef FERRY_ENGINE_CONFIG_VALIDATOR_H_
#define FERRY_ENGINE_CONFIG_VALIDATOR_H_

#include <climits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/config/field_path.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "proto/config.pb.h"

namespace ferry::config {

// Origin of the configuration being checked, for error messages.
struct ConfigSource {
  // File name for messages. Empty for a configuration built in memory.
  std::string file_name;
  // Field locations recorded by the text-format parser, or null.
  const google::protobuf::TextFormat::ParseInfoTree* locations = nullptr;
};

class Validator {
 public:
  // `source.locations`, if not null, must outlive the Validator.
  explicit Validator(ConfigSource source);

  // Reports each field that `written` sets explicitly to 0 or "" while its
  // default is not zero. Does nothing without source locations, because
  // proto3 cannot tell an explicit 0 from an absent field.
  void CheckWrittenZeros(const Config& written);

  // Checks every value of `config`.
  // REQUIRES: ApplyDefaults(&config) was called, or errors are reported for
  // the fields that it would have filled.
  void CheckEffective(const Config& config);

  // Returns OK, or InvalidArgument with the errors one per line, in the
  // order of their position in the file. Errors without a position come
  // last, in the order found.
  absl::Status status() const;

 private:
  // Adds "FILE:LINE:COL: PATH: PROBLEM" (leaving out what is unknown).
  void Report(const FieldPath& path, absl::string_view problem);
  // Returns " (line N)" for the line of `path`, or "" when it is unknown.
  std::string LineNote(const FieldPath& path) const;

  void CheckZerosIn(const google::protobuf::Message& written,
                    const google::protobuf::Message& defaults,
                    const FieldPath& path,
                    const google::protobuf::TextFormat::ParseInfoTree* tree);
  void CheckZeroScalar(const google::protobuf::Message& written,
                       const google::protobuf::Message& defaults,
                       const google::protobuf::FieldDescriptor* field,
                       const FieldPath& path,
                       const google::protobuf::TextFormat::ParseInfoTree* tree);
  void CheckZeroMessages(
      const google::protobuf::Message& written,
      const google::protobuf::Message& defaults,
      const google::protobuf::FieldDescriptor* field, const FieldPath& path,
      const google::protobuf::TextFormat::ParseInfoTree* tree);

  void CheckHostname(const Config& config, const FieldPath& root);
  void CheckListenAddresses(const Config& config, const FieldPath& root);
  // `smtp` maps each canonical smtp_listen address to its index.
  void CheckMetricsListen(const Config& config,
                          const std::map<std::string, int>& smtp,
                          const FieldPath& root);
  void CheckSpoolDir(const Config& config, const FieldPath& root);
  void CheckAdmin(const Admin& admin, const FieldPath& path);
  void CheckWorkers(const Config& config, const FieldPath& root);
  void CheckLimits(const Limits& limits, const FieldPath& path);
  void CheckMinimum(const google::protobuf::Message& message,
                    absl::string_view field_name, uint64_t minimum,
                    absl::string_view reason, const FieldPath& path);
  void CheckDurationFields(const google::protobuf::Message& message,
                           const FieldPath& path);
  // Reports a duration that does not parse, is negative, or is zero
  // unless `zero_allowed`.
  std::optional<absl::Duration> CheckDuration(const std::string& text,
                                              const FieldPath& path,
                                              bool zero_allowed = false);
  void CheckDelivery(const Delivery& delivery, const FieldPath& path);
  void CheckSpoolAndInput(const Config& config, const FieldPath& root);

  // Route checks, in validate_routes.cc.
  void CheckRoutes(const Config& config, const FieldPath& root);
  void CheckDomain(const Route& route, const FieldPath& path);
  void CheckNextHops(const Route& route, const FieldPath& path);
  void CheckNextHop(const NextHop& next_hop, const FieldPath& path);
  void CheckRecipients(const Route& route, const FieldPath& path);
  void CheckEtrnClients(const Route& route, const FieldPath& path);

  struct Error {
    int line;  // zero-based; INT_MAX when unknown
    int column;
    std::string text;
  };

  ConfigSource source_;
  std::vector<Error> errors_;
};

// Returns "" if `name` is a valid DNS name (letters, digits and hyphens in
// labels of 1 to 63 characters, at most 253 in all, no trailing dot), or
// else the reason it is not, worded to follow "because".
std::string DnsNameProblem(absl::string_view name);

}  // namespace ferry::config

#endif  // FERRY_ENGINE_CONFIG_VALIDATOR_H_
