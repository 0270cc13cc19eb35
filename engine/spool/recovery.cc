#include "engine/spool/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ferry::spool {
namespace {

constexpr std::string_view kSegmentSuffix = ".seg";
constexpr std::string_view kSpareSuffix = ".spare";
constexpr size_t kSequenceDigits = 16;

absl::Status ErrnoError(int error_number, const char* operation,
                        const std::string& path) {
  return absl::ErrnoToStatus(error_number,
                             absl::StrCat(operation, " ", path, " failed"));
}

// Closes a file descriptor when it goes out of scope.
class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;
  ~FileCloser() { close(fd_); }

 private:
  int fd_;
};

// Reads one file in large blocks and hands out views of the bytes at the
// current position. A view stays valid until the next Peek() or Seek().
class BlockReader {
 public:
  BlockReader(int fd, const std::string& path, uint64_t file_size,
              size_t block_size)
      : fd_(fd),
        path_(path),
        file_size_(file_size),
        capacity_(std::max<size_t>(block_size, kFrameHeaderSize)),
        buffer_(new char[capacity_]) {}

  // Returns the next `n` bytes, or fewer when the file ends first.
  absl::StatusOr<std::string_view> Peek(size_t n) {
    if (absl::Status status = Fill(n); !status.ok()) return status;
    return std::string_view(buffer_.get() + begin_, std::min(n, end_ - begin_));
  }

  // Returns the bytes from the position to the end of the buffer, at least
  // kFrameHeaderSize of them unless the file ends first.
  absl::StatusOr<std::string_view> PeekBlock() { return Peek(capacity_); }

  // Moves the position forward. REQUIRES: n <= the size of the last Peek().
  void Advance(size_t n) {
    begin_ += n;
    offset_ += n;
  }

  // Moves the position to file offset `offset`, which may lie before it.
  // REQUIRES: offset <= the file size.
  void Seek(uint64_t offset);

  // Moves the position to the end of the file.
  void SkipToEnd() { Seek(file_size_); }

  // File offset of the current position.
  uint64_t offset() const { return offset_; }

  // Bytes from the position to the end of the file.
  uint64_t remaining() const { return file_size_ - offset_; }

  // Returns true iff every byte from the current position to the end of
  // the file is zero. Moves the position to the end of the file.
  absl::StatusOr<bool> RestIsZero();

 private:
  // Buffers at least `n` bytes past the position, or up to the end of the
  // file when it has fewer.
  absl::Status Fill(size_t n);
  void MakeRoom(size_t n);

  const int fd_;
  const std::string& path_;
  uint64_t file_size_;  // from fstat(), lowered if the file turns out shorter
  size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  size_t begin_ = 0;     // buffer index of the current position
  size_t end_ = 0;       // buffer index after the last byte read
  uint64_t offset_ = 0;  // file offset of buffer_[begin_]
};

absl::Status BlockReader::Fill(size_t n) {
  const uint64_t available = end_ - begin_;
  uint64_t read_offset = offset_ + available;
  if (available >= n || read_offset >= file_size_) return absl::OkStatus();
  // A size field in a damaged header may claim up to kMaxPayloadSize
  // bytes, so never make room for more than the file still holds.
  n = static_cast<size_t>(std::min<uint64_t>(n, file_size_ - offset_));
  MakeRoom(n);
  while (end_ - begin_ < n) {
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(capacity_ - end_, file_size_ - read_offset));
    const ssize_t got =
        pread(fd_, buffer_.get() + end_, want, static_cast<off_t>(read_offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoError(errno, "read", path_);
    if (got == 0) {
      // The file shrank after fstat(), so its new end is the end.
      file_size_ = read_offset;
      break;
    }
    end_ += static_cast<size_t>(got);
    read_offset += static_cast<uint64_t>(got);
  }
  return absl::OkStatus();
}

// Moves the unconsumed bytes to the front of the buffer, growing it when
// `n` bytes would not fit.
void BlockReader::MakeRoom(size_t n) {
  if (capacity_ - begin_ >= n) return;
  const size_t kept = end_ - begin_;
  if (n > capacity_) {
    const size_t capacity = std::max(n, capacity_ * 2);
    std::unique_ptr<char[]> grown(new char[capacity]);
    std::memcpy(grown.get(), buffer_.get() + begin_, kept);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  } else {
    std::memmove(buffer_.get(), buffer_.get() + begin_, kept);
  }
  begin_ = 0;
  end_ = kept;
}

void BlockReader::Seek(uint64_t offset) {
  const uint64_t buffer_start = offset_ - begin_;
  const uint64_t buffer_end = offset_ + (end_ - begin_);
  if (offset >= buffer_start && offset <= buffer_end) {
    begin_ = static_cast<size_t>(offset - buffer_start);
  } else {
    begin_ = 0;
    end_ = 0;
  }
  offset_ = offset;
}

absl::StatusOr<bool> BlockReader::RestIsZero() {
  while (true) {
    absl::StatusOr<std::string_view> block = PeekBlock();
    if (!block.ok()) return block.status();
    if (block->empty()) return true;
    if (std::any_of(block->begin(), block->end(),
                    [](char c) { return c != 0; })) {
      SkipToEnd();
      return false;
    }
    Advance(block->size());
  }
}

// Returns the segment files in `dir`, sorted by sequence, adds the names of
// spare segment files to `spares` and those of all other entries to
// `ignored`.
absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> ListSegments(
    const std::string& dir, std::vector<std::string>* spares,
    std::vector<std::string>* ignored) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr && errno == ENOENT) {
    return absl::NotFoundError(
        absl::StrCat("spool directory ", dir, " not found"));
  }
  if (handle == nullptr) return ErrnoError(errno, "opendir", dir);
  std::vector<std::pair<uint64_t, std::string>> segments;
  errno = 0;
  while (const dirent* entry = readdir(handle)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (std::optional<uint64_t> sequence = ParseSegmentFileName(name)) {
      segments.emplace_back(*sequence, name);
    } else if (ParseSpareFileName(name).has_value()) {
      spares->emplace_back(name);
    } else {
      ignored->emplace_back(name);
    }
  }
  const int read_error = errno;
  closedir(handle);
  if (read_error != 0) return ErrnoError(read_error, "readdir", dir);
  std::sort(segments.begin(), segments.end());
  std::sort(spares->begin(), spares->end());
  std::sort(ignored->begin(), ignored->end());
  return segments;
}

// The bytes that both magic numbers start with on disk (little-endian).
constexpr char kMagicPrefixBytes[] = {
    static_cast<char>(kRecordMagic & 0xFF),
    static_cast<char>((kRecordMagic >> 8) & 0xFF),
    static_cast<char>((kRecordMagic >> 16) & 0xFF),
};
constexpr std::string_view kMagicPrefix(kMagicPrefixBytes,
                                        sizeof(kMagicPrefixBytes));
static_assert((kRecordMagic & 0xFFFFFF) == (kLegacyRecordMagic & 0xFFFFFF));

// The rule for the records that belong to the segment being read. The
// record at offset 0, which the writer always writes first, decides: a
// legacy record makes the file a legacy one, and a stamped record with the
// segment's own sequence gives the nonce that every later record must
// repeat.
class SegmentIdentity {
 public:
  explicit SegmentIdentity(uint64_t sequence) : sequence_(sequence) {}

  // Learns the file's form from `first`, the header at offset 0. Learns
  // nothing when `first` is a record of another segment, because the file
  // was renamed to this segment before anything of it was written.
  void Learn(const FrameHeader& first) {
    if (first.legacy) {
      form_ = Form::kLegacy;
    } else if (first.stamp.sequence == sequence_) {
      form_ = Form::kStamped;
      stamp_ = first.stamp;
    }
  }

  // Returns true iff the record with `header` was written to this segment.
  // Nothing belongs before Learn() succeeds.
  bool Belongs(const FrameHeader& header) const {
    switch (form_) {
      case Form::kLegacy:
        return header.legacy;
      case Form::kStamped:
        return !header.legacy && header.stamp == stamp_;
      case Form::kUnknown:
        return false;
    }
    return false;
  }

  // Returns true iff bytes from an earlier use may follow the records.
  bool reused_file() const {
    return form_ == Form::kStamped && stamp_.reused_file;
  }

 private:
  enum class Form { kUnknown, kLegacy, kStamped };

  uint64_t sequence_;
  Form form_ = Form::kUnknown;
  SegmentStamp stamp_;
};

// Returns true iff a whole record of the segment that `identity` describes
// starts at the position of `reader`. May move the buffer but not the
// position.
absl::StatusOr<bool> RecordDecodesAt(BlockReader* reader,
                                     const SegmentIdentity& identity) {
  absl::StatusOr<std::string_view> bytes = reader->Peek(kFrameHeaderSize);
  if (!bytes.ok()) return bytes.status();
  const absl::StatusOr<FrameHeader> header = DecodeFrameHeader(*bytes);
  if (!header.ok() || !identity.Belongs(*header) ||
      header->framed_size() > reader->remaining()) {
    return false;
  }
  bytes = reader->Peek(header->framed_size());
  if (!bytes.ok()) return bytes.status();
  return DecodeRecord(*bytes).ok();
}

// Moves `reader` forward to the next offset where a whole record of the
// segment that `identity` describes decodes and returns true, or to the end
// of the file and returns false. Only offsets that start with a magic
// number are decoded.
// NOTE: when a frame header is damaged, the search runs through that
// record's own payload, so a copy of a record inside a message body would
// be taken for a real one if it repeated the segment's nonce, which
// senders cannot know. Only a damaged header starts a search, because a
// record with a valid header is skipped by its size.
absl::StatusOr<bool> FindNextRecord(BlockReader* reader,
                                    const SegmentIdentity& identity) {
  while (true) {
    absl::StatusOr<std::string_view> block = reader->PeekBlock();
    if (!block.ok()) return block.status();
    if (block->size() < kLegacyFrameHeaderSize) {
      reader->Advance(block->size());
      return false;
    }
    const size_t found = block->find(kMagicPrefix);
    if (found == std::string_view::npos) {
      // Keep the last bytes, which may hold the start of a magic number.
      reader->Advance(block->size() - (kMagicPrefix.size() - 1));
      continue;
    }
    reader->Advance(found);
    absl::StatusOr<bool> decodes = RecordDecodesAt(reader, identity);
    if (!decodes.ok()) return decodes.status();
    if (*decodes) return true;
    reader->Advance(1);
  }
}

// State of one directory scan: the messages read so far, indexed by queue
// ID so that later outcome records can find them.
class DirectoryScan {
 public:
  DirectoryScan(const RecoveryOptions& options, RecoveredSpool* result)
      : options_(options), result_(*result) {}

  // Reads segment `sequence` at `path`, skipping damaged records, and
  // appends it to the result's segments.
  absl::Status ScanSegment(uint64_t sequence, const std::string& path);

  // Drops the finished messages from the result and counts the live ones
  // per segment.
  void Finish();

 private:
  absl::Status ScanRecords(BlockReader* reader, RecoveredSegment* segment);
  absl::Status ReadRecord(BlockReader* reader, const FrameHeader& header,
                          RecoveredSegment* segment);
  absl::Status Resynchronize(BlockReader* reader, const absl::Status& error,
                             RecoveredSegment* segment);
  absl::Status SkipUnframedBytes(BlockReader* reader, uint64_t end,
                                 const absl::Status& error,
                                 RecoveredSegment* segment);
  SkippedRecord MakeSkipped(SkipReason reason, const absl::Status& error,
                            uint64_t offset, uint64_t length,
                            std::string_view bytes,
                            const RecoveredSegment& segment) const;
  void FlushPendingSkip();
  void EndAtEarlierUse(BlockReader* reader, RecoveredSegment* segment);
  void CutTornTail(BlockReader* reader, std::string detail,
                   RecoveredSegment* segment);
  absl::Status CutDamagedTail(BlockReader* reader, const absl::Status& error,
                              RecoveredSegment* segment);
  void AddCut(CutReason reason, std::string detail, uint64_t offset,
              RecoveredSegment* segment);
  void ApplyMessage(DecodedRecord* record, uint64_t sequence,
                    uint64_t record_offset);
  void ApplyOutcome(const Outcome& outcome);

  const RecoveryOptions& options_;
  RecoveredSpool& result_;
  // Messages are appended to result_.messages as they are read, and
  // open_recipients_[i] counts the recipients of message i not yet final.
  // Finish() drops the messages whose count reached zero.
  std::vector<size_t> open_recipients_;
  absl::flat_hash_map<std::string, size_t> live_index_;  // into messages
  // The last record read, when its payload was damaged. It is reported as
  // skipped once a record of the segment follows it. When the bytes left
  // from the file's earlier use follow instead, it was the end of an
  // interrupted write, so it becomes the segment's cut.
  std::optional<SkippedRecord> pending_skip_;
  // Which records belong to the segment being read.
  SegmentIdentity identity_{0};
};

absl::Status DirectoryScan::ScanSegment(uint64_t sequence,
                                        const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", path);
  FileCloser closer(fd);
  struct stat info;
  if (fstat(fd, &info) != 0) return ErrnoError(errno, "fstat", path);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  RecoveredSegment segment;
  segment.sequence = sequence;
  segment.path = path;
  segment.file_size = static_cast<uint64_t>(info.st_size);
  BlockReader reader(fd, path, segment.file_size, options_.read_block_size);
  identity_ = SegmentIdentity(sequence);
  absl::Status status = ScanRecords(&reader, &segment);
  FlushPendingSkip();
  if (!status.ok()) return status;
  result_.segments.push_back(std::move(segment));
  return absl::OkStatus();
}

absl::Status DirectoryScan::ScanRecords(BlockReader* reader,
                                        RecoveredSegment* segment) {
  while (true) {
    absl::StatusOr<std::string_view> bytes = reader->Peek(kFrameHeaderSize);
    if (!bytes.ok()) return bytes.status();
    if (bytes->empty()) return absl::OkStatus();
    const absl::StatusOr<FrameHeader> header = DecodeFrameHeader(*bytes);
    if (reader->offset() == 0) {
      // Only ferryd writes the first header, so its stamp is taken on
      // trust even when other bytes of it are damaged. The search below
      // then finds the records that repeat it.
      if (header.ok()) {
        identity_.Learn(*header);
      } else if (std::optional<FrameHeader> unchecked =
                     ParseFrameHeaderUnchecked(*bytes)) {
        identity_.Learn(*unchecked);
      }
    }
    if (header.ok() && !identity_.Belongs(*header)) {
      EndAtEarlierUse(reader, segment);
      return absl::OkStatus();
    }
    if (header.ok() || IsTruncated(header.status())) FlushPendingSkip();
    absl::Status status = absl::OkStatus();
    if (header.ok() && header->framed_size() <= reader->remaining()) {
      status = ReadRecord(reader, *header, segment);
    } else if (header.ok()) {
      // The header check vouches for the size, so the file ends inside
      // this record and the bytes after the header are its own payload.
      CutTornTail(reader,
                  absl::StrCat("spool record truncated: ", reader->remaining(),
                               " of ", header->framed_size(), " bytes present"),
                  segment);
    } else if (IsTruncated(header.status())) {
      CutTornTail(reader, std::string(header.status().message()), segment);
    } else {
      status = Resynchronize(reader, header.status(), segment);
    }
    if (!status.ok()) return status;
  }
}

// Applies the record that `header` starts, or skips it when its payload is
// damaged. REQUIRES: the whole record lies inside the file.
absl::Status DirectoryScan::ReadRecord(BlockReader* reader,
                                       const FrameHeader& header,
                                       RecoveredSegment* segment) {
  absl::StatusOr<std::string_view> bytes = reader->Peek(header.framed_size());
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<DecodedRecord> record = DecodeRecord(*bytes);
  if (IsTruncated(record.status())) {
    // The file shrank after fstat().
    CutTornTail(reader, std::string(record.status().message()), segment);
    return absl::OkStatus();
  }
  const uint64_t offset = reader->offset();
  if (!record.ok()) {
    pending_skip_ = MakeSkipped(SkipReason::kCorruptRecord, record.status(),
                                offset, bytes->size(), *bytes, *segment);
  } else if (record->type == RecordType::kMessage) {
    ApplyMessage(&*record, segment->sequence, offset);
  } else {
    ApplyOutcome(record->outcome);
  }
  reader->Advance(bytes->size());
  segment->valid_size = reader->offset();
  return absl::OkStatus();
}

// Handles a frame header that fails its checks: skips to the next record
// that decodes, or cuts the segment when none follows.
absl::Status DirectoryScan::Resynchronize(BlockReader* reader,
                                          const absl::Status& error,
                                          RecoveredSegment* segment) {
  const uint64_t start = reader->offset();
  reader->Advance(1);
  absl::StatusOr<bool> found = FindNextRecord(reader, identity_);
  if (!found.ok()) return found.status();
  const uint64_t end = reader->offset();
  reader->Seek(start);
  if (!*found && identity_.reused_file()) {
    EndAtEarlierUse(reader, segment);
    return absl::OkStatus();
  }
  FlushPendingSkip();
  if (!*found) return CutDamagedTail(reader, error, segment);
  return SkipUnframedBytes(reader, end, error, segment);
}

// Reports the bytes from the position to `end` as skipped and moves there.
absl::Status DirectoryScan::SkipUnframedBytes(BlockReader* reader, uint64_t end,
                                              const absl::Status& error,
                                              RecoveredSegment* segment) {
  const uint64_t start = reader->offset();
  const uint64_t length = end - start;
  std::string_view bytes;
  // Longer ranges cannot be one record, so they are not read to find out
  // which record they held.
  if (length <= kFrameHeaderSize + kMaxPayloadSize) {
    absl::StatusOr<std::string_view> peeked = reader->Peek(length);
    if (!peeked.ok()) return peeked.status();
    bytes = *peeked;
  }
  result_.skipped.push_back(MakeSkipped(SkipReason::kUnframedBytes, error,
                                        start, length, bytes, *segment));
  reader->Seek(end);
  segment->valid_size = end;
  return absl::OkStatus();
}

SkippedRecord DirectoryScan::MakeSkipped(
    SkipReason reason, const absl::Status& error, uint64_t offset,
    uint64_t length, std::string_view bytes,
    const RecoveredSegment& segment) const {
  SkippedRecord skipped;
  skipped.sequence = segment.sequence;
  skipped.path = segment.path;
  skipped.offset = offset;
  skipped.length = length;
  skipped.reason = reason;
  skipped.detail = std::string(error.message());
  if (absl::StatusOr<DecodedRecord> damaged = DecodeDamagedRecord(bytes);
      damaged.ok()) {
    skipped.type = damaged->type;
    skipped.queue_id = damaged->type == RecordType::kMessage
                           ? std::move(damaged->envelope.queue_id)
                           : std::move(damaged->outcome.queue_id);
  }
  return skipped;
}

void DirectoryScan::FlushPendingSkip() {
  if (!pending_skip_.has_value()) return;
  result_.skipped.push_back(*std::move(pending_skip_));
  pending_skip_.reset();
}

// Ends the segment at the position, where the bytes left from the file's
// earlier use begin: a record of another segment, or bytes that no record
// of this segment follows in a reused file. A damaged record just before
// the position is what an interrupted write leaves, and becomes the
// segment's cut. Moves to the end.
void DirectoryScan::EndAtEarlierUse(BlockReader* reader,
                                    RecoveredSegment* segment) {
  if (pending_skip_.has_value()) {
    AddCut(CutReason::kTornOverwrite, std::move(pending_skip_->detail),
           pending_skip_->offset, segment);
    pending_skip_.reset();
  }
  reader->SkipToEnd();
}

// Cuts the segment at the position, where a record runs past the end of
// the file, and moves to the end.
void DirectoryScan::CutTornTail(BlockReader* reader, std::string detail,
                                RecoveredSegment* segment) {
  AddCut(CutReason::kTornTail, std::move(detail), reader->offset(), segment);
  reader->SkipToEnd();
}

// Cuts the segment at the position, where damage starts that no record
// follows, and moves to the end.
absl::Status DirectoryScan::CutDamagedTail(BlockReader* reader,
                                           const absl::Status& error,
                                           RecoveredSegment* segment) {
  const uint64_t offset = reader->offset();
  absl::StatusOr<bool> zero_tail = reader->RestIsZero();
  if (!zero_tail.ok()) return zero_tail.status();
  AddCut(*zero_tail ? CutReason::kZeroFilledTail : CutReason::kCorruptTail,
         std::string(error.message()), offset, segment);
  return absl::OkStatus();
}

void DirectoryScan::AddCut(CutReason reason, std::string detail,
                           uint64_t offset, RecoveredSegment* segment) {
  SegmentCut cut;
  cut.sequence = segment->sequence;
  cut.path = segment->path;
  cut.offset = offset;
  cut.reason = reason;
  cut.detail = std::move(detail);
  segment->valid_size = offset;
  result_.cuts.push_back(std::move(cut));
}

void DirectoryScan::ApplyMessage(DecodedRecord* record, uint64_t sequence,
                                 uint64_t record_offset) {
  ++result_.stats.message_records;
  Envelope& envelope = record->envelope;
  if (envelope.recipients.empty()) return;  // nothing left to deliver
  const auto [slot, inserted] =
      live_index_.try_emplace(envelope.queue_id, open_recipients_.size());
  if (!inserted) {
    ++result_.stats.duplicate_messages;
    return;
  }
  open_recipients_.push_back(envelope.recipients.size());
  RecoveredMessage& message = result_.messages.emplace_back();
  message.recipients.resize(envelope.recipients.size());
  message.segment = sequence;
  message.body_offset = record_offset + record->body_offset;
  message.body_size = record->body_size;
  message.envelope = std::move(envelope);
}

void DirectoryScan::ApplyOutcome(const Outcome& outcome) {
  ++result_.stats.outcome_records;
  const auto slot = live_index_.find(outcome.queue_id);
  if (slot == live_index_.end()) {
    ++result_.stats.orphan_outcomes;
    return;
  }
  const size_t index = slot->second;
  RecoveredMessage& message = result_.messages[index];
  if (outcome.recipient_index >= message.recipients.size()) {
    ++result_.stats.bad_recipient_index;
    return;
  }
  RecoveredRecipient& recipient = message.recipients[outcome.recipient_index];
  // A final state is never undone, so a recipient is never delivered twice.
  if (recipient.final) return;
  recipient.has_outcome = true;
  recipient.last_state = outcome.state;
  recipient.attempts = outcome.attempts;
  recipient.last_attempt_unix_micros = outcome.time_unix_micros;
  recipient.next_attempt_unix_micros = outcome.next_attempt_unix_micros;
  recipient.next_hop = outcome.next_hop;
  recipient.last_reply = outcome.reply;
  if (!IsFinal(outcome.state)) return;
  recipient.final = true;
  if (--open_recipients_[index] == 0) {
    live_index_.erase(slot);
    message = RecoveredMessage();  // release the envelope now
  }
}

void DirectoryScan::Finish() {
  std::vector<RecoveredMessage>& messages = result_.messages;
  absl::flat_hash_map<uint64_t, size_t> live_per_segment;
  size_t live_count = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (open_recipients_[i] == 0) continue;
    ++live_per_segment[messages[i].segment];
    if (live_count != i) messages[live_count] = std::move(messages[i]);
    ++live_count;
  }
  messages.resize(live_count);
  for (RecoveredSegment& segment : result_.segments) {
    segment.live_messages = live_per_segment[segment.sequence];
  }
  open_recipients_.clear();
  live_index_.clear();
}

bool IsLowerHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Returns the sequence of a name made of 16 lower-case hex digits and
// `suffix`, or nullopt for any other name.
std::optional<uint64_t> ParseSequenceName(std::string_view name,
                                          std::string_view suffix) {
  if (name.size() != kSequenceDigits + suffix.size() ||
      name.substr(kSequenceDigits) != suffix) {
    return std::nullopt;
  }
  uint64_t sequence = 0;
  for (char c : name.substr(0, kSequenceDigits)) {
    if (!IsLowerHexDigit(c)) return std::nullopt;
    const uint64_t digit = c <= '9' ? c - '0' : c - 'a' + 10;
    sequence = (sequence << 4) | digit;
  }
  return sequence;
}

}  // namespace

std::string SegmentFileName(uint64_t sequence) {
  return absl::StrFormat("%016x%s", sequence, kSegmentSuffix);
}

std::string SpareFileName(uint64_t sequence) {
  return absl::StrFormat("%016x%s", sequence, kSpareSuffix);
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  return ParseSequenceName(name, kSegmentSuffix);
}

std::optional<uint64_t> ParseSpareFileName(std::string_view name) {
  return ParseSequenceName(name, kSpareSuffix);
}

std::string_view SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kCorruptRecord:
      return "corrupt_record";
    case SkipReason::kUnframedBytes:
      return "unframed_bytes";
  }
  return "unknown";
}

std::string_view CutReasonName(CutReason reason) {
  switch (reason) {
    case CutReason::kTornTail:
      return "torn_tail";
    case CutReason::kZeroFilledTail:
      return "zero_filled_tail";
    case CutReason::kCorruptTail:
      return "corrupt_tail";
    case CutReason::kTornOverwrite:
      return "torn_overwrite";
  }
  return "unknown";
}

absl::StatusOr<RecoveredSpool> RecoverDirectory(
    const std::string& dir, const RecoveryOptions& options) {
  RecoveredSpool result;
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> segments =
      ListSegments(dir, &result.spare_files, &result.ignored_files);
  if (!segments.ok()) return segments.status();
  DirectoryScan scan(options, &result);
  for (const auto& [sequence, name] : *segments) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (absl::Status status = scan.ScanSegment(sequence, path); !status.ok()) {
      return status;
    }
  }
  scan.Finish();
  return result;
}

}  // namespace ferry::spool
