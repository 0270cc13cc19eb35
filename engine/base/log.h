// Logging: one line per event to stderr, in the form
//   2026-12-04T15:40:00.123456Z info w0 ID event key=value ...
// where w0 is the worker (or "main"), ID a session or queue ID. Each line is
// written with one write(2) call, so lines from different threads never
// interleave. Callers never pass message bodies or credentials.
#ifndef FERRY_ENGINE_BASE_LOG_H_
#define FERRY_ENGINE_BASE_LOG_H_

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ferry {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Sets the thread's tag ("w0", "main") shown on every line it logs.
void SetLogThreadTag(std::string tag);

// The destination of a thread's log lines in place of a blocking write(2)
// to stderr. A worker installs one that hands its lines to its io_uring.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // Takes one complete line, newline included.
  virtual void Write(std::string line) = 0;
};

// Sends the calling thread's lines to `sink` (nullptr: back to stderr).
// The sink must outlive its use; the thread clears it before it is freed.
void SetThreadLogSink(LogSink* sink);

// Hides lines below `level`. Thread-safe; default kInfo.
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Writes one line. `id` may be empty.
void LogLine(LogLevel level, absl::string_view id, absl::string_view text);

// Quotes a peer-supplied value for a key=value field: printable ASCII is
// kept, anything else is escaped, and the result is cut at `max` octets.
std::string LogQuote(absl::string_view value, size_t max = 200);

namespace log_internal {

// Passes each argument to absl::StrCat unchanged, except std::string_view,
// which Debian's abseil (built with its own string_view) does not accept.
template <typename T>
const T& Arg(const T& value) {
  return value;
}
inline absl::string_view Arg(std::string_view value) {
  return absl::string_view(value.data(), value.size());
}

}  // namespace log_internal

template <typename... Args>
void LogInfo(absl::string_view id, const Args&... args) {
  if (LogEnabled(LogLevel::kInfo)) {
    LogLine(LogLevel::kInfo, id, absl::StrCat(log_internal::Arg(args)...));
  }
}

template <typename... Args>
void LogWarning(absl::string_view id, const Args&... args) {
  if (LogEnabled(LogLevel::kWarning)) {
    LogLine(LogLevel::kWarning, id, absl::StrCat(log_internal::Arg(args)...));
  }
}

template <typename... Args>
void LogError(absl::string_view id, const Args&... args) {
  LogLine(LogLevel::kError, id, absl::StrCat(log_internal::Arg(args)...));
}

template <typename... Args>
void LogDebug(absl::string_view id, const Args&... args) {
  if (LogEnabled(LogLevel::kDebug)) {
    LogLine(LogLevel::kDebug, id, absl::StrCat(log_internal::Arg(args)...));
  }
}

}  // namespace ferry

#endif  // FERRY_ENGINE_BASE_LOG_H_
