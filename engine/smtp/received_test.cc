#include "engine/smtp/received.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

ReceivedInfo SampleInfo() {
  ReceivedInfo info;
  info.helo = "client.example";
  info.client_hostname = "mx.client.example";
  info.client_ip = "192.0.2.1";
  info.hostname = "relay.example";
  info.esmtp = true;
  info.queue_id = "0123ABCD";
  info.recipient = "bob@example.net";
  info.time = absl::FromUnixSeconds(1751373296);  // 2025-07-01 12:34:56 UTC
  return info;
}

// Splits a header into its lines without the CRLF after the last one.
std::vector<std::string> Lines(const std::string& header) {
  std::string body = header;
  if (absl::EndsWith(body, "\r\n")) body.resize(body.size() - 2);
  return absl::StrSplit(body, "\r\n");
}

TEST(BuildReceivedHeaderTest, SampleLayout) {
  EXPECT_EQ(BuildReceivedHeader(SampleInfo()),
            "Received: from client.example (mx.client.example [192.0.2.1])\r\n"
            "\tby relay.example (ferry) with ESMTP id 0123ABCD\r\n"
            "\tfor <bob@example.net>; Tue, 01 Jul 2025 12:34:56 +0000\r\n");
}

TEST(BuildReceivedHeaderTest, SeveralRecipientsOmitFor) {
  ReceivedInfo info = SampleInfo();
  info.recipient.clear();
  EXPECT_EQ(BuildReceivedHeader(info),
            "Received: from client.example (mx.client.example [192.0.2.1])\r\n"
            "\tby relay.example (ferry) with ESMTP id 0123ABCD;\r\n"
            "\tTue, 01 Jul 2025 12:34:56 +0000\r\n");
}

TEST(BuildReceivedHeaderTest, UnknownReverseDns) {
  ReceivedInfo info = SampleInfo();
  info.client_hostname.clear();
  EXPECT_TRUE(absl::StartsWith(
      BuildReceivedHeader(info),
      "Received: from client.example (unknown [192.0.2.1])\r\n"));
}

TEST(BuildReceivedHeaderTest, Ipv6Client) {
  ReceivedInfo info = SampleInfo();
  info.client_ip = "2001:db8::1";
  EXPECT_TRUE(absl::StrContains(BuildReceivedHeader(info),
                                "(mx.client.example [2001:db8::1])"));
}

TEST(BuildReceivedHeaderTest, LongNamesFoldUnder78Columns) {
  ReceivedInfo info = SampleInfo();
  info.helo = std::string(40, 'h') + ".example";
  info.client_hostname = std::string(40, 'r') + ".example";
  info.hostname = std::string(50, 'b') + ".example";
  info.recipient = std::string(25, 'l') + "@" + std::string(25, 'd') + ".net";
  const std::string header = BuildReceivedHeader(info);
  for (const std::string& line : Lines(header)) {
    const size_t columns = line[0] == '\t' ? line.size() + 7 : line.size();
    EXPECT_LE(columns, 78u) << line;
  }
  EXPECT_EQ(Lines(header).size(), 6u) << header;
}

TEST(BuildReceivedHeaderTest, OverlongUnitStaysWhole) {
  ReceivedInfo info = SampleInfo();
  info.helo = std::string(100, 'h');
  const std::string header = BuildReceivedHeader(info);
  EXPECT_TRUE(
      absl::StartsWith(header, "Received: from " + std::string(100, 'h') +
                                   "\r\n\t(mx.client.example [192.0.2.1])"))
      << header;
}

TEST(BuildReceivedHeaderTest, ControlCharactersReplaced) {
  ReceivedInfo info = SampleInfo();
  info.helo = "evil\r\n.\r\nMAIL";
  info.recipient = "a\nb@example.net";
  const std::string header = BuildReceivedHeader(info);
  EXPECT_TRUE(absl::StrContains(header, "from evil??.??MAIL")) << header;
  EXPECT_TRUE(absl::StrContains(header, "for <a?b@example.net>;")) << header;
  EXPECT_EQ(Lines(header).size(), 3u);
}

TEST(BuildReceivedHeaderTest, NoLineStartsWithDot) {
  ReceivedInfo info = SampleInfo();
  info.helo = "." + std::string(80, '.');
  info.client_hostname = ".";
  info.hostname = ".";
  info.recipient = ".@.";
  for (const std::string& line : Lines(BuildReceivedHeader(info))) {
    ASSERT_FALSE(line.empty());
    EXPECT_NE(line[0], '.') << line;
  }
}

TEST(BuildReceivedHeaderTest, EndsWithOneCrlf) {
  const std::string header = BuildReceivedHeader(SampleInfo());
  EXPECT_TRUE(absl::EndsWith(header, "+0000\r\n"));
  EXPECT_FALSE(absl::EndsWith(header, "\r\n\r\n"));
}

struct ProtocolCase {
  bool esmtp;
  bool tls;
  bool authenticated;
  bool smtputf8;
  std::string_view protocol;
};

class ReceivedProtocolTest : public testing::TestWithParam<ProtocolCase> {};

TEST_P(ReceivedProtocolTest, NamesProtocol) {
  const ProtocolCase& c = GetParam();
  ReceivedInfo info;
  info.esmtp = c.esmtp;
  info.tls = c.tls;
  info.authenticated = c.authenticated;
  info.smtputf8 = c.smtputf8;
  EXPECT_EQ(ReceivedProtocol(info), c.protocol);
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ReceivedProtocolTest,
    testing::Values(ProtocolCase{false, false, false, false, "SMTP"},
                    ProtocolCase{true, false, false, false, "ESMTP"},
                    ProtocolCase{true, true, false, false, "ESMTPS"},
                    ProtocolCase{true, false, true, false, "ESMTPA"},
                    ProtocolCase{true, true, true, false, "ESMTPSA"},
                    ProtocolCase{true, false, false, true, "UTF8SMTP"},
                    ProtocolCase{true, true, false, true, "UTF8SMTPS"},
                    ProtocolCase{true, false, true, true, "UTF8SMTPA"},
                    ProtocolCase{true, true, true, true, "UTF8SMTPSA"}));

TEST(Received, EightBitHeloReplaced) {
  ReceivedInfo info;
  info.helo = "h\xff\xfe.example";
  info.client_ip = "192.0.2.1";
  info.hostname = "relay.example";
  info.queue_id = "Q1";
  info.time = absl::FromUnixSeconds(0);
  const std::string field = BuildReceivedHeader(info);
  EXPECT_NE(field.find("from h??.example"), std::string::npos) << field;
  for (unsigned char c : field) EXPECT_LT(c, 0x80);
}

TEST(Received, LongHeloCutToDomainLength) {
  ReceivedInfo info;
  info.helo = std::string(2000, 'a');
  info.client_ip = "192.0.2.1";
  info.hostname = "relay.example";
  info.queue_id = "Q1";
  info.time = absl::FromUnixSeconds(0);
  const std::string field = BuildReceivedHeader(info);
  size_t start = 0;
  while (start < field.size()) {
    size_t end = field.find("\r\n", start);
    if (end == std::string::npos) end = field.size();
    EXPECT_LE(end - start, 998u);
    start = end + 2;
  }
  EXPECT_EQ(field.find(std::string(256, 'a')), std::string::npos);
}

}  // namespace
}  // namespace ferry::smtp
