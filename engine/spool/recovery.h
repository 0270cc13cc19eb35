// Start-up recovery of one worker's spool directory: reads every segment,
// applies the outcome records to their messages and returns what is still
// queued. Runs once per directory before the workers start, on whichever
// thread calls it. It only reads, so repairs (truncating a damaged tail,
// deleting segments without live messages) are left to the caller.
//
// Damage inside a segment costs only the damaged records. A record whose
// frame header passes its checks but whose payload fails its CRC or does
// not parse is skipped by its size. Bytes without a valid frame header are
// skipped up to the next offset where a whole record decodes. Damage with
// no such record after it is the segment's tail, which the caller may cut.
//
// A segment file may be a reused one (see SpareFileName), so after its own
// records come the bytes left from its earlier use. The record at offset 0
// names the segment and its nonce (see record.h), and only records that
// repeat both belong to the segment. Any other record ends the segment,
// and so does damage that no record of the segment follows when the file
// is marked as reused. Neither is damage. A damaged record just before
// that end is an interrupted write, cut as kTornOverwrite. The stamp of a
// first header that fails its checks is still used. When the stamp itself
// is damaged the nonce is unknown, so nothing of that segment is
// recovered and the whole file is its cut.
// NOTE: damage that destroys the last records of a reused file therefore
// looks like its normal end and is not reported.
//
// A directory contains segment files named by SegmentFileName() and spare
// files named by SpareFileName(), which hold no records to recover. Other
// files are listed in RecoveredSpool::ignored_files and otherwise left
// alone.
#ifndef FERRY_ENGINE_SPOOL_RECOVERY_H_
#define FERRY_ENGINE_SPOOL_RECOVERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/spool/record.h"

namespace ferry::spool {

// Returns the file name of segment `sequence`: 16 lower-case hex digits and
// ".seg", so that names sort in sequence order.
std::string SegmentFileName(uint64_t sequence);

// Returns the sequence that `name` encodes, or nullopt when `name` is not
// exactly the form SegmentFileName() produces.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// Returns the name under which a spent segment file `sequence` waits to be
// reused for a later segment: 16 lower-case hex digits and ".spare".
std::string SpareFileName(uint64_t sequence);

// Returns the sequence that `name` encodes, or nullopt when `name` is not
// exactly the form SpareFileName() produces.
std::optional<uint64_t> ParseSpareFileName(std::string_view name);

// Delivery state of one recipient, from the latest outcome record for it.
// Fields other than `final` keep their defaults when no outcome exists.
struct RecoveredRecipient {
  bool final = false;  // delivered, bounced, expired or deleted
  bool has_outcome = false;
  Outcome::State last_state = Outcome::kDeferred;
  uint32_t attempts = 0;
  int64_t last_attempt_unix_micros = 0;
  int64_t next_attempt_unix_micros = 0;
  std::string next_hop;
  std::string last_reply;
};

// A message with at least one recipient that is not final.
struct RecoveredMessage {
  Envelope envelope;
  std::vector<RecoveredRecipient> recipients;  // parallel to the envelope's
  uint64_t segment = 0;      // sequence of the segment with the message record
  uint64_t body_offset = 0;  // byte offset of the body in that segment file
  uint64_t body_size = 0;
};

struct RecoveredSegment {
  uint64_t sequence = 0;
  std::string path;
  uint64_t file_size = 0;
  // Where the segment's tail starts: the offset of its SegmentCut, else
  // where the records left from the file's earlier use start, else the end
  // of the file. Skipped records lie before it and stay in the file. The
  // caller may truncate the file here.
  uint64_t valid_size = 0;
  size_t live_messages = 0;  // messages in this segment still queued
};

enum class SkipReason {
  // A frame header that passes its checks, with the whole record in the
  // file, but a payload that fails its CRC or does not parse.
  kCorruptRecord,
  // Bytes that do not start with a valid frame header, up to the next
  // offset where a whole record decodes.
  kUnframedBytes,
};

// Returns the reason as one word for logs, such as "corrupt_record".
std::string_view SkipReasonName(SkipReason reason);

// A damaged range inside a segment that the scan stepped over. A skipped
// message record is a message lost, and a skipped outcome record may lead
// to a repeated delivery attempt.
struct SkippedRecord {
  uint64_t sequence = 0;  // of the segment
  std::string path;       // of the segment
  uint64_t offset = 0;
  uint64_t length = 0;
  SkipReason reason = SkipReason::kCorruptRecord;
  std::string detail;  // the decoding error
  // From DecodeDamagedRecord(), when the range still parses as one record
  // of a known type. Both are unverified, because a check failed.
  std::optional<RecordType> type;
  std::string queue_id;  // empty when `type` is unset
};

enum class CutReason {
  // The file ends inside a record whose frame header passes its checks:
  // an interrupted append.
  kTornTail,
  kZeroFilledTail,  // only zero bytes from the cut to the end of the file
  // Damaged bytes from the cut to the end of the file, with no whole record
  // that decodes after the cut.
  kCorruptTail,
  // A damaged record followed only by bytes left from the file's earlier
  // use as another segment: an interrupted write into a reused file.
  kTornOverwrite,
};

// Returns the reason as one word for logs, such as "torn_tail".
std::string_view CutReasonName(CutReason reason);

// The tail of one segment: bytes from `offset` to the end of the file that
// hold no record to recover. Only the last damage in a segment is a cut.
struct SegmentCut {
  uint64_t sequence = 0;
  std::string path;
  uint64_t offset = 0;  // equals the segment's valid_size
  CutReason reason = CutReason::kCorruptTail;
  std::string detail;  // the decoding error
};

struct RecoveryStats {
  uint64_t message_records = 0;
  uint64_t outcome_records = 0;
  // Outcome records whose queue ID matches no live message read before
  // them. Normal after the message's own segment has been deleted.
  uint64_t orphan_outcomes = 0;
  uint64_t bad_recipient_index = 0;  // outcomes naming no such recipient
  uint64_t duplicate_messages = 0;   // later copies of a live queue ID
};

struct RecoveredSpool {
  std::vector<RecoveredMessage> messages;  // in spool order
  std::vector<RecoveredSegment> segments;  // ascending sequence
  std::vector<SkippedRecord> skipped;      // in scan order
  std::vector<SegmentCut> cuts;            // at most one per segment
  std::vector<std::string> spare_files;    // names from SpareFileName()
  std::vector<std::string> ignored_files;  // names that are neither
  RecoveryStats stats;
};

struct RecoveryOptions {
  // Bytes read per read() call. The buffer grows beyond this only to hold
  // a record that is larger.
  size_t read_block_size = 4 << 20;
};

// Scans every segment in `dir` in sequence order. A recipient whose latest
// outcome is final stays final, whatever outcome records follow. Returns
// NotFound when `dir` does not exist, and an error naming the file when a
// directory or segment cannot be listed, opened or read. Damaged records
// are not errors: they are reported in RecoveredSpool::skipped, or in
// RecoveredSpool::cuts when they form the segment's tail.
absl::StatusOr<RecoveredSpool> RecoverDirectory(
    const std::string& dir, const RecoveryOptions& options = {});

}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_RECOVERY_H_
