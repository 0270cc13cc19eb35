// MeasureSpool: a directory walk of the worker directories and statvfs().
#include "engine/metrics/spool_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <string_view>

#include "engine/spool/recovery.h"

namespace ferry::metrics {
namespace {

// Returns true for a worker directory name: "w" and decimal digits.
bool IsWorkerDirectoryName(std::string_view name) {
  if (name.size() < 2 || name[0] != 'w') return false;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Returns the total size of the segment files, spare ones included, in the
// directory `dir_fd`. Takes ownership of `dir_fd`.
uint64_t SegmentBytes(int dir_fd) {
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    close(dir_fd);
    return 0;
  }
  uint64_t total = 0;
  while (const dirent* entry = readdir(dir)) {
    if (!spool::ParseSegmentFileName(entry->d_name).has_value() &&
        !spool::ParseSpareFileName(entry->d_name).has_value()) {
      continue;
    }
    struct stat info;
    if (fstatat(dirfd(dir), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(info.st_mode)) {
      total += static_cast<uint64_t>(info.st_size);
    }
  }
  closedir(dir);
  return total;
}

}  // namespace

SpoolUsage MeasureSpool(const std::string& spool_dir) {
  SpoolUsage usage;
  struct statvfs fs;
  if (statvfs(spool_dir.c_str(), &fs) == 0) {
    usage.filesystem_known = true;
    usage.filesystem_free_bytes =
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    usage.filesystem_size_bytes =
        static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  DIR* root = opendir(spool_dir.c_str());
  if (root == nullptr) return usage;
  while (const dirent* entry = readdir(root)) {
    if (!IsWorkerDirectoryName(entry->d_name)) continue;
    const int fd = openat(dirfd(root), entry->d_name,
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) usage.segment_bytes += SegmentBytes(fd);
  }
  closedir(root);
  return usage;
}

}  // namespace ferry::metrics
