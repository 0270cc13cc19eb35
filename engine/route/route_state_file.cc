#include "engine/route/route_state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/spool/crc32c.h"

namespace ferry::route {
namespace {

// Far above any real table (an estimate: 10,000 routes with one next hop
// take under 1 MB), so that a file that is not a state file is rejected
// before it is read into memory.
constexpr off_t kMaxStateFileSize = off_t{256} << 20;

absl::Status ErrnoError(absl::string_view step, const std::string& path,
                        int error) {
  return absl::UnavailableError(
      absl::StrCat(step, " ", path, " failed: ", strerror(error)));
}

absl::Status Damaged(const std::string& path, absl::string_view problem) {
  return absl::DataLossError(absl::StrCat(
      "route state file ", path, " is damaged (", problem,
      "). Restore it from a backup, or remove it to start with the "
      "configuration file's routes; routes changed through the admin API "
      "are then lost"));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  }
  if (fd < 0) return ErrnoError("open", path, errno);
  struct stat info;
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoError("fstat", path, error);
  }
  if (info.st_size > kMaxStateFileSize) {
    close(fd);
    return Damaged(path,
                   absl::StrCat(info.st_size, " bytes, over the maximum of ",
                                kMaxStateFileSize));
  }
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      close(fd);
      return ErrnoError("read", path, error);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return bytes;
}

absl::Status WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(strerror(errno));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open directory", dir, errno);
  const int result = fsync(fd);
  const int error = errno;
  close(fd);
  if (result != 0) return ErrnoError("fsync directory", dir, error);
  return absl::OkStatus();
}

// Writes and syncs the temporary file. On error, removes it.
absl::Status WriteTemporary(const std::string& temporary,
                            const std::string& bytes) {
  const int fd =
      open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("create", temporary, errno);
  absl::Status status = WriteAll(fd, bytes);
  if (!status.ok()) {
    status = absl::UnavailableError(
        absl::StrCat("write ", temporary, " failed: ", status.message()));
  } else if (fsync(fd) != 0) {
    status = ErrnoError("fsync", temporary, errno);
  }
  if (close(fd) != 0 && status.ok()) {
    status = ErrnoError("close", temporary, errno);
  }
  if (!status.ok()) unlink(temporary.c_str());
  return status;
}

}  // namespace

absl::StatusOr<state::RouteState> ReadRouteStateFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  state::RouteStateFile file;
  if (!file.ParseFromString(*bytes)) {
    return Damaged(path, "not a route state file");
  }
  const uint32_t crc =
      spool::Crc32c(0, file.state().data(), file.state().size());
  if (crc != file.state_crc32c()) {
    return Damaged(path, "checksum mismatch");
  }
  state::RouteState route_state;
  if (!route_state.ParseFromString(file.state())) {
    return Damaged(path, "the state does not parse");
  }
  if (route_state.version() == 0) return Damaged(path, "version 0");
  if (route_state.source() != state::ROUTE_SOURCE_CONFIG &&
      route_state.source() != state::ROUTE_SOURCE_ADMIN_API) {
    return Damaged(path, absl::StrCat("unknown route source ",
                                      static_cast<int>(route_state.source())));
  }
  return route_state;
}

absl::Status WriteRouteStateFile(const std::string& path,
                                 const state::RouteState& state) {
  state::RouteStateFile file;
  state.SerializeToString(file.mutable_state());
  file.set_state_crc32c(
      spool::Crc32c(0, file.state().data(), file.state().size()));
  const std::string temporary = absl::StrCat(path, ".tmp");
  absl::Status status = WriteTemporary(temporary, file.SerializeAsString());
  if (!status.ok()) return status;
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    return ErrnoError(absl::StrCat("rename ", temporary, " to"), path, error);
  }
  return SyncDirectory(DirectoryOf(path));
}

}  // namespace ferry::route
