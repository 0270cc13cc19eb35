#include "engine/config/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/config/duration.h"
#include "engine/config/validator.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace ferry::config {
namespace {

using google::protobuf::TextFormat;

// A configuration file is typically a few kilobytes. The bound stops a mistaken
// --config=/dev/zero from filling memory.
constexpr size_t kMaxFileSize = 16 << 20;

// Returns the Levenshtein distance between `a` and `b`.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Returns the field of message type `type_name` whose name is closest to
// `name`, or "" when none is within two edits.
std::string ClosestFieldName(const std::string& type_name,
                             absl::string_view name) {
  const google::protobuf::Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          type_name);
  if (type == nullptr) return "";
  std::string best;
  size_t best_distance = 3;
  for (int i = 0; i < type->field_count(); ++i) {
    size_t distance = EditDistance(name, type->field(i)->name());
    if (distance < best_distance) {
      best = type->field(i)->name();
      best_distance = distance;
    }
  }
  return best;
}

// A position in the text as protobuf's tokenizer counts it: zero-based,
// with a tab advancing the column to the next multiple of 8.
struct TextPosition {
  int line = 0;
  int column = 0;
};

int NextColumn(int column, char c) {
  return c == '\t' ? column + 8 - column % 8 : column + 1;
}

// Returns the offset of `position` in `text`, or text.size() past the end.
size_t OffsetOf(absl::string_view text, TextPosition position) {
  TextPosition at;
  size_t offset = 0;
  for (; offset < text.size(); ++offset) {
    if (at.line > position.line ||
        (at.line == position.line && at.column >= position.column)) {
      break;
    }
    if (text[offset] == '\n') {
      ++at.line;
      at.column = 0;
    } else {
      at.column = NextColumn(at.column, text[offset]);
    }
  }
  return offset;
}

TextPosition PositionOf(absl::string_view text, size_t offset) {
  TextPosition position;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++position.line;
      position.column = 0;
    } else {
      position.column = NextColumn(position.column, text[i]);
    }
  }
  return position;
}

struct ParserMessage {
  std::string text;
  // The name that the message is about. The parser reports such errors at
  // the token after the name, so the collector moves them back to it.
  std::string token;
};

// Returns the text between `prefix` and `suffix` at the start of `message`,
// or nullopt when `message` does not start with `prefix`.
std::optional<std::string> QuotedAfter(absl::string_view message,
                                       absl::string_view prefix,
                                       absl::string_view suffix) {
  if (!absl::ConsumePrefix(&message, prefix)) return std::nullopt;
  size_t end = message.find(suffix);
  if (end == absl::string_view::npos) return std::nullopt;
  return std::string(message.substr(0, end));
}

// Rewrites the parser's 'Message type "T" has no field named "F".' as
// 'unknown field "F" in T', with a suggestion when a field name is close.
// Keeps other messages, and names the token of an unknown enum value.
ParserMessage RewriteParserMessage(const std::string& message) {
  std::optional<std::string> enum_value =
      QuotedAfter(message, "Unknown enumeration value of \"", "\"");
  if (enum_value) return {message, *enum_value};
  std::optional<std::string> type_name =
      QuotedAfter(message, "Message type \"", "\" has no field named \"");
  if (!type_name) return {message, ""};
  std::optional<std::string> field = QuotedAfter(
      message,
      absl::StrCat("Message type \"", *type_name, "\" has no field named \""),
      "\"");
  if (!field) return {message, ""};
  std::string text =
      absl::StrCat("unknown field \"", *field, "\" in ", *type_name);
  std::string closest = ClosestFieldName(*type_name, *field);
  if (!closest.empty()) {
    absl::StrAppend(&text, ". Did you mean \"", closest, "\"?");
  }
  return {text, *field};
}

// Collects the text-format parser's errors as "FILE:LINE:COL: MESSAGE".
class ParseErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  // `text` must outlive the collector.
  ParseErrorCollector(absl::string_view text, absl::string_view file_name)
      : text_(text), file_name_(file_name) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    ParserMessage rewritten = RewriteParserMessage(message);
    std::string position = file_name_;
    if (line >= 0) {
      TextPosition at = {line, column};
      if (!rewritten.token.empty()) at = FindTokenBefore(rewritten.token, at);
      absl::StrAppend(&position, ":", at.line + 1, ":", at.column + 1);
    }
    errors_.push_back(absl::StrCat(position, ": ", rewritten.text));
  }

  // Returns InvalidArgument with the errors, one per line.
  absl::Status status() const {
    if (errors_.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_name_, ": invalid text format"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
  }

 private:
  // Returns the position of the last `token` before `at`, or `at` itself
  // when there is none.
  TextPosition FindTokenBefore(absl::string_view token, TextPosition at) {
    size_t end = OffsetOf(text_, at);
    size_t start = text_.substr(0, end).rfind(token);
    if (start == absl::string_view::npos) return at;
    return PositionOf(text_, start);
  }

  absl::string_view text_;
  std::string file_name_;
  std::vector<std::string> errors_;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(
        errno,
        absl::StrCat("failed to open configuration file \"", path, "\""));
  }
  std::string content;
  absl::Status status;
  char buffer[65536];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = absl::ErrnoToStatus(
          errno,
          absl::StrCat("failed to read configuration file \"", path, "\""));
      break;
    }
    if (n == 0) break;
    if (content.size() + n > kMaxFileSize) {
      status = absl::InvalidArgumentError(
          absl::StrCat("configuration file \"", path, "\" is larger than ",
                       kMaxFileSize, " bytes"));
      break;
    }
    content.append(buffer, n);
  }
  close(fd);
  if (!status.ok()) return status;
  return content;
}

// REQUIRES: `text` passed validation.
absl::Duration ValidDuration(const std::string& text) {
  return *ParseDuration(text);
}

void ResolveDurations(const Config& config, Settings& settings) {
  settings.server_command_timeout =
      ValidDuration(config.server_timeouts().command());
  settings.server_data_block_timeout =
      ValidDuration(config.server_timeouts().data_block());
  const ClientTimeouts& client = config.client_timeouts();
  settings.client_connect_timeout = ValidDuration(client.connect());
  settings.client_greeting_timeout = ValidDuration(client.greeting());
  settings.client_command_timeout = ValidDuration(client.command());
  settings.client_data_initiation_timeout =
      ValidDuration(client.data_initiation());
  settings.client_data_block_timeout = ValidDuration(client.data_block());
  settings.client_data_termination_timeout =
      ValidDuration(client.data_termination());
  settings.initial_backoff = ValidDuration(config.delivery().initial_backoff());
  settings.max_backoff = ValidDuration(config.delivery().max_backoff());
  settings.queue_lifetime = ValidDuration(config.delivery().queue_lifetime());
  settings.connection_idle_time =
      ValidDuration(config.delivery().connection_idle_time());
}

int ResolveWorkers(uint32_t workers) {
  if (workers != 0) return static_cast<int>(workers);
  // hardware_concurrency() returns 0 when the count is unknown.
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseConfigText(*text, path);
}

absl::StatusOr<Config> ParseConfigText(absl::string_view text,
                                       absl::string_view file_name) {
  Config written;
  TextFormat::ParseInfoTree locations;
  ParseErrorCollector errors(text, file_name);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&locations);
  if (!parser.ParseFromString(std::string(text), &written)) {
    return errors.status();
  }
  Config effective = written;
  ApplyDefaults(&effective);
  Validator validator(ConfigSource{std::string(file_name), &locations});
  validator.CheckWrittenZeros(written);
  validator.CheckEffective(effective);
  if (!validator.status().ok()) return validator.status();
  return effective;
}

absl::Status ValidateConfig(const Config& config) {
  Validator validator(ConfigSource{});
  validator.CheckEffective(config);
  return validator.status();
}

absl::StatusOr<Settings> ResolveSettings(const Config& config) {
  Settings settings;
  settings.config = config;
  ApplyDefaults(&settings.config);
  absl::Status status = ValidateConfig(settings.config);
  if (!status.ok()) return status;
  for (const std::string& text : settings.config.smtp_listen()) {
    settings.smtp_listen.push_back(*ParseListenAddress(text));
  }
  settings.workers = ResolveWorkers(settings.config.workers());
  ResolveDurations(settings.config, settings);
  return settings;
}

std::string FormatConfig(const Config& config) {
  std::string text;
  TextFormat::PrintToString(config, &text);
  return text;
}

}  // namespace ferry::config
