#include "engine/smtp/dot_stuffer.h"

#include <string>
#include <vector>

#include "engine/smtp/data_scanner.h"
#include "engine/smtp/message_body.h"
#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

struct StuffOutcome {
  std::string transfer_form;
  bool rejected = false;
  uint64_t size = 0;
  int received_count = 0;
  bool has_8bit = false;
};

StuffOutcome Stuff(const std::vector<std::string>& pieces,
                   BareLineEnding policy = BareLineEnding::kNormalize) {
  DotStuffer stuffer(policy);
  MessageBody body;
  for (const std::string& piece : pieces) stuffer.Append(piece, &body);
  stuffer.Finish(&body);
  StuffOutcome out;
  out.transfer_form = body.ToString();
  out.rejected = stuffer.bare_line_ending_rejected();
  out.size = stuffer.size();
  out.received_count = stuffer.received_count();
  out.has_8bit = stuffer.has_8bit();
  return out;
}

struct Case {
  const char* name;
  std::string raw;
  std::string transfer_form;
  bool bare;
};

std::vector<Case> Cases() {
  return {
      {"empty", "", "", false},
      {"one line", "a\r\n", "a\r\n", false},
      {"unterminated line", "a", "a\r\n", false},
      {"leading dot", ".a\r\n", "..a\r\n", false},
      {"lone dot", ".\r\n", "..\r\n", false},
      {"lone dot unterminated", ".", "..\r\n", false},
      {"two dots", "..\r\n", "...\r\n", false},
      {"dot mid line", "a.b\r\n", "a.b\r\n", false},
      {"dot after crlf", "x\r\n.\r\ny\r\n", "x\r\n..\r\ny\r\n", false},
      {"empty lines", "\r\n\r\n", "\r\n\r\n", false},
      {"bare lf", "a\n.b", "a\r\n..b\r\n", true},
      {"bare cr", "a\rb", "a\r\nb\r\n", true},
      {"trailing bare cr", "a\r", "a\r\n", true},
      {"cr cr lf", "a\r\r\n", "a\r\n\r\n", true},
      {"lf cr", "a\n\rb\r\n", "a\r\n\r\nb\r\n", true},
  };
}

TEST(DotStufferTest, Table) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const StuffOutcome out = Stuff({c.raw});
    EXPECT_EQ(out.transfer_form, c.transfer_form);
    EXPECT_FALSE(out.rejected);
    EXPECT_EQ(out.size, DotUnstuff(out.transfer_form).size());
  }
}

TEST(DotStufferTest, RejectFlagsBareLineEndings) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const StuffOutcome out = Stuff({c.raw}, BareLineEnding::kReject);
    EXPECT_EQ(out.rejected, c.bare);
    EXPECT_EQ(out.transfer_form, c.transfer_form);
  }
}

TEST(DotStufferTest, EverySplitMatchesWhole) {
  for (const Case& c : Cases()) {
    for (size_t k = 1; k < c.raw.size(); ++k) {
      SCOPED_TRACE(std::string(c.name) + " split at " + std::to_string(k));
      const StuffOutcome out =
          Stuff({c.raw.substr(0, k), c.raw.substr(k)}, BareLineEnding::kReject);
      EXPECT_EQ(out.transfer_form, c.transfer_form);
      EXPECT_EQ(out.rejected, c.bare);
    }
  }
}

TEST(DotStufferTest, CrLfSplitAcrossAppends) {
  const StuffOutcome out =
      Stuff({"a\r", "\n.b\r", "\n"}, BareLineEnding::kReject);
  EXPECT_EQ(out.transfer_form, "a\r\n..b\r\n");
  EXPECT_FALSE(out.rejected);
}

TEST(DotStufferTest, SizeCountsContent) {
  EXPECT_EQ(Stuff({".a\r\n"}).size, 4u);
  EXPECT_EQ(Stuff({"a\nb"}).size, 6u);
}

TEST(DotStufferTest, CountsReceivedInHeaderOnly) {
  const std::string raw =
      "Received: a\r\nRECEIVED: b\r\nX-Received: c\r\n\r\nReceived: d\r\n";
  EXPECT_EQ(Stuff({raw}).received_count, 2);
  std::vector<std::string> bytes;
  for (char c : raw) bytes.emplace_back(1, c);
  EXPECT_EQ(Stuff(bytes).received_count, 2);
}

TEST(DotStufferTest, FlagsEightBit) {
  EXPECT_TRUE(Stuff({"caf\xc3\xa9\r\n"}).has_8bit);
  EXPECT_FALSE(Stuff({"cafe\r\n"}).has_8bit);
}

TEST(DotStufferTest, DotStuffStuffsDsnText) {
  EXPECT_EQ(DotStuff("Subject: x\r\n\r\n.\r\n.end"),
            "Subject: x\r\n\r\n..\r\n..end\r\n");
}

TEST(DotStufferTest, DotUnstuffReversesDotStuff) {
  const std::string text =
      "Subject: dots\r\n\r\n.\r\n..two\r\n\r\n.\r\nend\r\n";
  EXPECT_EQ(DotUnstuff(DotStuff(text)), text);
}

TEST(DotStufferTest, DotUnstuffSplitsAtCrlfOnly) {
  EXPECT_EQ(DotUnstuff("..a\r\n.b\n.c\r\n"), ".a\r\nb\n.c\r\n");
}

TEST(DotStufferTest, OutputScansBackToSameBody) {
  const std::string raw = "Subject: t\r\n\r\n.\r\n..\r\nx\n.\n";
  const StuffOutcome out = Stuff({raw});
  DataScanner scanner({});
  MessageBody body;
  body.Append(out.transfer_form + ".\r\nQUIT\r\n");
  std::string rest;
  EXPECT_TRUE(scanner.Scan(&body, &rest));
  EXPECT_EQ(body.ToString(), out.transfer_form);
  EXPECT_EQ(rest, "QUIT\r\n");
  EXPECT_EQ(scanner.size(), out.size);
}

}  // namespace
}  // namespace ferry::smtp
