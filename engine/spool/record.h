// Spool record format: how a message (envelope and body) and the outcome of
// one delivery attempt are framed in a segment file. Pure encoding and
// decoding with no I/O, so any thread may call these functions.
//
// A segment is a sequence of records. Each record is a 32-byte frame header
// followed by its payload:
//
//   offset  size  field
//   0       4     magic 0x33595246 (the bytes "FRY3" on disk)
//   4       1     record type (RecordType)
//   5       3     header check: the low 24 bits of the CRC-32C of the 32
//                 header bytes, computed with these three bytes zero
//   8       4     payload size in bytes
//   12      4     CRC-32C of the payload
//   16      8     segment field: bits 0-62 the sequence of the segment the
//                 record was written to, and bit 63 set when that segment
//                 was started in a reused file
//   24      8     segment nonce: a random number chosen when the segment
//                 was started, the same in all of its records
//
// The header check covers the size field. Recovery trusts the size of a
// header that passes it, so it can skip a record whose payload is damaged
// and tell a record cut short by an interrupted append from a damaged size.
//
// The segment field and nonce let a spent segment file be reused for a
// later segment without clearing it first. Recovery takes the nonce from
// the record at offset 0, which the writer always writes first, and counts
// only records with that sequence and nonce. The bytes left from the
// file's earlier use, message bodies included, cannot pass for records of
// the new segment, because senders cannot guess the nonce. Bit 63 marks a
// segment whose last record such bytes may follow. Encoding
// leaves both fields zero. The spool writer stamps each record with
// StampSegment() when it places the record in a segment.
//
// Records written before the segment field existed have a 16-byte header
// with the magic 0x31595246 ("FRY1") and no segment field. They are still
// decoded, with `legacy` set and a zero stamp, and are never written.
//
// Integers are little-endian. Strings are a varint (LEB128) length and then
// the bytes. A message payload is the envelope, then `body_size` as a fixed
// 64-bit integer, then the body itself, so the body is the tail of the
// record and can be sent straight from the file.
#ifndef FERRY_ENGINE_SPOOL_RECORD_H_
#define FERRY_ENGINE_SPOOL_RECORD_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ferry::spool {

inline constexpr uint32_t kRecordMagic = 0x33595246;
inline constexpr size_t kFrameHeaderSize = 32;
// The header of records written before the segment field existed.
inline constexpr uint32_t kLegacyRecordMagic = 0x31595246;
inline constexpr size_t kLegacyFrameHeaderSize = 16;

// Largest payload (envelope plus body) a record may carry. Decoding treats a
// larger size field as corruption rather than as a record still being
// written, and EncodeMessagePrefix() rejects larger messages, so the
// configured maximum message size must stay below this.
inline constexpr uint32_t kMaxPayloadSize = 1u << 30;

enum class RecordType : uint8_t {
  kMessage = 1,  // envelope and body of one accepted message
  kOutcome = 2,  // result of one delivery attempt to one recipient
};

// One recipient (forward-path) with its RFC 3461 DSN parameters as the
// client sent them. A parameter the client did not send is empty.
struct SpooledRecipient {
  std::string address;
  std::string orcpt;
  std::string notify;

  friend bool operator==(const SpooledRecipient&,
                         const SpooledRecipient&) = default;
};

// Everything known about a message apart from its body.
struct Envelope {
  std::string queue_id;
  int64_t arrival_unix_micros = 0;
  std::string client_ip;
  std::string helo;
  std::string sender;  // reverse-path without angle brackets
  bool null_sender = false;
  bool body_8bitmime = false;
  bool smtputf8 = false;
  std::string envid;  // RFC 3461 ENVID
  std::string ret;    // RFC 3461 RET: "FULL", "HDRS" or empty
  std::vector<SpooledRecipient> recipients;
  std::string received_header;  // prepended to the body when sending

  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// Result of one delivery attempt to one recipient of a spooled message, or
// an operator's action on it (hold, release, delete). The latest record
// for a recipient decides its state after a restart.
struct Outcome {
  enum State : uint8_t {
    kDelivered = 1,  // final: the next hop accepted the message
    kBounced = 2,    // final: permanent failure, a DSN went to the sender
    kDeferred = 3,   // not final: retry at next_attempt_unix_micros
    kExpired = 4,    // final: the queue lifetime ran out, a DSN went out
    kHeld = 5,       // not final: held by an operator, no attempts
    kDeleted = 6,    // final: deleted by an operator, no DSN
  };

  std::string queue_id;
  uint32_t recipient_index = 0;  // index into Envelope::recipients
  State state = kDeferred;
  uint32_t attempts = 0;  // delivery attempts so far, this one included
  int64_t time_unix_micros = 0;
  int64_t next_attempt_unix_micros = 0;  // meaningful for kDeferred only
  std::string next_hop;                  // "host:port" that was tried
  // The next hop's reply or the local error. Records of an operator's
  // action repeat the recipient's last reply, or describe the action.
  std::string reply;

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

// Returns true iff no further delivery attempt follows `state`.
bool IsFinal(Outcome::State state);

// Returns "delivered", "bounced", "deferred", "expired", "held" or
// "deleted", and "unknown" for a value outside the enum.
std::string_view StateName(Outcome::State state);

// Returns the frame header and envelope of a message record whose body is
// the concatenation of `body`. The CRC covers the envelope and the body
// iovecs, so writing the returned string and then `body` (one writev) gives
// a complete record. The body is read for the CRC but never copied.
// Returns InvalidArgument when envelope and body exceed kMaxPayloadSize.
absl::StatusOr<std::string> EncodeMessagePrefix(const Envelope& envelope,
                                                const std::vector<iovec>& body);

// Returns a complete outcome record.
// REQUIRES: the encoded outcome is at most kMaxPayloadSize bytes.
std::string EncodeOutcome(const Outcome& outcome);

// The segment a record was written to, as its frame header names it.
struct SegmentStamp {
  uint64_t sequence = 0;  // below 2^63
  uint64_t nonce = 0;
  bool reused_file = false;  // the segment was started in a reused file

  friend bool operator==(const SegmentStamp&, const SegmentStamp&) = default;
};

// Writes `stamp` into the frame header at `header` and updates its header
// check. The payload CRC does not cover the stamp, so the payload need not
// be read again.
// REQUIRES: `header` points at the kFrameHeaderSize bytes of a frame header
// that EncodeMessagePrefix() or EncodeOutcome() returned.
void StampSegment(const SegmentStamp& stamp, char* header);

struct FrameHeader {
  RecordType type = RecordType::kMessage;
  uint32_t payload_size = 0;
  uint32_t crc = 0;
  SegmentStamp stamp;    // zero in a legacy header
  bool legacy = false;   // a 16-byte header without the stamp

  size_t header_size() const {
    return legacy ? kLegacyFrameHeaderSize : kFrameHeaderSize;
  }
  size_t framed_size() const { return header_size() + payload_size; }
};

// Checks and parses the frame header at the start of `buf`, without looking
// at the payload. Accepts both header forms. Returns DataLoss when the
// bytes present cannot start a record: bad magic, unknown type, a payload
// size above kMaxPayloadSize, or a header check that does not match.
// Returns a truncation error (see IsTruncated) when `buf` is shorter than
// the header but is a valid start of one. A short buffer cannot be checked
// against the header check.
absl::StatusOr<FrameHeader> DecodeFrameHeader(std::string_view buf);

// Reads the fields of the frame header at the start of `buf` without
// checking any of them, taking the legacy form only when the legacy magic
// is whole. Returns nullopt when `buf` is shorter than that form's header.
// Meant for a header that DecodeFrameHeader() rejected but whose stamp may
// still be intact.
std::optional<FrameHeader> ParseFrameHeaderUnchecked(std::string_view buf);

struct DecodedRecord {
  RecordType type = RecordType::kMessage;
  size_t framed_size = 0;  // header and payload: where the next record starts
  SegmentStamp stamp;      // zero when legacy
  bool legacy = false;
  Envelope envelope;       // set when type == kMessage
  Outcome outcome;         // set when type == kOutcome
  size_t body_offset = 0;  // from the start of the record; kMessage only
  uint64_t body_size = 0;  // kMessage only
};

// Decodes the record at the start of `buf` and ignores the bytes after it.
// Returns DataLoss for a bad frame header, a CRC mismatch or a payload that
// does not parse. Returns a truncation error when `buf` ends inside a record
// that is valid so far, as after a torn write at the end of a segment.
// Reads only inside `buf`, and allocates at most in proportion to the
// payload size.
absl::StatusOr<DecodedRecord> DecodeRecord(std::string_view buf);

// Parses `buf` as one damaged record to find out what it contained: takes
// the type from byte 4 and everything after the frame header as the
// payload, with a legacy header when the magic is the legacy one. Checks
// neither the magic, the header check, the size field nor the CRC, so every
// field it returns is unverified and may itself be damaged. Returns DataLoss
// when the type is unknown or the payload does not parse. Meant for reports on
// records that DecodeRecord() rejected.
absl::StatusOr<DecodedRecord> DecodeDamagedRecord(std::string_view buf);

// Returns "message", "outcome", or "unknown" for a value outside the enum.
std::string_view RecordTypeName(RecordType type);

// Returns true iff `status` is the truncation error of DecodeFrameHeader()
// or DecodeRecord(). Its code is OutOfRange, which no other error here uses.
bool IsTruncated(const absl::Status& status);

}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_RECORD_H_
