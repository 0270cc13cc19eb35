#include "bench/load/bench_message.h"

#include <string>

#include "gtest/gtest.h"

namespace ferry::bench {
namespace {

std::string WholeMessage(const MessageTemplate& message, uint64_t run,
                         uint64_t sequence) {
  return message.Head(run, sequence) + message.Filler();
}

TEST(MessageTemplate, SizeIsNearRequested) {
  MessageTemplate message(10240, "a@example.com", "b@example.net");
  const size_t size = WholeMessage(message, 1, 1).size();
  EXPECT_GE(size, 10240u);
  EXPECT_LT(size, 10240u + 80);
}

TEST(MessageTemplate, NoBodyLineStartsWithDot) {
  MessageTemplate message(4096, "a@example.com", "b@example.net");
  const std::string text = WholeMessage(message, 7, 3);
  EXPECT_EQ(text.find("\r\n."), std::string::npos);
}

TEST(CheckMessage, IntactMessagePasses) {
  MessageTemplate message(2048, "a@example.com", "b@example.net");
  CheckResult result = CheckMessage(WholeMessage(message, 0xabc, 42));
  EXPECT_EQ(result.verdict, Verdict::kIntact);
  EXPECT_EQ(result.run_id, 0xabcu);
  EXPECT_EQ(result.sequence, 42u);
}

TEST(CheckMessage, AddedReceivedFieldStillPasses) {
  MessageTemplate message(2048, "a@example.com", "b@example.net");
  const std::string text =
      "Received: from x by y; Tue, 14 Nov 2023 22:13:20 +0000\r\n" +
      WholeMessage(message, 1, 5);
  EXPECT_EQ(CheckMessage(text).verdict, Verdict::kIntact);
}

TEST(CheckMessage, ChangedBodyOctetIsCorrupt) {
  MessageTemplate message(2048, "a@example.com", "b@example.net");
  std::string text = WholeMessage(message, 1, 5);
  text[text.size() - 10] ^= 1;
  EXPECT_EQ(CheckMessage(text).verdict, Verdict::kCorrupt);
}

TEST(CheckMessage, SwappedSequenceLineIsCorrupt) {
  MessageTemplate message(2048, "a@example.com", "b@example.net");
  const std::string head5 = message.Head(1, 5);
  const std::string head6 = message.Head(1, 6);
  // The header of message 5 with the body of message 6.
  const std::string text = head5.substr(0, head5.find("\r\n\r\n") + 4) +
                           head6.substr(head6.find("\r\n\r\n") + 4) +
                           message.Filler();
  EXPECT_EQ(CheckMessage(text).verdict, Verdict::kCorrupt);
}

TEST(CheckMessage, MissingHeaderIsUnverified) {
  EXPECT_EQ(CheckMessage("Subject: x\r\n\r\nhello\r\n").verdict,
            Verdict::kUnverified);
}

TEST(CheckMessage, MalformedHeaderIsUnverified) {
  EXPECT_EQ(CheckMessage("X-Ferry-Bench: 1 two\r\n\r\nhello\r\n").verdict,
            Verdict::kUnverified);
}

}  // namespace
}  // namespace ferry::bench
