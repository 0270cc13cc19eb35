#include "engine/server/spool_loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/base/log.h"
#include "engine/spool/queue_id.h"
#include "engine/spool/recovery.h"

namespace ferry::server {
namespace {

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, " failed: ", strerror(errno)));
}

// Creates `path` and its missing parents with mode 0700.
absl::Status MakeDirectories(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix =
        slash == std::string::npos ? path : path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return Errno("mkdir", prefix);
    }
    if (slash == std::string::npos) return absl::OkStatus();
  }
}

// Returns the worker numbers N of the "wN" directories in `spool_dir`.
absl::StatusOr<std::vector<int>> ListWorkerDirectories(
    const std::string& spool_dir) {
  DIR* dir = opendir(spool_dir.c_str());
  if (dir == nullptr) return Errno("opendir", spool_dir);
  std::vector<int> found;
  while (dirent* entry = readdir(dir)) {
    const absl::string_view name = entry->d_name;
    int index = 0;
    if (name.size() > 1 && name[0] == 'w' &&
        absl::SimpleAtoi(name.substr(1), &index) && index >= 0 &&
        name == absl::StrCat("w", index)) {
      found.push_back(index);
    }
  }
  closedir(dir);
  return found;
}

// Cuts a segment's tail off. A failure is only logged: the writer never
// appends to old segments, and the next start finds the same cut again.
void RepairCut(const spool::SegmentCut& cut, bool truncate_file) {
  LogWarning("", "spool event=segment_cut segment=", cut.path,
             " offset=", cut.offset,
             " reason=", spool::CutReasonName(cut.reason),
             " truncated=", truncate_file ? "yes" : "no",
             " detail=", LogQuote(cut.detail));
  if (!truncate_file) return;
  if (truncate(cut.path.c_str(), static_cast<off_t>(cut.offset)) != 0) {
    LogWarning("", "spool event=truncate_failed segment=", cut.path,
               " error=", LogQuote(strerror(errno)));
  }
}

// Logs one skipped record. Its queue ID comes from damaged bytes, so it
// leads the line only when it has the form of a queue ID.
void LogSkipped(const spool::SkippedRecord& skipped) {
  const bool valid_id = spool::ParseQueueId(skipped.queue_id).ok();
  const std::string unparsed_id =
      valid_id || skipped.queue_id.empty()
          ? ""
          : absl::StrCat(" queue_id=", LogQuote(skipped.queue_id, 64));
  LogWarning(valid_id ? skipped.queue_id : "",
             "spool event=record_skipped segment=", skipped.path,
             " offset=", skipped.offset, " length=", skipped.length, " record=",
             skipped.type ? spool::RecordTypeName(*skipped.type) : "unknown",
             unparsed_id, " reason=", spool::SkipReasonName(skipped.reason),
             " detail=", LogQuote(skipped.detail));
}

// Copies the file at `from` to the new file `to` and makes the copy
// durable.
absl::Status CopyFile(const std::string& from, const std::string& to) {
  const int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("open", from);
  const int out =
      open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    absl::Status status = Errno("create", to);
    close(in);
    return status;
  }
  absl::Status status = absl::OkStatus();
  while (status.ok()) {
    const ssize_t n = copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) break;
    if (n < 0 && errno != EINTR) status = Errno("copy to", to);
  }
  if (status.ok() && fdatasync(out) != 0) status = Errno("fdatasync", to);
  close(out);
  close(in);
  if (!status.ok()) unlink(to.c_str());
  return status;
}

// Copies a damaged segment to "<segment>.corrupt-<unix seconds>", which
// recovery ignores, so that the damaged bytes outlive the truncation and
// the segment's later deletion. A segment that has a copy from an earlier
// start is not copied again. Returns false when the copy failed.
bool KeepCorruptCopy(const spool::RecoveredSegment& segment,
                     const std::vector<std::string>& ignored_files) {
  const std::string prefix =
      absl::StrCat(spool::SegmentFileName(segment.sequence), ".corrupt-");
  for (const std::string& name : ignored_files) {
    if (absl::StartsWith(name, prefix)) return true;
  }
  const std::string copy =
      absl::StrCat(segment.path, ".corrupt-", absl::ToUnixSeconds(absl::Now()));
  if (absl::Status status = CopyFile(segment.path, copy); !status.ok()) {
    LogWarning("", "spool event=segment_copy_failed segment=", segment.path,
               " error=", LogQuote(status.message()));
    return false;
  }
  LogWarning("", "spool event=segment_copied segment=", segment.path,
             " copy=", copy);
  return true;
}

// Makes the directory entries of new files in `dir` durable.
void SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    LogWarning("", "spool event=directory_sync_failed dir=", dir,
               " error=", LogQuote(strerror(errno)));
  }
  if (fd >= 0) close(fd);
}

// Logs every skipped record in `recovered` and cuts every tail. A segment
// with skipped records or a corrupt tail is copied first. Torn and
// zero-filled tails are what an interrupted append leaves, so they are cut
// without a copy. Returns the damaged segments that could not be copied,
// which are left unchanged for the next start.
std::set<uint64_t> RepairDamage(const spool::RecoveredSpool& recovered,
                                const std::string& dir) {
  std::set<uint64_t> damaged;
  for (const spool::SkippedRecord& skipped : recovered.skipped) {
    LogSkipped(skipped);
    damaged.insert(skipped.sequence);
  }
  for (const spool::SegmentCut& cut : recovered.cuts) {
    if (cut.reason == spool::CutReason::kCorruptTail) {
      damaged.insert(cut.sequence);
    }
  }
  std::set<uint64_t> uncopied;
  for (const spool::RecoveredSegment& segment : recovered.segments) {
    if (damaged.count(segment.sequence) != 0 &&
        !KeepCorruptCopy(segment, recovered.ignored_files)) {
      uncopied.insert(segment.sequence);
    }
  }
  if (!damaged.empty()) SyncDirectory(dir);
  for (const spool::SegmentCut& cut : recovered.cuts) {
    RepairCut(cut, uncopied.count(cut.sequence) == 0);
  }
  return uncopied;
}

// A held recipient stays held across a restart; every other recipient that
// is not final is scheduled at once.
QueuedRecipient::State RecoveredState(const spool::RecoveredRecipient& r) {
  switch (r.last_state) {
    case spool::Outcome::kDelivered:
      return QueuedRecipient::State::kDelivered;
    case spool::Outcome::kDeleted:
      return QueuedRecipient::State::kDeleted;
    case spool::Outcome::kBounced:
    case spool::Outcome::kExpired:
      return QueuedRecipient::State::kBounced;
    case spool::Outcome::kHeld:
      return QueuedRecipient::State::kHeld;
    case spool::Outcome::kDeferred:
      break;
  }
  return QueuedRecipient::State::kPending;
}

// Reads the body of `recovered` from its segment into memory.
// NOTE: every queued body is held in memory after a restart; a very large
// queue needs as much memory as its bodies take on disk.
absl::StatusOr<std::shared_ptr<QueuedMessage>> LoadMessage(
    spool::RecoveredMessage& recovered, int segment_fd,
    const std::string& segment_path) {
  auto message = std::make_shared<QueuedMessage>();
  // Read straight into a buffer of the body's size, which the message then
  // owns: one copy from the page cache and no spare capacity.
  const size_t size = recovered.body_size;
  std::unique_ptr<char[]> body(new char[size > 0 ? size : 1]);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(segment_fd, body.get() + done, size - done,
                            static_cast<off_t>(recovered.body_offset + done));
    if (n <= 0) return Errno("read", segment_path);
    done += static_cast<size_t>(n);
  }
  message->body = smtp::MessageBody::Adopt(std::move(body), size);
  message->segment = recovered.segment;
  message->arrival =
      absl::FromUnixMicros(recovered.envelope.arrival_unix_micros);
  for (size_t i = 0; i < recovered.recipients.size(); ++i) {
    QueuedRecipient queued;
    queued.state = RecoveredState(recovered.recipients[i]);
    queued.domain = RecipientDomain(recovered.envelope.recipients[i].address);
    queued.attempts = recovered.recipients[i].attempts;
    queued.last_reply = recovered.recipients[i].last_reply;
    message->recipients.push_back(std::move(queued));
  }
  message->envelope = std::move(recovered.envelope);
  return message;
}

// Recovers one directory into `state`, as its directory number `dir_index`.
absl::Status RecoverInto(const std::string& path, size_t dir_index,
                         WorkerSpoolState* state) {
  absl::StatusOr<spool::RecoveredSpool> recovered =
      spool::RecoverDirectory(path);
  if (!recovered.ok()) return recovered.status();
  const std::set<uint64_t> uncopied = RepairDamage(*recovered, path);
  auto dir = std::make_unique<SpoolDirectory>();
  dir->path = path;
  // Leading segments without queued messages are deleted now. From the
  // first one that contains a message on, segments are tracked and deleted
  // in order as mail finishes.
  bool tracking = false;
  std::map<uint64_t, int> fds;
  for (const spool::RecoveredSegment& segment : recovered->segments) {
    dir->next_sequence = std::max(dir->next_sequence, segment.sequence + 1);
    if (!tracking && segment.live_messages == 0) {
      // A damaged segment without its copy stays for the next start.
      if (uncopied.count(segment.sequence) != 0) continue;
      // A failure (read-only spool) leaves the file for the next start.
      if (unlink(segment.path.c_str()) != 0) {
        LogWarning("",
                   "spool event=segment_remove_failed segment=", segment.path,
                   " error=", LogQuote(strerror(errno)));
      }
      continue;
    }
    tracking = true;
    absl::Status status = dir->tracker.AddSegment(segment.sequence);
    if (!status.ok()) return status;
    const int fd = open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open", segment.path);
    fds[segment.sequence] = fd;
  }
  absl::Status status = absl::OkStatus();
  for (spool::RecoveredMessage& recovered_message : recovered->messages) {
    const uint64_t segment = recovered_message.segment;
    absl::StatusOr<std::shared_ptr<QueuedMessage>> message =
        LoadMessage(recovered_message, fds[segment],
                    absl::StrCat(path, "/", spool::SegmentFileName(segment)));
    if (!message.ok()) {
      status = message.status();
      break;
    }
    (*message)->spool_dir_index = dir_index;
    status = dir->tracker.AddMessage(segment, (*message)->envelope.queue_id);
    if (!status.ok()) break;
    state->messages.push_back(*std::move(message));
  }
  for (auto& [sequence, fd] : fds) close(fd);
  if (!status.ok()) return status;
  LogInfo("", "spool event=recovered dir=", path,
          " messages=", recovered->messages.size(),
          " segments=", recovered->segments.size(),
          " skipped=", recovered->skipped.size(),
          " cuts=", recovered->cuts.size());
  // A directory of a worker that no longer exists matters only while it
  // contains queued mail. Without a writer there, its spare segment files
  // would only take disk space.
  if (dir_index == 0 || !recovered->messages.empty()) {
    if (dir_index >= state->dirs.size()) state->dirs.resize(dir_index + 1);
    state->dirs[dir_index] = std::move(dir);
  } else {
    for (const std::string& name : recovered->spare_files) {
      const std::string spare = absl::StrCat(path, "/", name);
      if (unlink(spare.c_str()) != 0) {
        LogWarning("", "spool event=spare_remove_failed spare=", spare,
                   " error=", LogQuote(strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string WorkerSpoolPath(const std::string& spool_dir, int index) {
  return absl::StrCat(spool_dir, "/w", index);
}

absl::StatusOr<std::vector<WorkerSpoolState>> LoadSpool(
    const std::string& spool_dir, int workers) {
  absl::Status status = MakeDirectories(spool_dir);
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<int>> found = ListWorkerDirectories(spool_dir);
  if (!found.ok()) return found.status();
  std::vector<WorkerSpoolState> states(workers);
  for (int k = 0; k < workers; ++k) states[k].dirs.resize(1);
  for (int index : *found) {
    WorkerSpoolState& state = states[index % workers];
    const size_t dir_index = index < workers ? 0 : state.dirs.size();
    status = RecoverInto(WorkerSpoolPath(spool_dir, index), dir_index, &state);
    if (!status.ok()) return status;
  }
  for (int k = 0; k < workers; ++k) {
    if (states[k].dirs[0] == nullptr) {
      states[k].dirs[0] = std::make_unique<SpoolDirectory>();
      states[k].dirs[0]->path = WorkerSpoolPath(spool_dir, k);
    }
  }
  return states;
}

}  // namespace ferry::server
