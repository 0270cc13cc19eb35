#include "engine/spool/recovery.h"

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/spool/legacy_record_testing.h"
#include "engine/spool/record.h"
#include "gtest/gtest.h"

namespace ferry::spool {
namespace {

// A fresh directory under the test's temporary directory, removed at the
// end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr ? base : "/tmp", "/spoolXXXXXX");
    path_ = mkdtemp(pattern.data());
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Envelope MakeEnvelope(const std::string& queue_id, int recipients) {
  Envelope envelope;
  envelope.queue_id = queue_id;
  envelope.arrival_unix_micros = 1733325296000000;
  envelope.client_ip = "198.51.100.7";
  envelope.helo = "client.example.net";
  envelope.sender = "alice@example.net";
  for (int i = 0; i < recipients; ++i) {
    envelope.recipients.push_back(
        {absl::StrCat("user", i, "@customer.example"), "", ""});
  }
  envelope.received_header = "Received: from client.example.net\r\n";
  return envelope;
}

Outcome MakeOutcome(const std::string& queue_id, uint32_t recipient,
                    Outcome::State state, uint32_t attempts = 1) {
  Outcome outcome;
  outcome.queue_id = queue_id;
  outcome.recipient_index = recipient;
  outcome.state = state;
  outcome.attempts = attempts;
  outcome.time_unix_micros = 1733325300000000 + attempts;
  outcome.next_attempt_unix_micros = 1733326200000000 + attempts;
  outcome.next_hop = "mail.customer.example:2525";
  outcome.reply = absl::StrCat("451 4.4.1 attempt ", attempts);
  return outcome;
}

// Builds the bytes of one segment file record by record, each record
// stamped with the segment sequence given to the constructor.
class SegmentBuilder {
 public:
  explicit SegmentBuilder(uint64_t sequence = 1, bool reused_file = false)
      : stamp_{.sequence = sequence,
               .nonce = sequence * 0x9E3779B97F4A7C15,
               .reused_file = reused_file} {}

  // Appends a message record and returns the offset where it starts.
  size_t AddMessage(const Envelope& envelope, std::string body) {
    const size_t start = bytes_.size();
    const std::vector<iovec> iovecs = {{body.data(), body.size()}};
    absl::StatusOr<std::string> prefix = EncodeMessagePrefix(envelope, iovecs);
    EXPECT_TRUE(prefix.ok()) << prefix.status();
    StampSegment(stamp_, prefix->data());
    bytes_ += *prefix;
    bytes_ += body;
    return start;
  }

  size_t AddOutcome(const Outcome& outcome) {
    const size_t start = bytes_.size();
    std::string record = EncodeOutcome(outcome);
    StampSegment(stamp_, record.data());
    bytes_ += record;
    return start;
  }

  std::string& bytes() { return bytes_; }

  // Writes the first `size` bytes (all by default) as segment `sequence`,
  // which must be the builder's own.
  void Write(const std::string& dir, uint64_t sequence,
             size_t size = std::string::npos) const {
    EXPECT_EQ(sequence, stamp_.sequence);
    std::ofstream out(absl::StrCat(dir, "/", SegmentFileName(sequence)),
                      std::ios::binary | std::ios::trunc);
    out << std::string_view(bytes_).substr(0, size);
  }

  // The stamp of the records added from now on.
  SegmentStamp& stamp() { return stamp_; }

 private:
  SegmentStamp stamp_;
  std::string bytes_;
};

// Returns the bytes of a file that held `earlier` and then had `later`
// written over its start, as a reused segment file does.
std::string Overwrite(const std::string& earlier, const std::string& later) {
  if (later.size() >= earlier.size()) return later;
  return later + earlier.substr(later.size());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string ReadFileRange(const std::string& path, uint64_t offset,
                          uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  return content.substr(offset, size);
}

RecoveredSpool Recover(const std::string& dir,
                       const RecoveryOptions& options = {}) {
  absl::StatusOr<RecoveredSpool> spool = RecoverDirectory(dir, options);
  EXPECT_TRUE(spool.ok()) << spool.status();
  return spool.ok() ? *std::move(spool) : RecoveredSpool();
}

TEST(SegmentFileNameTest, FormatsSixteenHexDigits) {
  EXPECT_EQ(SegmentFileName(0x1a2b), "0000000000001a2b.seg");
}

TEST(SegmentFileNameTest, ParseRoundTrip) {
  for (uint64_t sequence :
       {uint64_t{0}, uint64_t{1}, uint64_t{0xabcdef}, ~uint64_t{0}}) {
    EXPECT_EQ(ParseSegmentFileName(SegmentFileName(sequence)), sequence);
  }
}

TEST(SegmentFileNameTest, ParseRejectsOtherNames) {
  for (const char* name :
       {"0000000000001A2B.seg", "000000000001a2b.seg", "00000000000001a2b.seg",
        "0000000000001a2b.seg.tmp", "0000000000001a2b.log",
        "000000000000xa2b.seg", ".seg", ""}) {
    EXPECT_EQ(ParseSegmentFileName(name), std::nullopt) << name;
  }
}

TEST(RecoveryTest, MissingDirectoryIsNotFound) {
  TempDir dir;
  const absl::StatusOr<RecoveredSpool> spool =
      RecoverDirectory(dir.path() + "/absent");
  EXPECT_TRUE(absl::IsNotFound(spool.status())) << spool.status();
}

TEST(RecoveryTest, EmptyDirectoryHasNothing) {
  TempDir dir;
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_TRUE(spool.messages.empty());
  EXPECT_TRUE(spool.segments.empty());
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, EmptySegmentIsListed) {
  TempDir dir;
  SegmentBuilder(7).Write(dir.path(), 7);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.segments.size(), 1u);
  EXPECT_EQ(spool.segments[0].sequence, 7u);
  EXPECT_EQ(spool.segments[0].file_size, 0u);
  EXPECT_EQ(spool.segments[0].valid_size, 0u);
  EXPECT_EQ(spool.segments[0].live_messages, 0u);
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, RecoversMessagesInOrder) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  segment.AddMessage(MakeEnvelope("Q2", 2), "second\r\n");
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 2u);
  EXPECT_EQ(spool.messages[0].envelope, MakeEnvelope("Q1", 1));
  EXPECT_EQ(spool.messages[1].envelope, MakeEnvelope("Q2", 2));
  EXPECT_EQ(spool.messages[1].recipients.size(), 2u);
  EXPECT_FALSE(spool.messages[1].recipients[1].final);
  EXPECT_FALSE(spool.messages[1].recipients[1].has_outcome);
  EXPECT_EQ(spool.stats.message_records, 2u);
}

TEST(RecoveryTest, BodyOffsetPointsIntoSegmentFile) {
  TempDir dir;
  SegmentBuilder first;
  first.AddMessage(MakeEnvelope("Q1", 1), "body one\r\n");
  first.Write(dir.path(), 1);
  SegmentBuilder second(2);
  second.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred));
  second.AddMessage(MakeEnvelope("Q2", 1), "body two\r\n.. dot\r\n");
  second.Write(dir.path(), 2);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 2u);
  const RecoveredMessage& message = spool.messages[1];
  EXPECT_EQ(message.segment, 2u);
  EXPECT_EQ(ReadFileRange(spool.segments[1].path, message.body_offset,
                          message.body_size),
            "body two\r\n.. dot\r\n");
}

TEST(RecoveryTest, SegmentSizesAndLiveCounts) {
  TempDir dir;
  SegmentBuilder segment(3);
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  segment.AddMessage(MakeEnvelope("Q2", 1), "b\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered));
  segment.Write(dir.path(), 3);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.segments.size(), 1u);
  EXPECT_EQ(spool.segments[0].file_size, segment.bytes().size());
  EXPECT_EQ(spool.segments[0].valid_size, segment.bytes().size());
  EXPECT_EQ(spool.segments[0].live_messages, 1u);
  EXPECT_EQ(spool.segments[0].path,
            absl::StrCat(dir.path(), "/", SegmentFileName(3)));
}

TEST(RecoveryTest, AllRecipientsFinalDropsMessage) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 3), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered));
  segment.AddOutcome(MakeOutcome("Q1", 1, Outcome::kBounced));
  segment.AddOutcome(MakeOutcome("Q1", 2, Outcome::kExpired));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_TRUE(spool.messages.empty());
  EXPECT_EQ(spool.segments[0].live_messages, 0u);
}

TEST(RecoveryTest, PartialOutcomesKeepMessage) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 2), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered));
  segment.AddOutcome(MakeOutcome("Q1", 1, Outcome::kDeferred, 2));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  const std::vector<RecoveredRecipient>& recipients =
      spool.messages[0].recipients;
  EXPECT_TRUE(recipients[0].final);
  EXPECT_EQ(recipients[0].last_state, Outcome::kDelivered);
  EXPECT_FALSE(recipients[1].final);
  EXPECT_EQ(recipients[1].last_state, Outcome::kDeferred);
  EXPECT_EQ(recipients[1].attempts, 2u);
  EXPECT_EQ(recipients[1].last_reply, "451 4.4.1 attempt 2");
  EXPECT_EQ(recipients[1].next_hop, "mail.customer.example:2525");
  EXPECT_EQ(recipients[1].next_attempt_unix_micros, 1733326200000002);
  EXPECT_EQ(recipients[1].last_attempt_unix_micros, 1733325300000002);
}

TEST(RecoveryTest, HeldRecipientStaysQueuedAsHeld) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 2), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred, 1));
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kHeld, 1));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  const RecoveredRecipient& held = spool.messages[0].recipients[0];
  EXPECT_FALSE(held.final);
  EXPECT_EQ(held.last_state, Outcome::kHeld);
  EXPECT_EQ(held.attempts, 1u);
  EXPECT_EQ(spool.segments[0].live_messages, 1u);
}

TEST(RecoveryTest, ReleaseAfterHoldIsDeferred) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kHeld, 1));
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred, 1));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].recipients[0].last_state, Outcome::kDeferred);
}

TEST(RecoveryTest, DeletedRecipientsAreFinal) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 2), "a\r\n");
  segment.AddMessage(MakeEnvelope("Q2", 1), "b\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kHeld));
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeleted));
  segment.AddOutcome(MakeOutcome("Q1", 1, Outcome::kDeleted));
  // A later release cannot revive a deleted recipient.
  segment.AddOutcome(MakeOutcome("Q2", 0, Outcome::kDeleted));
  segment.AddOutcome(MakeOutcome("Q2", 0, Outcome::kDeferred, 2));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_TRUE(spool.messages.empty());
  EXPECT_EQ(spool.segments[0].live_messages, 0u);
}

TEST(RecoveryTest, LatestOutcomeWins) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred, 1));
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred, 2));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].recipients[0].attempts, 2u);
}

TEST(RecoveryTest, FinalStateIsNeverUndone) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 2), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered, 1));
  segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred, 2));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_TRUE(spool.messages[0].recipients[0].final);
  EXPECT_EQ(spool.messages[0].recipients[0].attempts, 1u);
}

TEST(RecoveryTest, OutcomeInNewerSegmentApplies) {
  TempDir dir;
  SegmentBuilder first;
  first.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  first.AddMessage(MakeEnvelope("Q2", 1), "b\r\n");
  first.Write(dir.path(), 1);
  SegmentBuilder second(2);
  second.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered));
  second.Write(dir.path(), 2);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "Q2");
  EXPECT_EQ(spool.segments[0].live_messages, 1u);
  EXPECT_EQ(spool.segments[1].live_messages, 0u);
}

TEST(RecoveryTest, ScansSegmentsInSequenceOrder) {
  TempDir dir;
  // Created newest first, so directory order is unlikely to match.
  SegmentBuilder newer(0x10);
  newer.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered));
  newer.Write(dir.path(), 0x10);
  SegmentBuilder older(0x2);
  older.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  older.Write(dir.path(), 0x2);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_TRUE(spool.messages.empty());
  ASSERT_EQ(spool.segments.size(), 2u);
  EXPECT_EQ(spool.segments[0].sequence, 0x2u);
  EXPECT_EQ(spool.segments[1].sequence, 0x10u);
  EXPECT_EQ(spool.stats.orphan_outcomes, 0u);
}

TEST(RecoveryTest, OrphanOutcomeIsCounted) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddOutcome(MakeOutcome("GONE", 0, Outcome::kDelivered));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.stats.orphan_outcomes, 1u);
  EXPECT_EQ(spool.stats.outcome_records, 1u);
}

TEST(RecoveryTest, BadRecipientIndexIsCounted) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  segment.AddOutcome(MakeOutcome("Q1", 1, Outcome::kDelivered));
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.stats.bad_recipient_index, 1u);
  EXPECT_EQ(spool.messages.size(), 1u);
}

TEST(RecoveryTest, DuplicateQueueIdKeepsFirst) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  segment.AddMessage(MakeEnvelope("Q1", 2), "second\r\n");
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.stats.duplicate_messages, 1u);
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].recipients.size(), 1u);
}

TEST(RecoveryTest, ListsIgnoredFiles) {
  TempDir dir;
  SegmentBuilder().Write(dir.path(), 1);
  std::ofstream(dir.path() + "/notes.txt") << "x";
  std::ofstream(dir.path() + "/0000000000000002.SEG") << "x";
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.segments.size(), 1u);
  EXPECT_EQ(spool.ignored_files,
            (std::vector<std::string>{"0000000000000002.SEG", "notes.txt"}));
}

// Truncates the file at every byte of its last record, for a last record
// that is a message and for one that is an outcome.
TEST(RecoveryTest, TornTailAtEveryOffset) {
  for (bool outcome_last : {false, true}) {
    SegmentBuilder segment;
    segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
    segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
    const size_t last_start =
        outcome_last
            ? segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered))
            : segment.AddMessage(MakeEnvelope("Q3", 1), "third\r\n");
    for (size_t size = last_start + 1; size < segment.bytes().size(); ++size) {
      TempDir dir;
      segment.Write(dir.path(), 1, size);
      const RecoveredSpool spool = Recover(dir.path());
      const std::string where =
          absl::StrCat("outcome_last=", outcome_last, " size=", size);
      EXPECT_EQ(spool.messages.size(), 2u) << where;
      ASSERT_EQ(spool.cuts.size(), 1u) << where;
      EXPECT_EQ(spool.cuts[0].reason, CutReason::kTornTail) << where;
      EXPECT_EQ(spool.cuts[0].offset, last_start) << where;
      EXPECT_EQ(spool.segments[0].valid_size, last_start) << where;
      EXPECT_EQ(spool.segments[0].file_size, size) << where;
    }
  }
}

TEST(RecoveryTest, CutAtRecordBoundaryIsClean) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  const size_t end = segment.bytes().size();
  segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
  segment.Write(dir.path(), 1, end);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.messages.size(), 1u);
  EXPECT_TRUE(spool.cuts.empty());
}

// Returns the offset of the first byte of `text` inside the record that
// starts at `record_start`.
size_t OffsetOf(const std::string& bytes, size_t record_start,
                std::string_view text) {
  const size_t found = bytes.find(text, record_start);
  EXPECT_NE(found, std::string::npos) << text;
  return found;
}

std::vector<std::string> QueueIds(const RecoveredSpool& spool) {
  std::vector<std::string> ids;
  for (const RecoveredMessage& message : spool.messages) {
    ids.push_back(message.envelope.queue_id);
  }
  return ids;
}

// Builds five messages Q0 to Q4 with the bodies "body 0" to "body 4" and
// returns where each record starts, with the end of the segment last.
std::vector<size_t> AddFiveMessages(SegmentBuilder* segment) {
  std::vector<size_t> starts;
  for (int i = 0; i < 5; ++i) {
    starts.push_back(segment->AddMessage(MakeEnvelope(absl::StrCat("Q", i), 1),
                                         absl::StrCat("body ", i, "\r\n")));
  }
  starts.push_back(segment->bytes().size());
  return starts;
}

std::vector<std::string> FiveIdsWithout(int missing) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    if (i != missing) ids.push_back(absl::StrCat("Q", i));
  }
  return ids;
}

// The damaged record is skipped by its size and the scan goes on, whether
// it is the first, a middle or the last record of the segment.
TEST(RecoveryTest, FlippedBodyByteSkipsOnlyThatRecord) {
  for (int bad : {0, 2, 4}) {
    TempDir dir;
    SegmentBuilder segment;
    const std::vector<size_t> starts = AddFiveMessages(&segment);
    const std::string body = absl::StrCat("body ", bad);
    segment.bytes()[OffsetOf(segment.bytes(), starts[bad], body)] ^= 0x01;
    segment.Write(dir.path(), 1);
    const RecoveredSpool spool = Recover(dir.path());
    const std::string where = absl::StrCat("damaged record ", bad);
    EXPECT_EQ(QueueIds(spool), FiveIdsWithout(bad)) << where;
    EXPECT_TRUE(spool.cuts.empty()) << where;
    EXPECT_EQ(spool.segments[0].valid_size, segment.bytes().size()) << where;
    EXPECT_EQ(spool.segments[0].live_messages, 4u) << where;
    ASSERT_EQ(spool.skipped.size(), 1u) << where;
    const SkippedRecord& skipped = spool.skipped[0];
    EXPECT_EQ(skipped.reason, SkipReason::kCorruptRecord) << where;
    EXPECT_EQ(skipped.offset, starts[bad]) << where;
    EXPECT_EQ(skipped.length, starts[bad + 1] - starts[bad]) << where;
    EXPECT_EQ(skipped.sequence, 1u) << where;
    EXPECT_EQ(skipped.path, spool.segments[0].path) << where;
    EXPECT_EQ(skipped.type, RecordType::kMessage) << where;
    EXPECT_EQ(skipped.queue_id, absl::StrCat("Q", bad)) << where;
    EXPECT_NE(skipped.detail.find("CRC"), std::string::npos) << skipped.detail;
  }
}

TEST(RecoveryTest, RecordsAfterSkipKeepBodyOffsets) {
  TempDir dir;
  SegmentBuilder segment;
  const std::vector<size_t> starts = AddFiveMessages(&segment);
  segment.bytes()[OffsetOf(segment.bytes(), starts[0], "body 0")] ^= 0x01;
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 4u);
  for (size_t i = 0; i < spool.messages.size(); ++i) {
    const RecoveredMessage& message = spool.messages[i];
    EXPECT_EQ(ReadFileRange(spool.segments[0].path, message.body_offset,
                            message.body_size),
              absl::StrCat("body ", i + 1, "\r\n"));
  }
}

TEST(RecoveryTest, FlippedEnvelopeByteSkipsRecord) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  const size_t bad = segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
  segment.AddMessage(MakeEnvelope("Q3", 1), "third\r\n");
  segment.bytes()[OffsetOf(segment.bytes(), bad, "alice@example.net")] ^= 0x01;
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q1", "Q3"}));
  EXPECT_TRUE(spool.cuts.empty());
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].offset, bad);
  EXPECT_EQ(spool.skipped[0].queue_id, "Q2");
}

TEST(RecoveryTest, FlippedOutcomeByteSkipsOutcome) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  const size_t bad =
      segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDelivered));
  segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
  segment.bytes()[OffsetOf(segment.bytes(), bad, "451 4.4.1")] ^= 0x01;
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  // Without its outcome Q1 stays queued, so it is delivered again.
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q1", "Q2"}));
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].type, RecordType::kOutcome);
  EXPECT_EQ(spool.skipped[0].queue_id, "Q1");
}

TEST(RecoveryTest, UnparsableEnvelopeGivesNoQueueId) {
  TempDir dir;
  SegmentBuilder segment;
  const size_t bad = segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
  // The queue ID's length byte, now longer than the payload.
  segment.bytes()[bad + kFrameHeaderSize] = 0x7F;
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q2"}));
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].type, std::nullopt);
  EXPECT_EQ(spool.skipped[0].queue_id, "");
}

// The header check exposes a damaged size field, so the scan searches for
// the next record instead of trusting the size: a size past the end of the
// file, one inside the file, and one too small.
TEST(RecoveryTest, CorruptSizeFieldIsSkipped) {
  for (uint32_t size : {0x00100000u, 300u, 4u}) {
    TempDir dir;
    SegmentBuilder segment;
    const std::vector<size_t> starts = AddFiveMessages(&segment);
    for (int i = 0; i < 4; ++i) {
      segment.bytes()[starts[1] + 8 + i] = static_cast<char>(size >> (8 * i));
    }
    segment.Write(dir.path(), 1);
    const RecoveredSpool spool = Recover(dir.path());
    const std::string where = absl::StrCat("size ", size);
    EXPECT_EQ(QueueIds(spool), FiveIdsWithout(1)) << where;
    EXPECT_TRUE(spool.cuts.empty()) << where;
    ASSERT_EQ(spool.skipped.size(), 1u) << where;
    const SkippedRecord& skipped = spool.skipped[0];
    EXPECT_EQ(skipped.reason, SkipReason::kUnframedBytes) << where;
    EXPECT_EQ(skipped.offset, starts[1]) << where;
    EXPECT_EQ(skipped.length, starts[2] - starts[1]) << where;
    EXPECT_EQ(skipped.queue_id, "Q1") << where;
  }
}

TEST(RecoveryTest, GarbageBetweenRecordsIsSkipped) {
  // Includes a magic number that starts no valid record.
  const std::string garbage =
      std::string("not a record FRY1\x01\x00\x00\x00", 21) + "tail";
  for (size_t block : {16, 17, 64, 4 << 20}) {
    TempDir dir;
    SegmentBuilder segment;
    segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
    const size_t at = segment.bytes().size();
    segment.bytes() += garbage;
    segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
    segment.AddMessage(MakeEnvelope("Q3", 1), "third\r\n");
    segment.Write(dir.path(), 1);
    const RecoveredSpool spool =
        Recover(dir.path(), {.read_block_size = block});
    const std::string where = absl::StrCat("block ", block);
    EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q1", "Q2", "Q3"}))
        << where;
    ASSERT_EQ(spool.skipped.size(), 1u) << where;
    EXPECT_EQ(spool.skipped[0].reason, SkipReason::kUnframedBytes) << where;
    EXPECT_EQ(spool.skipped[0].offset, at) << where;
    EXPECT_EQ(spool.skipped[0].length, garbage.size()) << where;
    EXPECT_EQ(spool.skipped[0].queue_id, "") << where;
    EXPECT_TRUE(spool.cuts.empty()) << where;
    ASSERT_EQ(spool.messages.size(), 3u) << where;
    EXPECT_EQ(
        ReadFileRange(spool.segments[0].path, spool.messages[2].body_offset,
                      spool.messages[2].body_size),
        "third\r\n")
        << where;
  }
}

// A run of zeros inside the file, as a lost page leaves, is not the tail
// when records follow it.
TEST(RecoveryTest, ZeroRunBetweenRecordsIsSkipped) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  segment.bytes().append(4096, '\0');
  segment.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q1", "Q2"}));
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].length, 4096u);
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, SeveralDamagedRecordsAreEachSkipped) {
  TempDir dir;
  SegmentBuilder segment;
  const std::vector<size_t> starts = AddFiveMessages(&segment);
  segment.bytes()[OffsetOf(segment.bytes(), starts[1], "body 1")] ^= 0x01;
  segment.bytes()[starts[3]] = 'X';  // the magic number of Q3
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q0", "Q2", "Q4"}));
  ASSERT_EQ(spool.skipped.size(), 2u);
  EXPECT_EQ(spool.skipped[0].offset, starts[1]);
  EXPECT_EQ(spool.skipped[0].reason, SkipReason::kCorruptRecord);
  EXPECT_EQ(spool.skipped[1].offset, starts[3]);
  EXPECT_EQ(spool.skipped[1].reason, SkipReason::kUnframedBytes);
  EXPECT_EQ(spool.skipped[1].queue_id, "Q3");
}

TEST(RecoveryTest, TornTailAfterSkippedRecord) {
  TempDir dir;
  SegmentBuilder segment;
  const std::vector<size_t> starts = AddFiveMessages(&segment);
  segment.bytes()[OffsetOf(segment.bytes(), starts[2], "body 2")] ^= 0x01;
  segment.Write(dir.path(), 1, starts[4] + 20);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q0", "Q1", "Q3"}));
  ASSERT_EQ(spool.skipped.size(), 1u);
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kTornTail);
  EXPECT_EQ(spool.cuts[0].offset, starts[4]);
  EXPECT_EQ(spool.segments[0].valid_size, starts[4]);
}

TEST(RecoveryTest, DamagedLastHeaderIsCorruptTail) {
  TempDir dir;
  SegmentBuilder segment;
  const std::vector<size_t> starts = AddFiveMessages(&segment);
  segment.bytes()[starts[4] + 9] ^= 0x01;  // the size field
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), FiveIdsWithout(4));
  EXPECT_TRUE(spool.skipped.empty());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kCorruptTail);
  EXPECT_EQ(spool.cuts[0].offset, starts[4]);
  EXPECT_EQ(spool.segments[0].valid_size, starts[4]);
}

TEST(RecoveryTest, CorruptSegmentDoesNotStopOthers) {
  TempDir dir;
  SegmentBuilder first;
  first.AddMessage(MakeEnvelope("Q1", 1), "first\r\n");
  first.bytes()[0] = 'X';
  first.Write(dir.path(), 1);
  SegmentBuilder second(2);
  second.AddMessage(MakeEnvelope("Q2", 1), "second\r\n");
  second.Write(dir.path(), 2);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "Q2");
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].sequence, 1u);
  EXPECT_EQ(spool.cuts[0].offset, 0u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kCorruptTail);
}

TEST(RecoveryTest, ZeroFilledTailIsReported) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  const size_t end = segment.bytes().size();
  segment.bytes().append(100000, '\0');
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.messages.size(), 1u);
  EXPECT_TRUE(spool.skipped.empty());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kZeroFilledTail);
  EXPECT_EQ(spool.cuts[0].offset, end);
}

TEST(RecoveryTest, ShortZeroTailIsZeroFilled) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  segment.bytes().append(5, '\0');
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kZeroFilledTail);
}

TEST(RecoveryTest, NonZeroAfterZerosIsCorruptTail) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  const size_t end = segment.bytes().size();
  segment.bytes().append(5000, '\0');
  segment.bytes().push_back('x');
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_TRUE(spool.skipped.empty());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kCorruptTail);
  EXPECT_EQ(spool.cuts[0].offset, end);
}

// A frame header that passes its checks vouches for its size, so bytes
// after it up to that size are its own payload, even where they hold
// records. Only an append cut short produces this.
TEST(RecoveryTest, ValidHeaderPastEndIsTornTail) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  const size_t torn =
      segment.AddMessage(MakeEnvelope("Q2", 1), std::string(100000, 'b'));
  segment.bytes().resize(torn + 200);
  segment.AddMessage(MakeEnvelope("Q3", 1), "c\r\n");
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(QueueIds(spool), (std::vector<std::string>{"Q1"}));
  EXPECT_TRUE(spool.skipped.empty());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kTornTail);
  EXPECT_EQ(spool.cuts[0].offset, torn);
}

TEST(RecoveryTest, HugeUncheckedSizeIsCorruptTail) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  const size_t start =
      segment.AddOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred));
  // Payload size 2^30: allowed, but the header check no longer matches.
  segment.bytes()[start + 8] = 0;
  segment.bytes()[start + 9] = 0;
  segment.bytes()[start + 10] = 0;
  segment.bytes()[start + 11] = 0x40;
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kCorruptTail);
  EXPECT_EQ(spool.cuts[0].offset, start);
}

// One record of a random corruption round: where its bytes are, and what
// recovery should find when they survive.
struct PlannedRecord {
  size_t start = 0;
  size_t end = 0;
  std::string queue_id;
  bool outcome = false;
  std::string body;  // messages only
};

bool Untouched(const PlannedRecord& record, const std::string& damaged,
               const std::string& original) {
  return damaged.compare(record.start, record.end - record.start, original,
                         record.start, record.end - record.start) == 0;
}

// Flips random bytes in a segment of messages and outcomes. Every record
// whose bytes were not touched must be recovered, and no touched one.
TEST(RecoveryTest, RandomFlipsLoseOnlyTouchedRecords) {
  std::mt19937_64 rng(20241204);
  const size_t blocks[] = {16, 61, 1000, 4 << 20};
  for (int round = 0; round < 400; ++round) {
    SegmentBuilder segment;
    std::vector<PlannedRecord> planned;
    const int messages = 2 + static_cast<int>(rng() % 10);
    for (int i = 0; i < messages; ++i) {
      PlannedRecord message;
      message.queue_id = absl::StrCat("R", round, "M", i);
      message.body = std::string(rng() % 400, static_cast<char>('a' + i));
      message.start =
          segment.AddMessage(MakeEnvelope(message.queue_id, 1), message.body);
      message.end = segment.bytes().size();
      planned.push_back(message);
      if (rng() % 2 == 0) {
        PlannedRecord outcome;
        outcome.queue_id = message.queue_id;
        outcome.outcome = true;
        outcome.start = segment.AddOutcome(
            MakeOutcome(message.queue_id, 0, Outcome::kDeferred));
        outcome.end = segment.bytes().size();
        planned.push_back(outcome);
      }
    }
    const std::string original = segment.bytes();
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      segment.bytes()[rng() % original.size()] ^=
          static_cast<char>(1 + rng() % 255);
    }
    TempDir dir;
    segment.Write(dir.path(), 1);
    const size_t block = blocks[round % 4];
    const RecoveredSpool spool =
        Recover(dir.path(), {.read_block_size = block});
    // The first header's stamp (bytes 16 to 31) gives the segment's nonce.
    // Without it nothing of the segment is recovered, and the whole file
    // is the cut.
    if (segment.bytes().compare(16, 16, original, 16, 16) != 0) {
      EXPECT_TRUE(spool.messages.empty()) << "round " << round;
      ASSERT_EQ(spool.cuts.size(), 1u) << "round " << round;
      EXPECT_EQ(spool.cuts[0].offset, 0u) << "round " << round;
      continue;
    }
    std::map<std::string, const RecoveredMessage*> found;
    for (const RecoveredMessage& message : spool.messages) {
      found[message.envelope.queue_id] = &message;
    }
    std::map<std::string, bool> outcome_intact;
    for (const PlannedRecord& record : planned) {
      if (record.outcome) {
        outcome_intact[record.queue_id] =
            Untouched(record, segment.bytes(), original);
      }
    }
    for (const PlannedRecord& record : planned) {
      const std::string where =
          absl::StrCat("round ", round, " block ", block, " ", record.queue_id);
      const bool intact = Untouched(record, segment.bytes(), original);
      for (const SkippedRecord& skipped : spool.skipped) {
        const bool overlaps = skipped.offset < record.end &&
                              record.start < skipped.offset + skipped.length;
        EXPECT_FALSE(intact && overlaps) << where;
      }
      for (const SegmentCut& cut : spool.cuts) {
        EXPECT_FALSE(intact && cut.offset < record.end) << where;
      }
      if (record.outcome) continue;
      const auto message = found.find(record.queue_id);
      ASSERT_EQ(message != found.end(), intact) << where;
      if (!intact) continue;
      EXPECT_EQ(
          ReadFileRange(spool.segments[0].path, message->second->body_offset,
                        message->second->body_size),
          record.body)
          << where;
      EXPECT_EQ(message->second->recipients[0].has_outcome,
                outcome_intact[record.queue_id])
          << where;
    }
  }
}

// Records of many sizes, one larger than the default read block, read with
// blocks smaller than a frame header and of odd sizes.
TEST(RecoveryTest, ReadBlockSizeDoesNotChangeResult) {
  TempDir dir;
  SegmentBuilder segment;
  for (int i = 0; i < 200; ++i) {
    const std::string queue_id = absl::StrCat("Q", i);
    segment.AddMessage(MakeEnvelope(queue_id, 1 + i % 3),
                       std::string(i * 37 % 5000, 'a' + i % 26));
    if (i % 4 == 0) {
      segment.AddOutcome(MakeOutcome(queue_id, 0, Outcome::kDelivered));
    }
  }
  segment.AddMessage(MakeEnvelope("BIG", 1), std::string(5 << 20, 'b'));
  segment.Write(dir.path(), 1);
  const RecoveredSpool expected = Recover(dir.path());
  // Messages with i % 12 == 0 have one recipient, delivered: 17 of them.
  EXPECT_EQ(expected.messages.size(), 200u - 17 + 1);
  for (size_t block : {1, 16, 17, 1000, 65536}) {
    const RecoveredSpool spool =
        Recover(dir.path(), {.read_block_size = block});
    ASSERT_EQ(spool.messages.size(), expected.messages.size()) << block;
    for (size_t i = 0; i < spool.messages.size(); ++i) {
      EXPECT_EQ(spool.messages[i].envelope, expected.messages[i].envelope)
          << "block " << block << " message " << i;
      EXPECT_EQ(spool.messages[i].body_offset, expected.messages[i].body_offset)
          << "block " << block << " message " << i;
    }
    EXPECT_TRUE(spool.cuts.empty()) << block;
  }
  const RecoveredMessage& big = expected.messages.back();
  EXPECT_EQ(big.envelope.queue_id, "BIG");
  EXPECT_EQ(big.body_size, 5u << 20);
  EXPECT_EQ(big.body_offset + big.body_size, segment.bytes().size());
}

// A reused segment file: the records of its new segment come first, then
// what is left of those it held as segment 5, which recovery must ignore.
class ReusedFileTest : public testing::Test {
 protected:
  ReusedFileTest() {
    earlier_.AddMessage(MakeEnvelope("OLD1", 1), std::string(3000, 'a'));
    earlier_.AddMessage(MakeEnvelope("OLD2", 1), std::string(3000, 'b'));
    earlier_.AddMessage(MakeEnvelope("OLD3", 1), std::string(3000, 'c'));
  }

  std::string SegmentPath() const {
    return absl::StrCat(dir_.path(), "/", SegmentFileName(9));
  }

  TempDir dir_;
  SegmentBuilder earlier_{5, /*reused_file=*/true};
  SegmentBuilder later_{9, /*reused_file=*/true};
};

TEST_F(ReusedFileTest, EndsWhereEarlierRecordsStart) {
  later_.AddMessage(MakeEnvelope("NEW1", 1), std::string(100, 'n'));
  later_.AddOutcome(MakeOutcome("NEW1", 0, Outcome::kDeferred));
  WriteFile(SegmentPath(), Overwrite(earlier_.bytes(), later_.bytes()));
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "NEW1");
  EXPECT_TRUE(spool.messages[0].recipients[0].has_outcome);
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
  ASSERT_EQ(spool.segments.size(), 1u);
  EXPECT_EQ(spool.segments[0].valid_size, later_.bytes().size());
  EXPECT_EQ(spool.segments[0].file_size, earlier_.bytes().size());
  EXPECT_EQ(spool.stats.message_records, 1u);
}

TEST_F(ReusedFileTest, EndsInsideTheLastEarlierRecord) {
  // The new records end inside the earlier last record, so no whole
  // earlier record follows them.
  later_.AddMessage(MakeEnvelope("NEW1", 1), std::string(8500, 'n'));
  ASSERT_LT(later_.bytes().size(), earlier_.bytes().size());
  WriteFile(SegmentPath(), Overwrite(earlier_.bytes(), later_.bytes()));
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "NEW1");
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
  EXPECT_EQ(spool.segments[0].valid_size, later_.bytes().size());
}

TEST_F(ReusedFileTest, NothingWrittenYetRecoversNothing) {
  // The file was renamed to its new segment, and the writer stopped before
  // the first batch reached the disk.
  WriteFile(SegmentPath(), earlier_.bytes());
  const RecoveredSpool spool = Recover(dir_.path());
  EXPECT_TRUE(spool.messages.empty());
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
  EXPECT_EQ(spool.segments[0].valid_size, 0u);
  EXPECT_EQ(spool.stats.message_records, 0u);
}

TEST_F(ReusedFileTest, DamagedLastRecordIsTornOverwrite) {
  later_.AddMessage(MakeEnvelope("NEW1", 1), std::string(100, 'n'));
  const size_t torn =
      later_.AddMessage(MakeEnvelope("NEW2", 1), std::string(100, 'm'));
  // Only the start of the last record reached the disk.
  std::string bytes = Overwrite(earlier_.bytes(), later_.bytes());
  bytes.replace(torn + kFrameHeaderSize + 40, 60,
                earlier_.bytes().substr(torn + kFrameHeaderSize + 40, 60));
  WriteFile(SegmentPath(), bytes);
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "NEW1");
  EXPECT_TRUE(spool.skipped.empty());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kTornOverwrite);
  EXPECT_EQ(spool.cuts[0].offset, torn);
  EXPECT_EQ(spool.segments[0].valid_size, torn);
}

TEST_F(ReusedFileTest, DamageBeforeLaterRecordsIsStillSkipped) {
  const size_t damaged =
      later_.AddMessage(MakeEnvelope("NEW1", 1), std::string(100, 'n'));
  later_.AddMessage(MakeEnvelope("NEW2", 1), std::string(100, 'm'));
  later_.bytes()[damaged + kFrameHeaderSize + 50] ^= 0x01;
  WriteFile(SegmentPath(), Overwrite(earlier_.bytes(), later_.bytes()));
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "NEW2");
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].offset, damaged);
  EXPECT_EQ(spool.skipped[0].reason, SkipReason::kCorruptRecord);
  EXPECT_TRUE(spool.cuts.empty());
}

TEST_F(ReusedFileTest, DamagedHeaderBeforeLaterRecordsIsStillSkipped) {
  later_.AddMessage(MakeEnvelope("NEW0", 1), std::string(100, 'o'));
  const size_t damaged =
      later_.AddMessage(MakeEnvelope("NEW1", 1), std::string(100, 'n'));
  later_.AddMessage(MakeEnvelope("NEW2", 1), std::string(100, 'm'));
  later_.bytes()[damaged + 9] ^= 0x01;  // the size field
  WriteFile(SegmentPath(), Overwrite(earlier_.bytes(), later_.bytes()));
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 2u);
  EXPECT_EQ(spool.messages[1].envelope.queue_id, "NEW2");
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].offset, damaged);
  EXPECT_EQ(spool.skipped[0].reason, SkipReason::kUnframedBytes);
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, RecordOfAnotherSegmentEndsSegment) {
  TempDir dir;
  SegmentBuilder segment(2);
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  SegmentBuilder other(1);
  other.AddMessage(MakeEnvelope("Q2", 1), "b\r\n");
  segment.bytes() += other.bytes();
  segment.Write(dir.path(), 2);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "Q1");
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, LegacyRecordsAreRecovered) {
  TempDir dir;
  SegmentBuilder builder(1);
  builder.AddMessage(MakeEnvelope("Q1", 1), "legacy body\r\n");
  std::string bytes = ToLegacy(builder.bytes());
  bytes += ToLegacy(EncodeOutcome(MakeOutcome("Q1", 0, Outcome::kDeferred, 3)));
  WriteFile(absl::StrCat(dir.path(), "/", SegmentFileName(1)), bytes);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope, MakeEnvelope("Q1", 1));
  EXPECT_EQ(spool.messages[0].recipients[0].attempts, 3u);
  EXPECT_EQ(ReadFileRange(spool.segments[0].path, spool.messages[0].body_offset,
                          spool.messages[0].body_size),
            "legacy body\r\n");
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, SpareFilesAreListedApart) {
  TempDir dir;
  SegmentBuilder(1).Write(dir.path(), 1);
  WriteFile(absl::StrCat(dir.path(), "/", SpareFileName(0x2a)), "x");
  WriteFile(absl::StrCat(dir.path(), "/notes.txt"), "x");
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_EQ(spool.spare_files,
            (std::vector<std::string>{"000000000000002a.spare"}));
  EXPECT_EQ(spool.ignored_files, (std::vector<std::string>{"notes.txt"}));
  EXPECT_EQ(spool.segments.size(), 1u);
}

TEST(SpareFileNameTest, ParseRoundTripAndRejectsSegments) {
  EXPECT_EQ(ParseSpareFileName(SpareFileName(0x1a2b)), 0x1a2bu);
  EXPECT_EQ(ParseSpareFileName(SegmentFileName(0x1a2b)), std::nullopt);
  EXPECT_EQ(ParseSegmentFileName(SpareFileName(0x1a2b)), std::nullopt);
}

TEST_F(ReusedFileTest, PlantedRecordsInOldBodiesAreIgnored) {
  // A sender's body full of records that claim segment 9: legacy ones and
  // stamped ones with a guessed nonce. The new records end inside it.
  SegmentBuilder planted(9, /*reused_file=*/true);
  planted.stamp().nonce = 12345;
  std::string body;
  for (int i = 0; i < 40; ++i) {
    SegmentBuilder legacy(9);
    legacy.AddMessage(MakeEnvelope(absl::StrCat("FAKE", i), 1), "x\r\n");
    body += ToLegacy(legacy.bytes());
    planted.AddMessage(MakeEnvelope(absl::StrCat("FAKE", i), 1), "x\r\n");
  }
  body += planted.bytes();
  SegmentBuilder earlier(5, /*reused_file=*/true);
  earlier.AddMessage(MakeEnvelope("OLD1", 1), body);
  later_.AddMessage(MakeEnvelope("NEW1", 1), std::string(100, 'n'));
  ASSERT_LT(later_.bytes().size() + 200, earlier.bytes().size());
  WriteFile(SegmentPath(), Overwrite(earlier.bytes(), later_.bytes()));
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "NEW1");
  EXPECT_EQ(spool.stats.message_records, 1u);
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
}

TEST_F(ReusedFileTest, SameSequenceOtherNonceIsEarlierUse) {
  // The file held an earlier segment 9 whose records carry another nonce.
  SegmentBuilder earlier(9, /*reused_file=*/true);
  earlier.stamp().nonce = 777;
  earlier.AddMessage(MakeEnvelope("OLD1", 1), "a\r\n");
  earlier.AddMessage(MakeEnvelope("OLD2", 1), std::string(3000, 'b'));
  later_.AddMessage(MakeEnvelope("NEW1", 1), "n\r\n");
  WriteFile(SegmentPath(), Overwrite(earlier.bytes(), later_.bytes()));
  const RecoveredSpool spool = Recover(dir_.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "NEW1");
  EXPECT_TRUE(spool.skipped.empty());
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, DamagedFirstHeaderKeepsLaterRecords) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  const size_t second = segment.AddMessage(MakeEnvelope("Q2", 1), "b\r\n");
  segment.bytes()[9] ^= 0x01;  // the first record's size field
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  ASSERT_EQ(spool.messages.size(), 1u);
  EXPECT_EQ(spool.messages[0].envelope.queue_id, "Q2");
  ASSERT_EQ(spool.skipped.size(), 1u);
  EXPECT_EQ(spool.skipped[0].offset, 0u);
  EXPECT_EQ(spool.skipped[0].length, second);
  EXPECT_TRUE(spool.cuts.empty());
}

TEST(RecoveryTest, DamagedFirstStampRecoversNothingOfSegment) {
  TempDir dir;
  SegmentBuilder segment;
  segment.AddMessage(MakeEnvelope("Q1", 1), "a\r\n");
  segment.AddMessage(MakeEnvelope("Q2", 1), "b\r\n");
  segment.bytes()[26] ^= 0x01;  // the first record's nonce
  segment.Write(dir.path(), 1);
  const RecoveredSpool spool = Recover(dir.path());
  EXPECT_TRUE(spool.messages.empty());
  ASSERT_EQ(spool.cuts.size(), 1u);
  EXPECT_EQ(spool.cuts[0].offset, 0u);
  EXPECT_EQ(spool.cuts[0].reason, CutReason::kCorruptTail);
}

}  // namespace
}  // namespace ferry::spool
