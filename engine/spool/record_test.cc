#include "engine/spool/record.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/spool/crc32c.h"
#include "engine/spool/legacy_record_testing.h"
#include "gtest/gtest.h"

namespace ferry::spool {
namespace {

Envelope SampleEnvelope() {
  Envelope envelope;
  envelope.queue_id = "0KZ3M7Q2W1A00";
  envelope.arrival_unix_micros = 1733325296123456;
  envelope.client_ip = "192.0.2.17";
  envelope.helo = "mta.example.org";
  envelope.sender = "alice@example.org";
  envelope.body_8bitmime = true;
  envelope.envid = "QQ314159";
  envelope.ret = "HDRS";
  envelope.recipients = {
      {"bob@customer.example", "rfc822;bob@customer.example",
       "SUCCESS,FAILURE"},
      {"carol@customer.example", "", ""},
  };
  envelope.received_header =
      "Received: from mta.example.org ([192.0.2.17])\r\n"
      "\tby mx.ferry.example with ESMTP id 0KZ3M7Q2W1A00\r\n";
  return envelope;
}

Outcome SampleOutcome() {
  Outcome outcome;
  outcome.queue_id = "0KZ3M7Q2W1A00";
  outcome.recipient_index = 1;
  outcome.state = Outcome::kDeferred;
  outcome.attempts = 3;
  outcome.time_unix_micros = 1733325396000000;
  outcome.next_attempt_unix_micros = 1733326296000000;
  outcome.next_hop = "mail.customer.example:2525";
  outcome.reply = "451 4.3.0 try again later";
  return outcome;
}

std::vector<iovec> IovecsOf(std::vector<std::string>& parts) {
  std::vector<iovec> out;
  for (std::string& part : parts) out.push_back({part.data(), part.size()});
  return out;
}

// Returns a whole message record: prefix and body.
std::string EncodeMessage(const Envelope& envelope, std::string body) {
  std::vector<std::string> parts = {body};
  absl::StatusOr<std::string> prefix =
      EncodeMessagePrefix(envelope, IovecsOf(parts));
  EXPECT_TRUE(prefix.ok()) << prefix.status();
  return *prefix + body;
}

void PutLittleEndian32(uint32_t value, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

// Returns the header check stored in bytes 5 to 7 of `header`.
uint32_t StoredCheck(std::string_view header) {
  return static_cast<uint8_t>(header[5]) |
         static_cast<uint8_t>(header[6]) << 8 |
         static_cast<uint8_t>(header[7]) << 16;
}

// Returns the header check that `header` should have: the low 24 bits of
// the CRC-32C of its first 16 bytes with bytes 5 to 7 taken as zero.
uint32_t ExpectedCheck(std::string_view header) {
  std::string zeroed(header.substr(0, kFrameHeaderSize));
  zeroed.replace(5, 3, 3, '\0');
  return Crc32c(0, zeroed.data(), zeroed.size()) & 0xFFFFFF;
}

// Rewrites the header check of the full frame header at the start of
// `record` to match the other header fields.
void SetHeaderCheck(std::string* record) {
  const uint32_t check = ExpectedCheck(*record);
  for (int i = 0; i < 3; ++i) {
    (*record)[5 + i] = static_cast<char>(check >> (8 * i));
  }
}

// Rewrites the size, CRC and header check of `record` to match its payload,
// so that tests can reach the payload parser with hand-made payloads.
void Reframe(std::string* record) {
  const size_t payload_size = record->size() - kFrameHeaderSize;
  PutLittleEndian32(static_cast<uint32_t>(payload_size), record->data() + 8);
  PutLittleEndian32(Crc32c(0, record->data() + kFrameHeaderSize, payload_size),
                    record->data() + 12);
  SetHeaderCheck(record);
}

TEST(RecordTest, MessageRoundTrip) {
  const Envelope envelope = SampleEnvelope();
  const std::string body = "Subject: hi\r\n\r\nHello.\r\n";
  const std::string record = EncodeMessage(envelope, body);
  absl::StatusOr<DecodedRecord> decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->type, RecordType::kMessage);
  EXPECT_EQ(decoded->framed_size, record.size());
  EXPECT_EQ(decoded->envelope, envelope);
  EXPECT_EQ(decoded->body_size, body.size());
  EXPECT_EQ(decoded->body_offset + decoded->body_size, record.size());
  EXPECT_EQ(record.substr(decoded->body_offset), body);
}

TEST(RecordTest, MessageFlagsRoundTrip) {
  Envelope envelope = SampleEnvelope();
  envelope.null_sender = true;
  envelope.sender.clear();
  envelope.body_8bitmime = false;
  envelope.smtputf8 = true;
  absl::StatusOr<DecodedRecord> decoded =
      DecodeRecord(EncodeMessage(envelope, "x\r\n"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->envelope.null_sender);
  EXPECT_FALSE(decoded->envelope.body_8bitmime);
  EXPECT_TRUE(decoded->envelope.smtputf8);
}

TEST(RecordTest, PrefixCrcCoversEveryBodyIovec) {
  std::vector<std::string> parts = {"first chunk\r\n", "", "second chunk\r\n",
                                    std::string(70000, 'z')};
  absl::StatusOr<std::string> prefix =
      EncodeMessagePrefix(SampleEnvelope(), IovecsOf(parts));
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  std::string record = *prefix;
  for (const std::string& part : parts) record += part;
  absl::StatusOr<DecodedRecord> decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->body_offset, prefix->size());
  EXPECT_EQ(decoded->body_size, record.size() - prefix->size());
}

TEST(RecordTest, EmptyBodyAndNoRecipients) {
  Envelope envelope;
  envelope.queue_id = "A";
  absl::StatusOr<DecodedRecord> decoded =
      DecodeRecord(EncodeMessage(envelope, ""));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->envelope, envelope);
  EXPECT_EQ(decoded->body_size, 0u);
}

TEST(RecordTest, OutcomeRoundTripEveryState) {
  for (Outcome::State state :
       {Outcome::kDelivered, Outcome::kBounced, Outcome::kDeferred,
        Outcome::kExpired, Outcome::kHeld, Outcome::kDeleted}) {
    Outcome outcome = SampleOutcome();
    outcome.state = state;
    const std::string record = EncodeOutcome(outcome);
    absl::StatusOr<DecodedRecord> decoded = DecodeRecord(record);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->type, RecordType::kOutcome) << StateName(state);
    EXPECT_EQ(decoded->framed_size, record.size()) << StateName(state);
    EXPECT_EQ(decoded->outcome, outcome) << StateName(state);
  }
}

TEST(RecordTest, FrameHeaderLayout) {
  const std::string record = EncodeOutcome(SampleOutcome());
  EXPECT_EQ(record.substr(0, 4), "FRY3");
  EXPECT_EQ(record.substr(16, 16), std::string(16, '\0'));  // not stamped
  EXPECT_EQ(record[4], static_cast<char>(RecordType::kOutcome));
  EXPECT_EQ(StoredCheck(record), ExpectedCheck(record));
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(record);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->framed_size(), record.size());
  EXPECT_EQ(header->crc, Crc32c(0, record.data() + kFrameHeaderSize,
                                record.size() - kFrameHeaderSize));
}

TEST(RecordTest, IgnoresBytesAfterRecord) {
  const std::string first = EncodeOutcome(SampleOutcome());
  const std::string both = first + EncodeMessage(SampleEnvelope(), "b\r\n");
  absl::StatusOr<DecodedRecord> decoded = DecodeRecord(both);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->framed_size, first.size());
}

TEST(RecordTest, EveryTruncationIsTruncated) {
  for (const std::string& record :
       {EncodeMessage(SampleEnvelope(), "Subject: x\r\n\r\nbody\r\n"),
        EncodeOutcome(SampleOutcome())}) {
    for (size_t size = 0; size < record.size(); ++size) {
      absl::StatusOr<DecodedRecord> decoded =
          DecodeRecord(std::string_view(record).substr(0, size));
      EXPECT_TRUE(IsTruncated(decoded.status()))
          << "size " << size << ": " << decoded.status();
    }
  }
}

TEST(RecordTest, EveryBitFlipIsRejected) {
  const std::string record =
      EncodeMessage(SampleEnvelope(), "Subject: x\r\n\r\nbody\r\n");
  for (size_t i = 0; i < record.size(); ++i) {
    std::string damaged = record;
    damaged[i] ^= 0x01;
    EXPECT_FALSE(DecodeRecord(damaged).ok()) << "byte " << i;
  }
}

TEST(RecordTest, FlippedBodyByteIsDataLoss) {
  std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  record[record.size() - 3] ^= 0x20;
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, FlippedEnvelopeByteIsDataLoss) {
  std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  record[kFrameHeaderSize + 3] ^= 0x20;
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, BadMagicInShortBufferIsDataLoss) {
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord("FX").status()));
}

TEST(RecordTest, ZeroBytesAreDataLoss) {
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(std::string(64, '\0')).status()));
}

TEST(RecordTest, UnknownTypeIsDataLoss) {
  std::string record = EncodeOutcome(SampleOutcome());
  record[4] = 9;
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, UnknownTypeInShortBufferIsDataLoss) {
  const std::string header = std::string("FRY1") + '\x09';
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(header).status()));
}

TEST(RecordTest, MessageHeaderCheckMatches) {
  const std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  EXPECT_EQ(StoredCheck(record), ExpectedCheck(record));
}

TEST(RecordTest, WrongHeaderCheckIsDataLoss) {
  std::string record = EncodeOutcome(SampleOutcome());
  record[6] ^= 0x01;
  EXPECT_TRUE(absl::IsDataLoss(DecodeFrameHeader(record).status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

// A damaged size field must not look like a record cut short at the end of
// a segment, whether it grows past the buffer or shrinks.
TEST(RecordTest, ChangedSizeFieldIsDataLoss) {
  const std::string record = EncodeOutcome(SampleOutcome());
  for (uint32_t size : {0u, 1u, 1000u, kMaxPayloadSize}) {
    std::string damaged = record;
    PutLittleEndian32(size, damaged.data() + 8);
    const absl::Status status = DecodeRecord(damaged).status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << size << ": " << status;
  }
}

TEST(RecordTest, EveryHeaderBitFlipIsDataLoss) {
  const std::string record = EncodeOutcome(SampleOutcome());
  for (size_t bit = 0; bit < 8 * kFrameHeaderSize; ++bit) {
    std::string damaged = record;
    damaged[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    const absl::Status status = DecodeFrameHeader(damaged).status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << "bit " << bit << ": " << status;
  }
}

TEST(RecordTest, ShortHeaderSkipsHeaderCheck) {
  std::string header =
      EncodeOutcome(SampleOutcome()).substr(0, kFrameHeaderSize - 1);
  header[6] ^= 0x01;
  EXPECT_TRUE(IsTruncated(DecodeFrameHeader(header).status()));
}

TEST(RecordTest, OversizedPayloadIsDataLoss) {
  std::string header = EncodeOutcome(SampleOutcome()).substr(0, 12);
  PutLittleEndian32(kMaxPayloadSize + 1, header.data() + 8);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(header).status()));
}

TEST(RecordTest, OversizedPayloadWithValidCheckIsDataLoss) {
  std::string header =
      EncodeOutcome(SampleOutcome()).substr(0, kFrameHeaderSize);
  PutLittleEndian32(kMaxPayloadSize + 1, header.data() + 8);
  SetHeaderCheck(&header);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(header).status()));
}

TEST(RecordTest, OversizedMessageIsRejected) {
  char byte = 'x';
  const std::vector<iovec> body = {{&byte, kMaxPayloadSize}};
  absl::StatusOr<std::string> prefix =
      EncodeMessagePrefix(SampleEnvelope(), body);
  EXPECT_TRUE(absl::IsInvalidArgument(prefix.status())) << prefix.status();
}

TEST(RecordTest, WrongBodySizeIsDataLoss) {
  std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  record += "extra";
  Reframe(&record);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, UnknownEnvelopeFlagIsDataLoss) {
  Envelope envelope;
  envelope.queue_id = "Q";
  std::string record = EncodeMessage(envelope, "");
  // Payload: queue ID (2 bytes), arrival time (8), then the flags byte.
  record[kFrameHeaderSize + 2 + 8] = '\x80';
  Reframe(&record);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, HugeRecipientCountIsDataLoss) {
  Envelope envelope;
  std::string record = EncodeMessage(envelope, "");
  // Payload: queue ID (1), arrival time (8), flags (1), five empty strings
  // (5), then the recipient count, set here to 2^56 - 1.
  const size_t count_at = kFrameHeaderSize + 1 + 8 + 1 + 5;
  record.replace(count_at, 1, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F");
  Reframe(&record);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, OverlongVarintIsDataLoss) {
  Envelope envelope;
  std::string record = EncodeMessage(envelope, "");
  record.replace(kFrameHeaderSize, 1, std::string(11, '\x80') + '\x00');
  Reframe(&record);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, InvalidOutcomeStateIsDataLoss) {
  for (uint8_t state : {0, 7, 255}) {
    Outcome outcome = SampleOutcome();
    outcome.state = static_cast<Outcome::State>(state);
    const std::string record = EncodeOutcome(outcome);
    EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()))
        << "state " << int{state};
  }
}

TEST(RecordTest, OutcomeTrailingBytesAreDataLoss) {
  std::string record = EncodeOutcome(SampleOutcome());
  record += '\0';
  Reframe(&record);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
}

TEST(RecordTest, RandomBytesNeverDecode) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string buf(rng() % 200, '\0');
    for (char& c : buf) c = static_cast<char>(rng());
    if (round % 2 == 0 && buf.size() >= 4) buf.replace(0, 4, "FRY1");
    const absl::Status status = DecodeRecord(buf).status();
    EXPECT_TRUE(absl::IsDataLoss(status) || IsTruncated(status))
        << "round " << round << ": " << status;
  }
}

// Random payloads behind a valid header and CRC reach the payload parser,
// which must reject them or decode them without reading past the payload.
TEST(RecordTest, RandomPayloadsWithValidCrcAreSafe) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string record =
        EncodeOutcome(SampleOutcome()).substr(0, kFrameHeaderSize);
    record[4] = static_cast<char>(round % 2 == 0 ? RecordType::kMessage
                                                 : RecordType::kOutcome);
    const size_t payload_size = rng() % 120;
    for (size_t i = 0; i < payload_size; ++i) {
      record.push_back(static_cast<char>(rng() % 4 == 0 ? 0 : rng()));
    }
    Reframe(&record);
    absl::StatusOr<DecodedRecord> decoded = DecodeRecord(record);
    if (!decoded.ok()) {
      EXPECT_TRUE(absl::IsDataLoss(decoded.status())) << decoded.status();
      continue;
    }
    EXPECT_EQ(decoded->framed_size, record.size());
    EXPECT_LE(decoded->body_offset + decoded->body_size, record.size());
  }
}

TEST(RecordTest, DamagedMessageYieldsQueueId) {
  std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  record[record.size() - 3] ^= 0x20;
  ASSERT_TRUE(absl::IsDataLoss(DecodeRecord(record).status()));
  absl::StatusOr<DecodedRecord> damaged = DecodeDamagedRecord(record);
  ASSERT_TRUE(damaged.ok()) << damaged.status();
  EXPECT_EQ(damaged->type, RecordType::kMessage);
  EXPECT_EQ(damaged->envelope.queue_id, "0KZ3M7Q2W1A00");
  EXPECT_EQ(damaged->framed_size, record.size());
}

TEST(RecordTest, DamagedOutcomeYieldsQueueId) {
  std::string record = EncodeOutcome(SampleOutcome());
  record[record.size() - 1] ^= 0x20;
  absl::StatusOr<DecodedRecord> damaged = DecodeDamagedRecord(record);
  ASSERT_TRUE(damaged.ok()) << damaged.status();
  EXPECT_EQ(damaged->type, RecordType::kOutcome);
  EXPECT_EQ(damaged->outcome.queue_id, "0KZ3M7Q2W1A00");
}

TEST(RecordTest, DamagedRecordIgnoresHeaderFields) {
  std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  record.replace(0, 4, "XXXX");
  PutLittleEndian32(7, record.data() + 8);
  absl::StatusOr<DecodedRecord> damaged = DecodeDamagedRecord(record);
  ASSERT_TRUE(damaged.ok()) << damaged.status();
  EXPECT_EQ(damaged->envelope, SampleEnvelope());
}

TEST(RecordTest, DamagedRecordRejectsUnknownType) {
  std::string record = EncodeOutcome(SampleOutcome());
  record[4] = 9;
  EXPECT_TRUE(absl::IsDataLoss(DecodeDamagedRecord(record).status()));
}

TEST(RecordTest, DamagedRecordRejectsShortBuffer) {
  const std::string record = EncodeOutcome(SampleOutcome());
  EXPECT_TRUE(
      absl::IsDataLoss(DecodeDamagedRecord(record.substr(0, 10)).status()));
}

TEST(RecordTest, DamagedRecordRejectsUnparsablePayload) {
  std::string record = EncodeMessage(SampleEnvelope(), "body\r\n");
  record += "trailing";
  EXPECT_TRUE(absl::IsDataLoss(DecodeDamagedRecord(record).status()));
}

TEST(RecordTest, RecordTypeNames) {
  EXPECT_EQ(RecordTypeName(RecordType::kMessage), "message");
  EXPECT_EQ(RecordTypeName(RecordType::kOutcome), "outcome");
  EXPECT_EQ(RecordTypeName(static_cast<RecordType>(9)), "unknown");
}

TEST(RecordTest, FinalStates) {
  EXPECT_TRUE(IsFinal(Outcome::kDelivered));
  EXPECT_TRUE(IsFinal(Outcome::kBounced));
  EXPECT_TRUE(IsFinal(Outcome::kExpired));
  EXPECT_TRUE(IsFinal(Outcome::kDeleted));
  EXPECT_FALSE(IsFinal(Outcome::kDeferred));
  EXPECT_FALSE(IsFinal(Outcome::kHeld));
}

TEST(RecordTest, StateNames) {
  EXPECT_EQ(StateName(Outcome::kHeld), "held");
  EXPECT_EQ(StateName(Outcome::kDeleted), "deleted");
  EXPECT_EQ(StateName(static_cast<Outcome::State>(7)), "unknown");
}

// An outcome record written before the hold and delete states existed,
// byte for byte. Spools written then must stay readable.
TEST(RecordTest, EarlierOutcomeRecordDecodes) {
  const std::string record(
      "\x46\x52\x59\x31\x02\x8d\x78\x7e\x3e\x00\x00\x00\x22\xa1\xc8\xac"
      "\x0e\x43\x52\x45\x48\x37\x52\x46\x34\x32\x36\x47\x30\x30\x30\x01"
      "\x00\x00\x00\x03\x02\x00\x00\x00\x00\x3d\x82\x44\x73\x28\x06\x00"
      "\x00\xc4\x15\x48\x73\x28\x06\x00\x05\x6d\x78\x3a\x32\x35\x0f\x34"
      "\x35\x31\x20\x34\x2e\x33\x2e\x30\x20\x6c\x61\x74\x65\x72",
      78);
  absl::StatusOr<DecodedRecord> decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const Outcome& outcome = decoded->outcome;
  EXPECT_EQ(outcome.queue_id, "CREH7RF426G000");
  EXPECT_EQ(outcome.recipient_index, 1u);
  EXPECT_EQ(outcome.state, Outcome::kDeferred);
  EXPECT_EQ(outcome.attempts, 2u);
  EXPECT_EQ(outcome.time_unix_micros, 1733325396000000);
  EXPECT_EQ(outcome.next_attempt_unix_micros, 1733325456000000);
  EXPECT_EQ(outcome.next_hop, "mx:25");
  EXPECT_EQ(outcome.reply, "451 4.3.0 later");
}

TEST(RecordTest, StampSegmentKeepsRecordValid) {
  const Envelope envelope = SampleEnvelope();
  std::string record = EncodeMessage(envelope, "body\r\n");
  const SegmentStamp stamp = {.sequence = 0x1234, .nonce = ~uint64_t{0} - 5};
  StampSegment(stamp, record.data());
  absl::StatusOr<DecodedRecord> decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->stamp, stamp);
  EXPECT_FALSE(decoded->legacy);
  EXPECT_EQ(decoded->envelope, envelope);
  EXPECT_EQ(record.substr(decoded->body_offset), "body\r\n");

  const SegmentStamp reused = {.sequence = 7, .nonce = 9, .reused_file = true};
  StampSegment(reused, record.data());
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(record);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->stamp, reused);
  EXPECT_EQ(StoredCheck(record), ExpectedCheck(record));
}

TEST(RecordTest, LegacyRecordsDecode) {
  const Envelope envelope = SampleEnvelope();
  const std::string message = ToLegacy(EncodeMessage(envelope, "old\r\n"));
  absl::StatusOr<DecodedRecord> decoded = DecodeRecord(message);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->legacy);
  EXPECT_EQ(decoded->stamp, SegmentStamp());
  EXPECT_EQ(decoded->framed_size, message.size());
  EXPECT_EQ(decoded->envelope, envelope);
  EXPECT_EQ(message.substr(decoded->body_offset), "old\r\n");

  const Outcome outcome = SampleOutcome();
  const std::string legacy_outcome = ToLegacy(EncodeOutcome(outcome));
  decoded = DecodeRecord(legacy_outcome);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->outcome, outcome);
  // A legacy header is whole at 16 bytes.
  absl::StatusOr<FrameHeader> header =
      DecodeFrameHeader(legacy_outcome.substr(0, kLegacyFrameHeaderSize));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->framed_size(), legacy_outcome.size());
}

TEST(RecordTest, EveryLegacyHeaderBitFlipIsDataLoss) {
  const std::string record = ToLegacy(EncodeOutcome(SampleOutcome()));
  for (size_t bit = 0; bit < 8 * kLegacyFrameHeaderSize; ++bit) {
    std::string damaged = record;
    damaged[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    const absl::Status status = DecodeFrameHeader(damaged).status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << "bit " << bit << ": " << status;
  }
}

}  // namespace
}  // namespace ferry::spool
