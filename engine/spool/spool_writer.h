// SpoolWriter: appends records to one worker's spool segments and makes
// them durable with group commit.
//
// Records appended during one loop iteration of the worker's ring are
// written with one writev and made durable with one fdatasync, submitted
// through the ring just before it waits. While a batch is being written,
// new records gather for the next batch, so under load one fdatasync
// covers many messages. Append() returns only after the fdatasync of its
// batch has completed, so the caller may then reply 250.
//
// A record appended with Durability::kSoon does not start a batch of its
// own: it joins the next batch that an urgent record starts, or one that
// starts kSoonDelay after it, whichever comes first, or at once when
// kSoonMaxRecords are waiting. Delivery results use it. Without it, every
// delivered job would cost an fdatasync while the queue drains with no new
// mail arriving.
//
// A spent segment is not deleted but renamed to a spare file, up to
// `spare_segments` of them, and the next new segment reuses one by
// renaming it back and writing over it from the start. Deleting a file
// makes the file system free its blocks (and, mounted with online discard,
// discard them), which delays the fdatasync calls after it. Writing over
// blocks already written changes no file system metadata. Each record's
// frame header names its segment and a random nonce chosen for it
// (StampSegment), so recovery can separate the new records from the bytes
// left from the file's earlier use. Only segments this writer created are
// reused, because only they are known to contain no records with the
// legacy header.
//
// Owned by one worker thread; every method runs on that thread.
#ifndef FERRY_ENGINE_SPOOL_SPOOL_WRITER_H_
#define FERRY_ENGINE_SPOOL_SPOOL_WRITER_H_

#include <sys/uio.h>

#include <coroutine>
#include <deque>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"
#include "engine/metrics/worker_metrics.h"
#include "engine/spool/record.h"

namespace ferry::spool {

// The position of a written record.
struct RecordLocation {
  uint64_t segment = 0;  // sequence number of the segment file
  uint64_t offset = 0;   // of the record's first byte in that file
  uint64_t length = 0;
};

// Returns the path of segment `sequence` in `dir` (see SegmentFileName).
std::string SegmentPath(const std::string& dir, uint64_t sequence);

class SpoolWriter {
 public:
  enum class Durability {
    kNow,   // start a batch in this loop iteration
    kSoon,  // join the next batch, started at most kSoonDelay later
  };
  static constexpr absl::Duration kSoonDelay = absl::Milliseconds(20);
  static constexpr size_t kSoonMaxRecords = 1024;

  // Keeps up to `spare_segments` spent segment files for reuse; 0 deletes
  // every spent segment.
  SpoolWriter(io::Ring* ring, std::string dir, uint64_t segment_size,
              size_t spare_segments = 0);
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Creates the directory if needed and a new segment numbered
  // `first_sequence`, and syncs the directory. Takes the spare files in the
  // directory for reuse, deleting those beyond `spare_segments`. Runs
  // before the ring loop starts, so it uses plain system calls. On failure (for
  // example a read-only file system) the writer stays usable: each Append()
  // fails with Unavailable, and the writer tries to create the segment again at
  // most once a second, so writing resumes once the spool is writable.
  absl::Status Open(uint64_t first_sequence);

  // Appends the records that `parts` make up (concatenated) and waits until
  // they are durable. The parts must stay valid until the task completes.
  // Each record is one that EncodeMessagePrefix() (with its body) or
  // EncodeOutcome() returned, with its frame header inside one part. The
  // writer stamps the headers with the segment. Returns
  // InvalidArgument, writing nothing, when the parts are not such records.
  // Errors: ResourceExhausted when the disk or quota is full, Unavailable
  // for any other write or sync failure. After an error nothing of the
  // records remains in the segment.
  io::Task<absl::StatusOr<RecordLocation>> Append(
      std::vector<iovec> parts, Durability durability = Durability::kNow);

  // Called when a segment may go (every message in it is final): keeps its
  // file as a spare when it is one this writer created and fewer than
  // `spare_segments` wait, and deletes it otherwise. Segments go in the
  // order of these calls. The task completes when its segment has gone,
  // or at once when an earlier call is still taking segments in order.
  io::Task<void> Retire(uint64_t sequence);

  uint64_t current_segment() const { return sequence_; }
  // True when no record is waiting or being written.
  bool idle() const { return !writing_ && queue_.empty(); }
  // Records appended but not yet in a batch being written.
  size_t waiting_records() const { return queue_.size(); }
  const std::string& dir() const { return dir_; }

  // Records each group commit's record count and fdatasync time in
  // `metrics` (nullptr: none), which must outlive the writer.
  void set_metrics(metrics::WorkerMetrics* metrics) { metrics_ = metrics; }

  // Statistics for metrics and benchmarks.
  uint64_t fdatasync_count() const { return fdatasync_count_; }
  uint64_t records_written() const { return records_written_; }
  // Spare files waiting for reuse, and segments started in a spare file.
  size_t spare_count() const { return spares_.size(); }
  uint64_t segments_reused() const { return segments_reused_; }

  // Called with the sequence of each new segment that later records go
  // to, after Open() and after every roll-over, once its directory entry
  // is durable.
  void SetOnSegmentOpened(std::function<void(uint64_t)> callback) {
    on_segment_opened_ = std::move(callback);
  }

 private:
  struct Pending;
  class PendingAwaiter;

  void StartBatchIfIdle();
  io::Task<void> SoonTimer();
  io::Task<void> WriteBatch(std::vector<Pending*> batch);
  io::Task<absl::Status> WriteAll(std::vector<iovec> iov, uint64_t offset);
  io::Task<absl::Status> NextSegment();
  io::Task<int> ReuseSpare(const std::string& path);
  void AdoptSpares();
  io::Task<void> RetireOne(uint64_t sequence);
  void UseSegment(int fd, bool reused_file);
  absl::Status FailBatch(uint64_t start, int error);

  io::Ring* ring_;
  std::string dir_;
  uint64_t segment_size_;
  size_t spare_segments_;
  int fd_ = -1;
  int dir_fd_ = -1;
  uint64_t sequence_ = 0;       // of the segment being written
  SegmentStamp stamp_;          // that the records in it carry
  uint64_t next_sequence_ = 1;  // of the next segment to create
  // Of the first segment this writer created; older ones are not reused.
  uint64_t first_sequence_ = 0;
  // Spare files by the sequence in their names.
  std::vector<uint64_t> spares_;
  // Segments to retire, in order, and whether a Retire() call takes them.
  std::deque<uint64_t> retire_queue_;
  bool retiring_ = false;
  uint64_t segments_reused_ = 0;
  absl::Status open_error_;  // why no segment could be created
  absl::Time last_open_attempt_ = absl::InfinitePast();
  uint64_t end_ = 0;
  bool writing_ = false;
  std::vector<Pending*> queue_;
  // Records in queue_ appended with Durability::kNow.
  size_t urgent_ = 0;
  bool soon_timer_armed_ = false;
  bool soon_due_ = false;
  uint64_t fdatasync_count_ = 0;
  uint64_t records_written_ = 0;
  metrics::WorkerMetrics* metrics_ = nullptr;
  std::function<void(uint64_t)> on_segment_opened_;
};

}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_SPOOL_WRITER_H_
