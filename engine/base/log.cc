#include "engine/base/log.h"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ferry {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
thread_local std::string thread_tag = "main";
thread_local LogSink* thread_sink = nullptr;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetLogThreadTag(std::string tag) { thread_tag = std::move(tag); }

void SetThreadLogSink(LogSink* sink) { thread_sink = sink; }

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void LogLine(LogLevel level, absl::string_view id, absl::string_view text) {
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                      absl::UTCTimeZone());
  absl::StrAppend(&line, " ", LevelName(level), " ", thread_tag, " ");
  if (!id.empty()) absl::StrAppend(&line, id, " ");
  absl::StrAppend(&line, text, "\n");
  if (thread_sink != nullptr) {
    thread_sink->Write(std::move(line));
    return;
  }
  // Threads without a sink (main, start-up) write at once.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

std::string LogQuote(absl::string_view value, size_t max) {
  std::string out;
  for (unsigned char c : value) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace ferry
