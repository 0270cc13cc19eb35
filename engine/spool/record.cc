#include "engine/spool/record.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/spool/crc32c.h"

namespace ferry::spool {
namespace {

// Bits of the envelope flags byte.
constexpr uint8_t kFlagNullSender = 1 << 0;
constexpr uint8_t kFlag8BitMime = 1 << 1;
constexpr uint8_t kFlagSmtpUtf8 = 1 << 2;
constexpr uint8_t kKnownFlags = kFlagNullSender | kFlag8BitMime | kFlagSmtpUtf8;

// Smallest encoded recipient: three empty strings, one length byte each.
constexpr size_t kMinRecipientSize = 3;

// Frame header field offsets.
constexpr size_t kTypeOffset = 4;
constexpr size_t kCheckOffset = 5;
constexpr size_t kCheckSize = 3;
constexpr uint32_t kCheckMask = (1u << (8 * kCheckSize)) - 1;
constexpr size_t kSizeOffset = 8;
constexpr size_t kCrcOffset = 12;
constexpr size_t kSegmentOffset = 16;
constexpr size_t kNonceOffset = 24;
constexpr uint64_t kReusedFileBit = uint64_t{1} << 63;
// The magic numbers differ only in their last byte on disk.
constexpr size_t kMagicSize = 4;
constexpr char kLegacyMagicLastByte =
    static_cast<char>(kLegacyRecordMagic >> 24);

void PutFixed32(std::string* out, uint32_t value) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  out->append(bytes, sizeof(bytes));
}

void PutFixed64(std::string* out, uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  out->append(bytes, sizeof(bytes));
}

void PutVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

uint32_t GetFixed32(const char* p) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = (value << 8) | static_cast<uint8_t>(p[i]);
  }
  return value;
}

uint64_t GetFixed64(const char* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) {
    value = (value << 8) | static_cast<uint8_t>(p[i]);
  }
  return value;
}

// Returns the header check of the `size` header bytes at `header`.
uint32_t HeaderCheck(const char* header, size_t size) {
  char zeroed[kFrameHeaderSize];
  std::memcpy(zeroed, header, size);
  std::memset(zeroed + kCheckOffset, 0, kCheckSize);
  return Crc32c(0, zeroed, size) & kCheckMask;
}

void PutCheck(uint32_t check, char* header) {
  for (size_t i = 0; i < kCheckSize; ++i) {
    header[kCheckOffset + i] = static_cast<char>(check >> (8 * i));
  }
}

// Returns the stamp in the kFrameHeaderSize bytes at `header`.
SegmentStamp GetStamp(const char* header) {
  const uint64_t field = GetFixed64(header + kSegmentOffset);
  SegmentStamp stamp;
  stamp.sequence = field & ~kReusedFileBit;
  stamp.reused_file = (field & kReusedFileBit) != 0;
  stamp.nonce = GetFixed64(header + kNonceOffset);
  return stamp;
}

// Returns true iff `header`, of which at least kMagicSize bytes are known,
// starts with the legacy magic number.
bool IsLegacyMagic(const char* header) {
  return header[kMagicSize - 1] == kLegacyMagicLastByte;
}

uint32_t GetCheck(const char* header) {
  uint32_t value = 0;
  for (int i = kCheckSize - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<uint8_t>(header[kCheckOffset + i]);
  }
  return value;
}

// Writes the frame header over the first kFrameHeaderSize bytes of `out`.
void FillFrameHeader(RecordType type, uint32_t payload_size, uint32_t crc,
                     std::string* out) {
  std::string header;
  PutFixed32(&header, kRecordMagic);
  header.push_back(static_cast<char>(type));
  header.append(kCheckSize, '\0');
  PutFixed32(&header, payload_size);
  PutFixed32(&header, crc);
  // The segment field and the nonce, which the writer stamps.
  PutFixed64(&header, 0);
  PutFixed64(&header, 0);
  PutCheck(HeaderCheck(header.data(), kFrameHeaderSize), header.data());
  out->replace(0, kFrameHeaderSize, header);
}

bool IsKnownType(uint8_t type) {
  return type == static_cast<uint8_t>(RecordType::kMessage) ||
         type == static_cast<uint8_t>(RecordType::kOutcome);
}

absl::Status Truncated(size_t present, size_t needed) {
  return absl::OutOfRangeError(absl::StrCat("spool record truncated: ", present,
                                            " of ", needed, " bytes present"));
}

// Cursor over a payload. Each read returns false once any read has failed,
// and status() names the first field that ran past the end or was invalid.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view data) : data_(data) {}

  bool U8(const char* field, uint8_t* out) {
    if (!Need(field, 1)) return false;
    *out = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  bool Fixed32(const char* field, uint32_t* out) {
    if (!Need(field, 4)) return false;
    *out = GetFixed32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }

  bool Fixed64(const char* field, uint64_t* out) {
    if (!Need(field, 8)) return false;
    *out = GetFixed64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }

  bool Int64(const char* field, int64_t* out) {
    uint64_t bits;
    if (!Fixed64(field, &bits)) return false;
    *out = static_cast<int64_t>(bits);
    return true;
  }

  bool Varint(const char* field, uint64_t* out);

  bool String(const char* field, std::string* out) {
    uint64_t size;
    if (!Varint(field, &size)) return false;
    if (size > remaining()) return Fail(field);
    out->assign(data_.data() + pos_, size);
    pos_ += size;
    return true;
  }

  // Marks `field` as invalid and returns false.
  bool Fail(const char* field) {
    if (failed_field_ == nullptr) failed_field_ = field;
    return false;
  }

  bool ok() const { return failed_field_ == nullptr; }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  // Returns OK, or DataLoss naming the record kind and the failed field.
  absl::Status status(const char* record_kind) const {
    if (ok()) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat("spool ", record_kind,
                                            " record: invalid or truncated ",
                                            failed_field_));
  }

 private:
  bool Need(const char* field, size_t n) {
    if (!ok()) return false;
    if (remaining() < n) return Fail(field);
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  const char* failed_field_ = nullptr;
};

bool PayloadReader::Varint(const char* field, uint64_t* out) {
  if (!ok()) return false;
  uint64_t value = 0;
  // A 64-bit varint has at most ten bytes, the tenth holding one bit.
  for (int shift = 0; shift < 64; shift += 7) {
    if (remaining() == 0) return Fail(field);
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && byte > 1) return Fail(field);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *out = value;
      return true;
    }
  }
  return Fail(field);
}

uint8_t EnvelopeFlags(const Envelope& envelope) {
  uint8_t flags = 0;
  if (envelope.null_sender) flags |= kFlagNullSender;
  if (envelope.body_8bitmime) flags |= kFlag8BitMime;
  if (envelope.smtputf8) flags |= kFlagSmtpUtf8;
  return flags;
}

void PutEnvelope(const Envelope& envelope, std::string* out) {
  PutString(out, envelope.queue_id);
  PutFixed64(out, static_cast<uint64_t>(envelope.arrival_unix_micros));
  out->push_back(static_cast<char>(EnvelopeFlags(envelope)));
  PutString(out, envelope.client_ip);
  PutString(out, envelope.helo);
  PutString(out, envelope.sender);
  PutString(out, envelope.envid);
  PutString(out, envelope.ret);
  PutVarint(out, envelope.recipients.size());
  for (const SpooledRecipient& recipient : envelope.recipients) {
    PutString(out, recipient.address);
    PutString(out, recipient.orcpt);
    PutString(out, recipient.notify);
  }
  PutString(out, envelope.received_header);
}

bool ReadFlags(PayloadReader* reader, Envelope* envelope) {
  uint8_t flags;
  if (!reader->U8("flags", &flags)) return false;
  if ((flags & ~kKnownFlags) != 0) return reader->Fail("flags");
  envelope->null_sender = (flags & kFlagNullSender) != 0;
  envelope->body_8bitmime = (flags & kFlag8BitMime) != 0;
  envelope->smtputf8 = (flags & kFlagSmtpUtf8) != 0;
  return true;
}

bool ReadRecipients(PayloadReader* reader, Envelope* envelope) {
  uint64_t count;
  if (!reader->Varint("recipient count", &count)) return false;
  // Each recipient takes at least kMinRecipientSize bytes, so a count that
  // cannot fit is corruption, and the reserve below stays bounded.
  if (count > reader->remaining() / kMinRecipientSize) {
    return reader->Fail("recipient count");
  }
  envelope->recipients.resize(count);
  for (SpooledRecipient& recipient : envelope->recipients) {
    reader->String("recipient address", &recipient.address);
    reader->String("recipient ORCPT", &recipient.orcpt);
    reader->String("recipient NOTIFY", &recipient.notify);
  }
  return reader->ok();
}

using HeaderBytes = std::array<char, kFrameHeaderSize>;

// Returns DataLoss when a header field within the first `present` bytes is
// invalid. The bytes after `present` are zero, which the magic and type
// checks skip and the size check accepts, so that a short buffer counts as
// truncated only when what it contains could start a valid record. The
// header check needs every byte, so a short buffer skips it.
absl::Status CheckHeaderFields(const HeaderBytes& bytes, size_t present,
                               size_t header_size) {
  const uint32_t magic =
      header_size == kLegacyFrameHeaderSize ? kLegacyRecordMagic : kRecordMagic;
  for (size_t i = 0; i < std::min<size_t>(present, kMagicSize); ++i) {
    if (static_cast<uint8_t>(bytes[i]) != ((magic >> (8 * i)) & 0xFF)) {
      return absl::DataLossError("spool record: bad magic");
    }
  }
  const auto type = static_cast<uint8_t>(bytes[kTypeOffset]);
  if (present > kTypeOffset && !IsKnownType(type)) {
    return absl::DataLossError(
        absl::StrCat("spool record: unknown record type ", type));
  }
  if (present >= header_size &&
      GetCheck(bytes.data()) != HeaderCheck(bytes.data(), header_size)) {
    return absl::DataLossError("spool record: header check mismatch");
  }
  const uint32_t payload_size = GetFixed32(bytes.data() + kSizeOffset);
  if (payload_size > kMaxPayloadSize) {
    return absl::DataLossError(
        absl::StrCat("spool record: payload size ", payload_size,
                     " exceeds the maximum ", kMaxPayloadSize));
  }
  return absl::OkStatus();
}

absl::Status DecodeMessagePayload(std::string_view payload, size_t header_size,
                                  DecodedRecord* record) {
  Envelope& envelope = record->envelope;
  PayloadReader reader(payload);
  reader.String("queue ID", &envelope.queue_id);
  reader.Int64("arrival time", &envelope.arrival_unix_micros);
  ReadFlags(&reader, &envelope);
  reader.String("client IP", &envelope.client_ip);
  reader.String("HELO", &envelope.helo);
  reader.String("sender", &envelope.sender);
  reader.String("ENVID", &envelope.envid);
  reader.String("RET", &envelope.ret);
  ReadRecipients(&reader, &envelope);
  reader.String("Received header", &envelope.received_header);
  uint64_t body_size = 0;
  if (reader.Fixed64("body size", &body_size) &&
      body_size != reader.remaining()) {
    reader.Fail("body size");
  }
  if (!reader.ok()) return reader.status("message");
  record->body_offset = header_size + reader.position();
  record->body_size = body_size;
  return absl::OkStatus();
}

absl::Status DecodeOutcomePayload(std::string_view payload,
                                  DecodedRecord* record) {
  Outcome& outcome = record->outcome;
  PayloadReader reader(payload);
  reader.String("queue ID", &outcome.queue_id);
  reader.Fixed32("recipient index", &outcome.recipient_index);
  uint8_t state = 0;
  if (reader.U8("state", &state) &&
      (state < Outcome::kDelivered || state > Outcome::kDeleted)) {
    reader.Fail("state");
  }
  outcome.state = static_cast<Outcome::State>(state);
  reader.Fixed32("attempts", &outcome.attempts);
  reader.Int64("attempt time", &outcome.time_unix_micros);
  reader.Int64("next attempt time", &outcome.next_attempt_unix_micros);
  reader.String("next hop", &outcome.next_hop);
  reader.String("reply", &outcome.reply);
  if (reader.ok() && reader.remaining() != 0) reader.Fail("record end");
  return reader.status("outcome");
}

// Decodes `payload` as the payload of a record of `type` into `record`.
absl::Status DecodePayload(RecordType type, std::string_view payload,
                           size_t header_size, DecodedRecord* record) {
  return type == RecordType::kMessage
             ? DecodeMessagePayload(payload, header_size, record)
             : DecodeOutcomePayload(payload, record);
}

}  // namespace

bool IsFinal(Outcome::State state) {
  return state == Outcome::kDelivered || state == Outcome::kBounced ||
         state == Outcome::kExpired || state == Outcome::kDeleted;
}

std::string_view StateName(Outcome::State state) {
  switch (state) {
    case Outcome::kDelivered:
      return "delivered";
    case Outcome::kBounced:
      return "bounced";
    case Outcome::kDeferred:
      return "deferred";
    case Outcome::kExpired:
      return "expired";
    case Outcome::kHeld:
      return "held";
    case Outcome::kDeleted:
      return "deleted";
  }
  return "unknown";
}

absl::StatusOr<std::string> EncodeMessagePrefix(
    const Envelope& envelope, const std::vector<iovec>& body) {
  uint64_t body_size = 0;
  for (const iovec& part : body) body_size += part.iov_len;
  std::string out(kFrameHeaderSize, '\0');
  PutEnvelope(envelope, &out);
  PutFixed64(&out, body_size);
  const uint64_t payload_size = out.size() - kFrameHeaderSize + body_size;
  if (payload_size > kMaxPayloadSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("message ", envelope.queue_id, " is ", payload_size,
                     " bytes with its envelope; a spool record holds at most ",
                     kMaxPayloadSize));
  }
  uint32_t crc =
      Crc32c(0, out.data() + kFrameHeaderSize, out.size() - kFrameHeaderSize);
  for (const iovec& part : body) crc = Crc32c(crc, part.iov_base, part.iov_len);
  FillFrameHeader(RecordType::kMessage, static_cast<uint32_t>(payload_size),
                  crc, &out);
  return out;
}

std::string EncodeOutcome(const Outcome& outcome) {
  std::string out(kFrameHeaderSize, '\0');
  PutString(&out, outcome.queue_id);
  PutFixed32(&out, outcome.recipient_index);
  out.push_back(static_cast<char>(outcome.state));
  PutFixed32(&out, outcome.attempts);
  PutFixed64(&out, static_cast<uint64_t>(outcome.time_unix_micros));
  PutFixed64(&out, static_cast<uint64_t>(outcome.next_attempt_unix_micros));
  PutString(&out, outcome.next_hop);
  PutString(&out, outcome.reply);
  const size_t payload_size = out.size() - kFrameHeaderSize;
  const uint32_t crc = Crc32c(0, out.data() + kFrameHeaderSize, payload_size);
  FillFrameHeader(RecordType::kOutcome, static_cast<uint32_t>(payload_size),
                  crc, &out);
  return out;
}

void StampSegment(const SegmentStamp& stamp, char* header) {
  const uint64_t field =
      stamp.sequence | (stamp.reused_file ? kReusedFileBit : 0);
  for (size_t i = 0; i < 8; ++i) {
    header[kSegmentOffset + i] = static_cast<char>(field >> (8 * i));
    header[kNonceOffset + i] = static_cast<char>(stamp.nonce >> (8 * i));
  }
  PutCheck(HeaderCheck(header, kFrameHeaderSize), header);
}

absl::StatusOr<FrameHeader> DecodeFrameHeader(std::string_view buf) {
  HeaderBytes bytes{};
  const size_t present = buf.copy(bytes.data(), kFrameHeaderSize);
  FrameHeader header;
  header.legacy = present >= kMagicSize && IsLegacyMagic(bytes.data());
  if (header.legacy) {
    // The rest of the buffer belongs to the payload.
    std::fill(bytes.begin() + kLegacyFrameHeaderSize, bytes.end(), '\0');
  }
  const size_t header_size = header.header_size();
  if (absl::Status status =
          CheckHeaderFields(bytes, std::min(present, header_size), header_size);
      !status.ok()) {
    return status;
  }
  if (present < header_size) return Truncated(present, header_size);

  header.type = static_cast<RecordType>(bytes[kTypeOffset]);
  header.payload_size = GetFixed32(bytes.data() + kSizeOffset);
  header.crc = GetFixed32(bytes.data() + kCrcOffset);
  if (!header.legacy) header.stamp = GetStamp(bytes.data());
  return header;
}

std::optional<FrameHeader> ParseFrameHeaderUnchecked(std::string_view buf) {
  FrameHeader header;
  header.legacy =
      buf.size() >= kMagicSize && GetFixed32(buf.data()) == kLegacyRecordMagic;
  if (buf.size() < header.header_size()) return std::nullopt;
  header.type = static_cast<RecordType>(buf[kTypeOffset]);
  header.payload_size = GetFixed32(buf.data() + kSizeOffset);
  header.crc = GetFixed32(buf.data() + kCrcOffset);
  if (!header.legacy) header.stamp = GetStamp(buf.data());
  return header;
}

absl::StatusOr<DecodedRecord> DecodeRecord(std::string_view buf) {
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(buf);
  if (!header.ok()) return header.status();
  if (buf.size() < header->framed_size()) {
    return Truncated(buf.size(), header->framed_size());
  }
  const std::string_view payload =
      buf.substr(header->header_size(), header->payload_size);
  const uint32_t crc = Crc32c(0, payload.data(), payload.size());
  if (crc != header->crc) {
    return absl::DataLossError(absl::StrCat("spool record: CRC mismatch over ",
                                            payload.size(), " payload bytes"));
  }
  DecodedRecord record;
  record.type = header->type;
  record.framed_size = header->framed_size();
  record.stamp = header->stamp;
  record.legacy = header->legacy;
  const absl::Status status =
      DecodePayload(record.type, payload, header->header_size(), &record);
  if (!status.ok()) return status;
  return record;
}

absl::StatusOr<DecodedRecord> DecodeDamagedRecord(std::string_view buf) {
  const size_t header_size =
      buf.size() >= kMagicSize && IsLegacyMagic(buf.data())
          ? kLegacyFrameHeaderSize
          : kFrameHeaderSize;
  if (buf.size() < header_size) {
    return absl::DataLossError(absl::StrCat(
        "spool record: ", buf.size(), " bytes, shorter than a frame header"));
  }
  const auto type = static_cast<uint8_t>(buf[kTypeOffset]);
  if (!IsKnownType(type)) {
    return absl::DataLossError(
        absl::StrCat("spool record: unknown record type ", type));
  }
  DecodedRecord record;
  record.type = static_cast<RecordType>(type);
  record.framed_size = buf.size();
  record.legacy = header_size == kLegacyFrameHeaderSize;
  if (!record.legacy) record.stamp = GetStamp(buf.data());
  const absl::Status status =
      DecodePayload(record.type, buf.substr(header_size), header_size, &record);
  if (!status.ok()) return status;
  return record;
}

std::string_view RecordTypeName(RecordType type) {
  switch (type) {
    case RecordType::kMessage:
      return "message";
    case RecordType::kOutcome:
      return "outcome";
  }
  return "unknown";
}

bool IsTruncated(const absl::Status& status) {
  return absl::IsOutOfRange(status);
}

}  // namespace ferry::spool
