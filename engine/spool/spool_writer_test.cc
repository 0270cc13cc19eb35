#include "engine/spool/spool_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "engine/io/ring.h"
#include "engine/io/task.h"
#include "engine/spool/record.h"
#include "engine/spool/recovery.h"
#include "gtest/gtest.h"

namespace ferry::spool {
namespace {

std::string MakeTempDir() {
  char path[] = "/tmp/ferry-spool-writer-XXXXXX";
  EXPECT_NE(mkdtemp(path), nullptr);
  return std::string(path) + "/w0";
}

Envelope TestEnvelope(const std::string& queue_id) {
  Envelope envelope;
  envelope.queue_id = queue_id;
  envelope.sender = "alice@example.com";
  envelope.recipients.push_back({"bob@example.net", "", ""});
  return envelope;
}

// Appends `count` message records from `count` coroutines started in the
// same loop iteration, then stops the ring.
struct AppendResults {
  int done = 0;
  int ok = 0;
};

// Appends one message record with `body` and returns its location.
io::Task<absl::StatusOr<RecordLocation>> AppendMessage(
    SpoolWriter* writer, std::string queue_id, std::string body,
    SpoolWriter::Durability durability = SpoolWriter::Durability::kNow) {
  std::vector<iovec> body_iov = {{body.data(), body.size()}};
  absl::StatusOr<std::string> prefix =
      EncodeMessagePrefix(TestEnvelope(queue_id), body_iov);
  std::vector<iovec> parts = {{prefix->data(), prefix->size()},
                              {body.data(), body.size()}};
  co_return co_await writer->Append(std::move(parts), durability);
}

io::Task<void> AppendOne(
    SpoolWriter* writer, std::string queue_id, std::string body,
    AppendResults* results, int count, io::Ring* ring,
    SpoolWriter::Durability durability = SpoolWriter::Durability::kNow) {
  absl::StatusOr<RecordLocation> location = co_await AppendMessage(
      writer, std::move(queue_id), std::move(body), durability);
  ++results->done;
  if (location.ok()) ++results->ok;
  if (results->done == count) ring->Stop();
}

TEST(SpoolWriter, GroupCommitSharesOneFdatasync) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(256).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 64 << 20);
  ASSERT_TRUE(writer.Open(1).ok());
  AppendResults results;
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    io::Spawn(AppendOne(&writer, "Q" + std::to_string(i),
                        "Subject: x\r\n\r\nhi\r\n", &results, kCount, &ring));
  }
  ring.Run();
  EXPECT_EQ(results.ok, kCount);
  EXPECT_EQ(writer.fdatasync_count(), 1u);
  absl::StatusOr<RecoveredSpool> recovered = RecoverDirectory(dir);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->messages.size(), static_cast<size_t>(kCount));
  EXPECT_TRUE(recovered->cuts.empty());
}

TEST(SpoolWriter, SoonRecordsWaitForTheirDelayAlone) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(256).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 64 << 20);
  ASSERT_TRUE(writer.Open(1).ok());
  AppendResults results;
  constexpr int kCount = 3;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCount; ++i) {
    io::Spawn(AppendOne(&writer, "Q" + std::to_string(i),
                        "Subject: x\r\n\r\nhi\r\n", &results, kCount, &ring,
                        SpoolWriter::Durability::kSoon));
  }
  ring.Run();
  EXPECT_EQ(results.ok, kCount);
  EXPECT_GE(absl::Now() - start, SpoolWriter::kSoonDelay);
  EXPECT_EQ(writer.fdatasync_count(), 1u);
  absl::StatusOr<RecoveredSpool> recovered = RecoverDirectory(dir);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->messages.size(), static_cast<size_t>(kCount));
}

TEST(SpoolWriter, SoonRecordsJoinAnUrgentBatch) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(256).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 64 << 20);
  ASSERT_TRUE(writer.Open(1).ok());
  AppendResults results;
  constexpr int kCount = 4;
  for (int i = 0; i < kCount; ++i) {
    io::Spawn(AppendOne(&writer, "Q" + std::to_string(i),
                        "Subject: x\r\n\r\nhi\r\n", &results, kCount, &ring,
                        i == kCount - 1 ? SpoolWriter::Durability::kNow
                                        : SpoolWriter::Durability::kSoon));
  }
  ring.Run();
  EXPECT_EQ(results.ok, kCount);
  // One batch for all four: the urgent record did not wait, and took the
  // others along.
  EXPECT_EQ(writer.fdatasync_count(), 1u);
  EXPECT_EQ(writer.records_written(), static_cast<uint64_t>(kCount));
}

TEST(SpoolWriter, ManySoonRecordsStartBatchEarly) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(256).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 64 << 20);
  ASSERT_TRUE(writer.Open(1).ok());
  AppendResults results;
  constexpr int kCount = static_cast<int>(SpoolWriter::kSoonMaxRecords);
  for (int i = 0; i < kCount; ++i) {
    io::Spawn(AppendOne(&writer, "Q" + std::to_string(i),
                        "Subject: x\r\n\r\nhi\r\n", &results, kCount, &ring,
                        SpoolWriter::Durability::kSoon));
  }
  // A zero sleep completes in the loop's first wait, long before the
  // kSoonDelay timer: by then a batch that started at once has taken the
  // records.
  size_t waiting_after_first_wait = 0;
  io::Spawn([](io::Ring* r, SpoolWriter* w, size_t* waiting) -> io::Task<void> {
    co_await r->Sleep(absl::ZeroDuration());
    *waiting = w->waiting_records();
  }(&ring, &writer, &waiting_after_first_wait));
  EXPECT_EQ(writer.waiting_records(), static_cast<size_t>(kCount));
  ring.Run();
  EXPECT_EQ(waiting_after_first_wait, 0u);
  EXPECT_EQ(results.ok, kCount);
  EXPECT_EQ(writer.fdatasync_count(), 1u);
}

TEST(SpoolWriter, MetricsRecordGroupCommit) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(256).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 64 << 20);
  metrics::WorkerMetrics metrics;
  writer.set_metrics(&metrics);
  ASSERT_TRUE(writer.Open(1).ok());
  AppendResults results;
  constexpr int kCount = 5;
  for (int i = 0; i < kCount; ++i) {
    io::Spawn(AppendOne(&writer, "Q" + std::to_string(i),
                        "Subject: x\r\n\r\nhi\r\n", &results, kCount, &ring));
  }
  ring.Run();
  metrics::HistogramSnapshot records;
  metrics.commit_records.AddTo(&records);
  EXPECT_EQ(records.sum, static_cast<uint64_t>(kCount));
  // Five records fall in the bucket with upper bound 8 (index 3).
  EXPECT_EQ(records.counts[3], 1u);
  metrics::HistogramSnapshot sync;
  metrics.fdatasync_duration.AddTo(&sync);
  uint64_t syncs = 0;
  for (uint64_t count : sync.counts) syncs += count;
  EXPECT_EQ(syncs, 1u);
  EXPECT_GT(sync.sum, 0u);
}

TEST(SpoolWriter, RollsToNewSegmentPastSize) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(256).ok());
  const std::string dir = MakeTempDir();
  // A tiny segment size makes every batch start a new segment.
  SpoolWriter writer(&ring, dir, 16);
  std::vector<uint64_t> opened;
  writer.SetOnSegmentOpened([&](uint64_t s) { opened.push_back(s); });
  ASSERT_TRUE(writer.Open(7).ok());
  AppendResults results;
  io::Spawn([](SpoolWriter* w, AppendResults* r,
               io::Ring* ring) -> io::Task<void> {
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<RecordLocation> location =
          co_await AppendMessage(w, "R" + std::to_string(i), "x\r\n");
      if (location.ok()) ++r->ok;
    }
    ring->Stop();
  }(&writer, &results, &ring));
  ring.Run();
  EXPECT_EQ(results.ok, 3);
  EXPECT_EQ(opened, (std::vector<uint64_t>{7, 8, 9}));
  EXPECT_EQ(writer.current_segment(), 9u);
  absl::StatusOr<RecoveredSpool> recovered = RecoverDirectory(dir);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->messages.size(), 3u);
  EXPECT_EQ(recovered->segments.size(), 3u);
}

TEST(SpoolWriter, OpenFailsOnUnwritableDirectory) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(16).ok());
  SpoolWriter writer(&ring, "/proc/ferry-no-such-dir/w0", 1 << 20);
  absl::Status status = writer.Open(1);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/proc/ferry-no-such-dir/w0"),
            std::string::npos);
}

TEST(SpoolWriter, AppendFailsUntilSpoolIsWritable) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  char base[] = "/tmp/ferry-spool-blocked-XXXXXX";
  ASSERT_NE(mkdtemp(base), nullptr);
  // A regular file where the spool directory belongs makes every create
  // fail, as a read-only file system does, even for root.
  const std::string parent = std::string(base) + "/spool";
  const int blocker = open(parent.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(blocker, 0);
  close(blocker);
  SpoolWriter writer(&ring, parent + "/w0", 1 << 20);
  EXPECT_FALSE(writer.Open(1).ok());

  std::vector<absl::StatusCode> codes;
  io::Spawn([](SpoolWriter* w, io::Ring* r, std::string blocked,
               std::vector<absl::StatusCode>* out) -> io::Task<void> {
    std::string body = "x\r\n";
    std::vector<iovec> body_iov = {{body.data(), body.size()}};
    absl::StatusOr<std::string> prefix =
        EncodeMessagePrefix(TestEnvelope("B1"), body_iov);
    std::vector<iovec> parts = {{prefix->data(), prefix->size()},
                                {body.data(), body.size()}};
    absl::StatusOr<RecordLocation> first = co_await w->Append(parts);
    out->push_back(first.status().code());
    // Make the spool writable, then wait out the retry interval.
    unlink(blocked.c_str());
    mkdir(blocked.c_str(), 0700);
    co_await r->Sleep(absl::Milliseconds(1100));
    absl::StatusOr<RecordLocation> second = co_await w->Append(parts);
    out->push_back(second.status().code());
    r->Stop();
  }(&writer, &ring, parent, &codes));
  ring.Run();
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0], absl::StatusCode::kUnavailable);
  EXPECT_EQ(codes[1], absl::StatusCode::kOk);
}

ino_t InodeOf(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

TEST(SpoolWriter, ReusesRetiredSegmentFile) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  const std::string dir = MakeTempDir();
  // Every batch starts a new segment, and one spare file is kept.
  SpoolWriter writer(&ring, dir, 16, /*spare_segments=*/1);
  ASSERT_TRUE(writer.Open(1).ok());
  const std::string first = SegmentPath(dir, 1);
  const std::string spare = dir + "/" + SpareFileName(1);
  ino_t first_inode = 0;
  bool spared = false;
  std::vector<uint64_t> segments;
  io::Spawn([](SpoolWriter* w, io::Ring* r, const std::string* first,
               const std::string* spare, ino_t* first_inode, bool* spared,
               std::vector<uint64_t>* segments) -> io::Task<void> {
    absl::StatusOr<RecordLocation> old =
        co_await AppendMessage(w, "OLD", std::string(5000, 'o'));
    *first_inode = InodeOf(*first);
    absl::StatusOr<RecordLocation> kept =
        co_await AppendMessage(w, "KEPT", "k\r\n");
    co_await w->Retire(1);
    *spared = Exists(*spare) && !Exists(*first);
    absl::StatusOr<RecordLocation> fresh =
        co_await AppendMessage(w, "NEW", "n\r\n");
    for (const auto* location : {&old, &kept, &fresh}) {
      segments->push_back(location->ok() ? (*location)->segment : 0);
    }
    r->Stop();
  }(&writer, &ring, &first, &spare, &first_inode, &spared, &segments));
  ring.Run();

  EXPECT_EQ(segments, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(spared);
  EXPECT_EQ(writer.segments_reused(), 1u);
  EXPECT_EQ(writer.spare_count(), 0u);
  EXPECT_FALSE(Exists(spare));
  // Segment 3 is the first segment's file, written over from the start.
  EXPECT_NE(first_inode, 0u);
  EXPECT_EQ(InodeOf(SegmentPath(dir, 3)), first_inode);

  absl::StatusOr<RecoveredSpool> recovered = RecoverDirectory(dir);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  std::vector<std::string> queue_ids;
  for (const RecoveredMessage& message : recovered->messages) {
    queue_ids.push_back(message.envelope.queue_id);
  }
  EXPECT_EQ(queue_ids, (std::vector<std::string>{"KEPT", "NEW"}));
  EXPECT_TRUE(recovered->skipped.empty());
  EXPECT_TRUE(recovered->cuts.empty());
  ASSERT_EQ(recovered->segments.size(), 2u);
  EXPECT_LT(recovered->segments[1].valid_size,
            recovered->segments[1].file_size);
}

TEST(SpoolWriter, RetireDeletesOlderAndSurplusSegments) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  const std::string dir = MakeTempDir();
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  // Segment 3 is left from before the writer opened at segment 5.
  const std::string older = SegmentPath(dir, 3);
  close(open(older.c_str(), O_CREAT | O_WRONLY, 0600));
  SpoolWriter writer(&ring, dir, 16, /*spare_segments=*/1);
  ASSERT_TRUE(writer.Open(5).ok());
  io::Spawn([](SpoolWriter* w, io::Ring* r) -> io::Task<void> {
    co_await AppendMessage(w, "A", "a\r\n");
    co_await AppendMessage(w, "B", "b\r\n");
    co_await AppendMessage(w, "C", "c\r\n");
    co_await w->Retire(3);
    co_await w->Retire(5);
    co_await w->Retire(6);
    r->Stop();
  }(&writer, &ring));
  ring.Run();
  EXPECT_FALSE(Exists(older));
  EXPECT_FALSE(Exists(dir + "/" + SpareFileName(3)));
  EXPECT_TRUE(Exists(dir + "/" + SpareFileName(5)));
  EXPECT_FALSE(Exists(SegmentPath(dir, 6)));
  EXPECT_FALSE(Exists(dir + "/" + SpareFileName(6)));
  EXPECT_EQ(writer.spare_count(), 1u);
}

TEST(SpoolWriter, OpenTakesSpareFilesUpToItsLimit) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(16).ok());
  const std::string dir = MakeTempDir();
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  for (uint64_t sequence : {2, 3, 4}) {
    const std::string path = dir + "/" + SpareFileName(sequence);
    close(open(path.c_str(), O_CREAT | O_WRONLY, 0600));
  }
  SpoolWriter writer(&ring, dir, 1 << 20, /*spare_segments=*/2);
  ASSERT_TRUE(writer.Open(9).ok());
  EXPECT_EQ(writer.spare_count(), 2u);
  int left = 0;
  for (uint64_t sequence : {2, 3, 4}) {
    left += Exists(dir + "/" + SpareFileName(sequence)) ? 1 : 0;
  }
  EXPECT_EQ(left, 2);
}

TEST(SpoolWriter, StampsEveryRecordOfOneAppend) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(16).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 1 << 20);
  ASSERT_TRUE(writer.Open(4).ok());
  absl::Status bad_parts;
  io::Spawn([](SpoolWriter* w, io::Ring* r,
               absl::Status* bad_parts) -> io::Task<void> {
    co_await AppendMessage(w, "M1", "m\r\n");
    // Three outcome records in one append, as a delivery job writes them.
    std::vector<std::string> records;
    for (uint32_t i = 0; i < 3; ++i) {
      Outcome outcome;
      outcome.queue_id = "M1";
      outcome.recipient_index = 0;
      outcome.state = i == 2 ? Outcome::kDelivered : Outcome::kDeferred;
      outcome.attempts = i + 1;
      records.push_back(EncodeOutcome(outcome));
    }
    std::vector<iovec> parts;
    for (std::string& record : records) {
      parts.push_back({record.data(), record.size()});
    }
    co_await w->Append(std::move(parts));
    std::string not_a_record = "not a spool record";
    std::vector<iovec> bad = {{not_a_record.data(), not_a_record.size()}};
    absl::StatusOr<RecordLocation> refused = co_await w->Append(std::move(bad));
    *bad_parts = refused.status();
    r->Stop();
  }(&writer, &ring, &bad_parts));
  ring.Run();
  EXPECT_TRUE(absl::IsInvalidArgument(bad_parts)) << bad_parts;

  absl::StatusOr<RecoveredSpool> recovered = RecoverDirectory(dir);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  // The last of the three outcomes makes the message final.
  EXPECT_TRUE(recovered->messages.empty());
  EXPECT_EQ(recovered->stats.outcome_records, 3u);
  EXPECT_TRUE(recovered->skipped.empty());
  EXPECT_TRUE(recovered->cuts.empty());
}

TEST(SpoolWriter, NumbersNewSegmentsPastSpareNames) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(16).ok());
  const std::string dir = MakeTempDir();
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  // A spare left from segment 12, when the loader found segments only up
  // to 8: its records must never carry the number of a new segment.
  const std::string spare = dir + "/" + SpareFileName(12);
  close(open(spare.c_str(), O_CREAT | O_WRONLY, 0600));
  SpoolWriter writer(&ring, dir, 1 << 20, /*spare_segments=*/2);
  ASSERT_TRUE(writer.Open(9).ok());
  EXPECT_EQ(writer.current_segment(), 13u);
  EXPECT_EQ(writer.spare_count(), 1u);
}

TEST(SpoolWriter, EachSegmentGetsItsOwnNonce) {
  io::Ring ring;
  ASSERT_TRUE(ring.Init(64).ok());
  const std::string dir = MakeTempDir();
  SpoolWriter writer(&ring, dir, 16);
  ASSERT_TRUE(writer.Open(1).ok());
  io::Spawn([](SpoolWriter* w, io::Ring* r) -> io::Task<void> {
    co_await AppendMessage(w, "A", "a\r\n");
    co_await AppendMessage(w, "B", "b\r\n");
    r->Stop();
  }(&writer, &ring));
  ring.Run();
  std::vector<SegmentStamp> stamps;
  for (uint64_t sequence : {1, 2}) {
    std::ifstream in(SegmentPath(dir, sequence), std::ios::binary);
    std::string header(kFrameHeaderSize, '\0');
    in.read(header.data(), header.size());
    absl::StatusOr<FrameHeader> decoded = DecodeFrameHeader(header);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    stamps.push_back(decoded->stamp);
  }
  EXPECT_EQ(stamps[0].sequence, 1u);
  EXPECT_EQ(stamps[1].sequence, 2u);
  EXPECT_NE(stamps[0].nonce, stamps[1].nonce);
  EXPECT_FALSE(stamps[0].reused_file);
}

}  // namespace
}  // namespace ferry::spool
