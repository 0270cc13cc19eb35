#include "engine/server/spool_mount.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"
#include "engine/base/log.h"

namespace ferry::server {
namespace {

// Decodes the \ooo octal escapes that mountinfo uses for space, tab,
// newline and backslash in paths.
std::string DecodeOctalEscapes(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      const absl::string_view digits = text.substr(i + 1, 3);
      bool octal = true;
      for (char c : digits) octal = octal && c >= '0' && c <= '7';
      if (octal) {
        out += static_cast<char>((digits[0] - '0') * 64 +
                                 (digits[1] - '0') * 8 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// Parses one mountinfo line; nullopt when it does not have the fields.
std::optional<MountEntry> ParseLine(absl::string_view line) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  // ID, parent ID, major:minor, root, mount point, mount options, optional
  // fields, "-", file system type, source, super options.
  size_t separator = 6;
  while (separator < fields.size() && fields[separator] != "-") ++separator;
  if (separator + 3 >= fields.size()) return std::nullopt;
  MountEntry entry;
  entry.mount_point = DecodeOctalEscapes(fields[4]);
  entry.mount_options = std::string(fields[5]);
  entry.fs_type = std::string(fields[separator + 1]);
  entry.super_options = std::string(fields[separator + 3]);
  return entry;
}

// True when `mount_point` is `path` or one of its parent directories.
bool Contains(std::string_view mount_point, std::string_view path) {
  if (mount_point == "/") return !path.empty() && path[0] == '/';
  if (path.substr(0, mount_point.size()) != mount_point) return false;
  return path.size() == mount_point.size() || path[mount_point.size()] == '/';
}

bool HasOption(std::string_view options, absl::string_view name) {
  for (absl::string_view option : absl::StrSplit(ToAbsl(options), ',')) {
    if (option == name) return true;
  }
  return false;
}

}  // namespace

std::optional<MountEntry> FindMount(std::string_view mountinfo,
                                    std::string_view path) {
  std::optional<MountEntry> best;
  for (absl::string_view line : absl::StrSplit(ToAbsl(mountinfo), '\n')) {
    std::optional<MountEntry> entry = ParseLine(line);
    if (!entry || !Contains(entry->mount_point, path)) continue;
    if (!best || entry->mount_point.size() >= best->mount_point.size()) {
      best = std::move(entry);
    }
  }
  return best;
}

bool HasOnlineDiscard(const MountEntry& mount) {
  return HasOption(mount.mount_options, "discard") ||
         HasOption(mount.super_options, "discard");
}

void WarnAboutSpoolMount(const std::string& spool_dir) {
  char resolved[PATH_MAX];
  if (realpath(spool_dir.c_str(), resolved) == nullptr) return;
  std::ifstream file("/proc/self/mountinfo");
  if (!file) return;
  std::stringstream text;
  text << file.rdbuf();
  std::optional<MountEntry> mount = FindMount(text.str(), resolved);
  if (!mount || !HasOnlineDiscard(*mount)) return;
  LogWarning("", "event=spool_mount_discard spool=", spool_dir,
             " mount=", LogQuote(mount->mount_point), " fs=", mount->fs_type,
             " (mounted with discard: deleting a spent segment delays the "
             "fdatasync calls after it, and the 250 replies wait for them. "
             "Mount it without discard and run fstrim periodically, for "
             "example with fstrim.timer.)");
}

}  // namespace ferry::server
