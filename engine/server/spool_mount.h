// The mount that contains the spool, read from /proc/self/mountinfo, so that
// ferryd can warn about mount options that slow down its fdatasync calls.
#ifndef FERRY_ENGINE_SERVER_SPOOL_MOUNT_H_
#define FERRY_ENGINE_SERVER_SPOOL_MOUNT_H_

#include <optional>
#include <string>
#include <string_view>

namespace ferry::server {

// One line of /proc/self/mountinfo (proc(5)), with the fields ferryd uses.
struct MountEntry {
  std::string mount_point;  // with the octal escapes such as \040 decoded
  std::string fs_type;
  std::string mount_options;  // per-mount options, such as "rw,relatime"
  std::string super_options;  // file system options, such as "rw,discard"
};

// Returns the entry in `mountinfo` (the text of /proc/self/mountinfo) of
// the mount that contains `path`, an absolute path without symbolic links.
// That is the longest mount point that is `path` or one of its parent
// directories. Of equal ones it is the last line, the mount on top.
// Returns nullopt when no line parses or none matches.
std::optional<MountEntry> FindMount(std::string_view mountinfo,
                                    std::string_view path);

// True when the mount deletes with online discard: "discard" among its
// mount or file system options.
bool HasOnlineDiscard(const MountEntry& mount);

// Logs one warning when the file system of `spool_dir` is mounted with
// online discard. Each deleted spool segment then delays the fdatasync
// calls after it, and the 250 replies wait for those. Logs nothing when
// the mount cannot be found.
void WarnAboutSpoolMount(const std::string& spool_dir);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_SPOOL_MOUNT_H_
