#include "engine/spool/spool_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "engine/base/log.h"
#include "engine/io/iovec.h"
#include "engine/metrics/clock.h"
#include "engine/spool/record.h"
#include "engine/spool/recovery.h"

namespace ferry::spool {

// One record waiting for its batch to become durable. Lives in the frame
// of the Append() coroutine that created it.
struct SpoolWriter::Pending {
  std::vector<iovec> parts;
  std::vector<char*> headers;  // the frame header of each record in parts
  uint64_t length = 0;
  absl::StatusOr<RecordLocation> result = absl::UnknownError("not written");
  std::coroutine_handle<> waiter;
};

// Suspends Append() until WriteBatch() resumes it with a result.
class SpoolWriter::PendingAwaiter {
 public:
  explicit PendingAwaiter(Pending* pending) : pending_(pending) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    pending_->waiter = waiter;
  }
  void await_resume() const noexcept {}

 private:
  Pending* pending_;
};

namespace {

constexpr absl::Duration kReopenInterval = absl::Seconds(1);

}  // namespace

std::string SegmentPath(const std::string& dir, uint64_t sequence) {
  return absl::StrCat(dir, "/", SegmentFileName(sequence));
}

namespace {

std::string SparePath(const std::string& dir, uint64_t sequence) {
  return absl::StrCat(dir, "/", SpareFileName(sequence));
}

// Returns 64 random bits from the kernel, or, should getrandom() fail,
// bits that still differ from one call to the next.
uint64_t RandomNonce() {
  uint64_t nonce = 0;
  ssize_t got;
  do {
    got = getrandom(&nonce, sizeof(nonce), 0);
  } while (got < 0 && errno == EINTR);
  if (got == sizeof(nonce)) return nonce;
  static uint64_t calls = 0;
  return absl::HashOf(absl::GetCurrentTimeNanos(), getpid(), ++calls);
}

}  // namespace

SpoolWriter::SpoolWriter(io::Ring* ring, std::string dir, uint64_t segment_size,
                         size_t spare_segments)
    : ring_(ring),
      dir_(std::move(dir)),
      segment_size_(segment_size),
      spare_segments_(spare_segments) {
  ring_->AddBeforeSubmitHook([this] { StartBatchIfIdle(); });
}

SpoolWriter::~SpoolWriter() {
  if (fd_ >= 0) close(fd_);
  if (dir_fd_ >= 0) close(dir_fd_);
}

absl::Status SpoolWriter::Open(uint64_t first_sequence) {
  next_sequence_ = first_sequence;
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return open_error_ = absl::UnavailableError(absl::StrCat(
               "cannot create spool directory ", dir_, ": ", strerror(errno)));
  }
  dir_fd_ = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) {
    return open_error_ = absl::UnavailableError(absl::StrCat(
               "cannot open spool directory ", dir_, ": ", strerror(errno)));
  }
  AdoptSpares();
  if (first_sequence_ == 0) first_sequence_ = next_sequence_;
  const std::string path = SegmentPath(dir_, next_sequence_);
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return open_error_ = absl::UnavailableError(absl::StrCat(
               "cannot create spool segment ", path, ": ", strerror(errno)));
  }
  if (fsync(dir_fd_) != 0) {
    const int error = errno;
    close(fd);
    unlink(path.c_str());
    return open_error_ = absl::UnavailableError(absl::StrCat(
               "cannot sync spool directory ", dir_, ": ", strerror(error)));
  }
  UseSegment(fd, /*reused_file=*/false);
  return absl::OkStatus();
}

void SpoolWriter::AdoptSpares() {
  DIR* handle = fdopendir(dup(dir_fd_));
  if (handle == nullptr) return;
  std::vector<uint64_t> found;
  while (const dirent* entry = readdir(handle)) {
    if (std::optional<uint64_t> spare = ParseSpareFileName(entry->d_name)) {
      found.push_back(*spare);
    }
  }
  closedir(handle);
  std::sort(found.begin(), found.end());
  for (uint64_t spare : found) {
    // New segments never take a number that a spare file's records carry.
    next_sequence_ = std::max(next_sequence_, spare + 1);
    if (spares_.size() < spare_segments_) {
      spares_.push_back(spare);
    } else {
      unlink(SparePath(dir_, spare).c_str());
    }
  }
}

void SpoolWriter::UseSegment(int fd, bool reused_file) {
  fd_ = fd;
  sequence_ = next_sequence_++;
  stamp_ = SegmentStamp{sequence_, RandomNonce(), reused_file};
  end_ = 0;
  open_error_ = absl::OkStatus();
  if (on_segment_opened_) on_segment_opened_(sequence_);
}

namespace {

// Returns the frame header of every record in `parts`, or InvalidArgument
// when the parts are not whole records, each header inside one part.
absl::StatusOr<std::vector<char*>> FindHeaders(
    const std::vector<iovec>& parts) {
  std::vector<char*> headers;
  uint64_t next_record = 0;  // offset in the concatenated parts
  uint64_t part_start = 0;
  for (const iovec& part : parts) {
    const uint64_t part_end = part_start + part.iov_len;
    while (next_record >= part_start && next_record < part_end) {
      char* header =
          static_cast<char*>(part.iov_base) + (next_record - part_start);
      const absl::StatusOr<FrameHeader> decoded =
          DecodeFrameHeader(std::string_view(header, part_end - next_record));
      if (!decoded.ok() || decoded->legacy) {
        return absl::InvalidArgumentError(absl::StrCat(
            "spool append: no frame header at offset ", next_record, ": ",
            decoded.ok() ? "legacy header" : decoded.status().message()));
      }
      headers.push_back(header);
      next_record += decoded->framed_size();
    }
    part_start = part_end;
  }
  if (next_record != part_start) {
    return absl::InvalidArgumentError(
        absl::StrCat("spool append: the last record ends at ", next_record,
                     ", not at the end of the parts (", part_start, ")"));
  }
  return headers;
}

}  // namespace

io::Task<absl::StatusOr<RecordLocation>> SpoolWriter::Append(
    std::vector<iovec> parts, Durability durability) {
  absl::StatusOr<std::vector<char*>> headers = FindHeaders(parts);
  if (!headers.ok()) co_return headers.status();
  Pending pending;
  pending.headers = *std::move(headers);
  for (const iovec& part : parts) pending.length += part.iov_len;
  pending.parts = std::move(parts);
  queue_.push_back(&pending);
  if (durability == Durability::kNow) ++urgent_;
  co_await PendingAwaiter(&pending);
  co_return std::move(pending.result);
}

void SpoolWriter::StartBatchIfIdle() {
  if (writing_ || queue_.empty()) return;
  if (urgent_ == 0 && !soon_due_ && queue_.size() < kSoonMaxRecords) {
    if (!soon_timer_armed_) {
      soon_timer_armed_ = true;
      io::Spawn(SoonTimer());
    }
    return;
  }
  writing_ = true;
  urgent_ = 0;
  soon_due_ = false;
  io::Spawn(WriteBatch(std::exchange(queue_, {})));
}

io::Task<void> SpoolWriter::SoonTimer() {
  co_await ring_->Sleep(kSoonDelay);
  soon_timer_armed_ = false;
  // The hook that runs before the ring's next submit starts the batch.
  soon_due_ = !queue_.empty();
}

io::Task<void> SpoolWriter::WriteBatch(std::vector<Pending*> batch) {
  absl::Status status = absl::OkStatus();
  if (fd_ < 0 || end_ >= segment_size_) status = co_await NextSegment();
  const uint64_t start = end_;
  std::vector<iovec> iov;
  uint64_t offset = start;
  for (Pending* p : batch) {
    for (char* header : p->headers) {
      StampSegment(stamp_, header);
    }
    iov.insert(iov.end(), p->parts.begin(), p->parts.end());
    p->result = RecordLocation{sequence_, offset, p->length};
    offset += p->length;
  }
  if (status.ok()) status = co_await WriteAll(std::move(iov), start);
  if (status.ok()) {
    const uint64_t sync_start = metrics::MonotonicNanos();
    const int rc = co_await ring_->Fdatasync(fd_);
    ++fdatasync_count_;
    if (metrics_ != nullptr) {
      metrics_->fdatasync_duration.Observe(metrics::MonotonicNanos() -
                                           sync_start);
      metrics_->commit_records.Observe(batch.size());
    }
    if (rc < 0) status = FailBatch(start, -rc);
  }
  if (status.ok()) {
    end_ = offset;
    records_written_ += batch.size();
  }
  writing_ = false;
  // Resuming a waiter runs its session until it suspends again; it may
  // append more records, which join the next batch.
  for (Pending* p : batch) {
    if (!status.ok()) p->result = status;
    p->waiter.resume();
  }
}

io::Task<absl::Status> SpoolWriter::WriteAll(std::vector<iovec> iov,
                                             uint64_t offset) {
  const uint64_t start = offset;
  size_t first = 0;
  while (first < iov.size()) {
    const int count =
        static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    const int rc = co_await ring_->Writev(fd_, &iov[first], count, offset);
    if (rc < 0) co_return FailBatch(start, -rc);
    if (rc == 0) co_return FailBatch(start, EIO);
    offset += static_cast<uint64_t>(rc);
    // A short write leaves a partly written iovec.
    io::ConsumeIovecs(&iov, &first, static_cast<size_t>(rc));
  }
  co_return absl::OkStatus();
}

absl::Status SpoolWriter::FailBatch(uint64_t start, int error) {
  // Cut the segment back so that no part of the failed batch is recovered
  // later. This blocks, but only on this error path: the 6.x kernels have
  // IORING_OP_FTRUNCATE only from 6.9, and liburing 2.3 cannot prepare it.
  if (ftruncate(fd_, static_cast<off_t>(start)) != 0) {
    LogError("", "spool event=truncate_failed segment=",
             SegmentPath(dir_, sequence_), " error=", strerror(errno));
  }
  const std::string message =
      absl::StrCat("spool write to ", SegmentPath(dir_, sequence_),
                   " failed: ", strerror(error));
  LogError("",
           "spool event=write_failed segment=", SegmentPath(dir_, sequence_),
           " error=", LogQuote(strerror(error)));
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::UnavailableError(message);
}

io::Task<absl::Status> SpoolWriter::NextSegment() {
  // After a failure (a read-only or full file system), try again at most
  // once per kReopenInterval instead of once per message.
  const absl::Time now = absl::Now();
  if (!open_error_.ok() && now - last_open_attempt_ < kReopenInterval) {
    co_return open_error_;
  }
  last_open_attempt_ = now;
  if (dir_fd_ < 0) {
    // Open() failed before it could open the directory; it runs rarely.
    absl::Status status = Open(next_sequence_);
    co_return status;
  }
  const std::string path = SegmentPath(dir_, next_sequence_);
  int fd = co_await ReuseSpare(path);
  const bool reused_file = fd >= 0;
  if (fd < 0) {
    fd = co_await ring_->OpenAt(path.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  }
  if (fd < 0) {
    LogError("", "spool event=segment_create_failed segment=", path,
             " error=", LogQuote(strerror(-fd)));
    open_error_ = absl::UnavailableError(absl::StrCat(
        "cannot create spool segment ", path, ": ", strerror(-fd)));
    co_return open_error_;
  }
  // The new file's directory entry must be durable before any record in
  // it is acknowledged.
  const int rc = co_await ring_->Fdatasync(dir_fd_);
  if (rc < 0) {
    close(fd);
    unlink(path.c_str());
    open_error_ = absl::UnavailableError(absl::StrCat(
        "cannot sync spool directory ", dir_, ": ", strerror(-rc)));
    co_return open_error_;
  }
  if (fd_ >= 0) co_await ring_->Close(fd_);
  UseSegment(fd, reused_file);
  co_return absl::OkStatus();
}

// Renames a spare file to `path` and opens it for writing. Returns the file
// descriptor, or -1 when no spare is left or the rename or open failed;
// the caller then creates a new file.
io::Task<int> SpoolWriter::ReuseSpare(const std::string& path) {
  while (!spares_.empty()) {
    const std::string spare = SparePath(dir_, spares_.back());
    spares_.pop_back();
    const int renamed = co_await ring_->Rename(spare.c_str(), path.c_str());
    if (renamed < 0) {
      LogWarning("", "spool event=spare_reuse_failed spare=", spare,
                 " error=", LogQuote(strerror(-renamed)));
      continue;
    }
    const int fd =
        co_await ring_->OpenAt(path.c_str(), O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ++segments_reused_;
      co_return fd;
    }
    LogWarning("", "spool event=spare_reuse_failed segment=", path,
               " error=", LogQuote(strerror(-fd)));
    // Without the file's old records in the way, a new file can take the
    // name.
    co_await ring_->Unlink(path.c_str());
  }
  co_return -1;
}

io::Task<void> SpoolWriter::Retire(uint64_t sequence) {
  retire_queue_.push_back(sequence);
  // One loop at a time takes the queue in order, so a segment never goes
  // before an older one.
  if (retiring_) co_return;
  retiring_ = true;
  while (!retire_queue_.empty()) {
    const uint64_t next = retire_queue_.front();
    retire_queue_.pop_front();
    co_await RetireOne(next);
  }
  retiring_ = false;
}

io::Task<void> SpoolWriter::RetireOne(uint64_t sequence) {
  const std::string path = SegmentPath(dir_, sequence);
  if (sequence >= first_sequence_ && first_sequence_ != 0 &&
      sequence != sequence_ && spares_.size() < spare_segments_) {
    const std::string spare = SparePath(dir_, sequence);
    const int renamed = co_await ring_->Rename(path.c_str(), spare.c_str());
    if (renamed == 0) {
      spares_.push_back(sequence);
      LogDebug("", "spool event=segment_spared segment=", path);
      co_return;
    }
    LogWarning("", "spool event=segment_spare_failed segment=", path,
               " error=", LogQuote(strerror(-renamed)));
  }
  const int rc = co_await ring_->Unlink(path.c_str());
  if (rc < 0) {
    LogWarning("", "spool event=segment_remove_failed segment=", path,
               " error=", LogQuote(strerror(-rc)));
  } else {
    LogDebug("", "spool event=segment_removed segment=", path);
  }
}

}  // namespace ferry::spool
