#include "engine/smtp/reply_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

struct Parsed {
  std::vector<Reply> replies;
  absl::Status status;
};

Parsed ParsePieces(const std::vector<std::string>& pieces,
                   const ReplyParserOptions& options = {}) {
  ReplyParser parser(options);
  Parsed out;
  for (const std::string& piece : pieces) out.status = parser.Feed(piece);
  while (std::optional<Reply> reply = parser.Next()) {
    out.replies.push_back(*reply);
  }
  return out;
}

Parsed Parse(const std::string& input) { return ParsePieces({input}); }

struct Case {
  const char* name;
  std::string input;
  int code;
  std::string enhanced;
  std::vector<std::string> lines;
};

std::vector<Case> Cases() {
  return {
      {"single line", "250 ok\r\n", 250, "", {"ok"}},
      {"multi-line greeting",
       "220-a\r\n220-b\r\n220 ready\r\n",
       220,
       "",
       {"a", "b", "ready"}},
      {"digits in text",
       "250-234 text starting with digits\r\n250 OK\r\n",
       250,
       "",
       {"234 text starting with digits", "OK"}},
      {"bare code", "250\r\n", 250, "", {""}},
      {"empty continuation", "250-\r\n250 x\r\n", 250, "", {"", "x"}},
      {"enhanced code", "250 2.1.0 Sender ok\r\n", 250, "2.1.0", {"Sender ok"}},
      {"enhanced on every line",
       "550-5.1.1 no\r\n550 5.1.1 such user\r\n",
       550,
       "5.1.1",
       {"no", "such user"}},
      {"enhanced code only", "250 2.0.0\r\n", 250, "2.0.0", {""}},
      {"enhanced long fields",
       "452 4.123.456 busy\r\n",
       452,
       "4.123.456",
       {"busy"}},
      {"enhanced class mismatch", "550 4.1.1 odd\r\n", 550, "", {"4.1.1 odd"}},
      {"enhanced field too long",
       "250 2.1234.0 x\r\n",
       250,
       "",
       {"2.1234.0 x"}},
      {"enhanced without space", "250 2.1.0x\r\n", 250, "", {"2.1.0x"}},
      {"bare lf", "250 ok\n", 250, "", {"ok"}},
      {"text keeps spaces",
       "250  two  spaces \r\n",
       250,
       "",
       {" two  spaces "}},
  };
}

TEST(ReplyParserTest, Table) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const Parsed parsed = Parse(c.input);
    EXPECT_TRUE(parsed.status.ok()) << parsed.status;
    ASSERT_EQ(parsed.replies.size(), 1u);
    EXPECT_EQ(parsed.replies[0].code, c.code);
    EXPECT_EQ(parsed.replies[0].enhanced, c.enhanced);
    EXPECT_EQ(parsed.replies[0].lines, c.lines);
  }
}

TEST(ReplyParserTest, ByteByByteMatchesWhole) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> bytes;
    for (char ch : c.input) bytes.emplace_back(1, ch);
    const Parsed parsed = ParsePieces(bytes);
    EXPECT_TRUE(parsed.status.ok());
    ASSERT_EQ(parsed.replies.size(), 1u);
    EXPECT_EQ(parsed.replies[0].code, c.code);
    EXPECT_EQ(parsed.replies[0].lines, c.lines);
  }
}

TEST(ReplyParserTest, InvalidLinesAreErrors) {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"letters", "abc\r\n"},
      {"short code", "25\r\n"},
      {"no separator", "250x\r\n"},
      {"code too high", "600 no\r\n"},
      {"code too low", "199 no\r\n"},
      {"empty line", "\r\n"},
      {"code changes", "250-a\r\n251 b\r\n"},
  };
  for (const auto& [name, input] : cases) {
    SCOPED_TRACE(name);
    const Parsed parsed = Parse(input);
    EXPECT_EQ(parsed.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(parsed.replies.empty());
  }
}

TEST(ReplyParserTest, TwoRepliesInOneFeed) {
  const Parsed parsed = Parse("250 a\r\n354 go ahead\r\n");
  ASSERT_EQ(parsed.replies.size(), 2u);
  EXPECT_EQ(parsed.replies[0].code, 250);
  EXPECT_EQ(parsed.replies[1].code, 354);
  EXPECT_EQ(parsed.replies[1].lines[0], "go ahead");
}

TEST(ReplyParserTest, IncompleteReplyWaits) {
  ReplyParser parser;
  EXPECT_TRUE(parser.Feed("250-a\r\n250 b").ok());
  EXPECT_FALSE(parser.has_reply());
  EXPECT_TRUE(parser.Feed("\r\n").ok());
  EXPECT_TRUE(parser.has_reply());
}

TEST(ReplyParserTest, TenThousandLinesIsError) {
  std::string input;
  for (int i = 0; i < 10000; ++i) input += "250-continuation\r\n";
  input += "250 end\r\n";
  const Parsed parsed = Parse(input);
  EXPECT_EQ(parsed.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(parsed.replies.empty());
  EXPECT_NE(parsed.status.message().find("1000 lines"), std::string::npos);
}

TEST(ReplyParserTest, MaxLinesAllowed) {
  std::string input;
  for (int i = 0; i < 999; ++i) input += "250-x\r\n";
  input += "250 end\r\n";
  const Parsed parsed = Parse(input);
  EXPECT_TRUE(parsed.status.ok());
  ASSERT_EQ(parsed.replies.size(), 1u);
  EXPECT_EQ(parsed.replies[0].lines.size(), 1000u);
}

TEST(ReplyParserTest, LongLineIsErrorBeforeLf) {
  ReplyParser parser;
  const std::string part(3000, 'x');
  EXPECT_TRUE(parser.Feed("250 " + part).ok());
  const absl::Status status = parser.Feed(part);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(parser.has_reply());
}

TEST(ReplyParserTest, MaxLineLengthAllowed) {
  const std::string line = "250 " + std::string(4092, 'x');
  const Parsed parsed = Parse(line + "\r\n");
  EXPECT_TRUE(parsed.status.ok());
  ASSERT_EQ(parsed.replies.size(), 1u);
  const Parsed too_long = Parse(line + "x\r\n");
  EXPECT_FALSE(too_long.status.ok());
}

TEST(ReplyParserTest, ErrorIsSticky) {
  ReplyParser parser;
  EXPECT_FALSE(parser.Feed("bad\r\n").ok());
  EXPECT_FALSE(parser.Feed("250 ok\r\n").ok());
  EXPECT_FALSE(parser.has_reply());
}

TEST(ReplyParserTest, RepliesBeforeErrorKept) {
  ReplyParser parser;
  EXPECT_FALSE(parser.Feed("250 ok\r\nbad\r\n").ok());
  std::optional<Reply> reply = parser.Next();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code, 250);
  EXPECT_FALSE(parser.Next().has_value());
}

TEST(ReplyParserTest, SmallLimitsApply) {
  ReplyParserOptions options;
  options.max_lines = 2;
  options.max_line_length = 10;
  EXPECT_FALSE(
      ParsePieces({"250-a\r\n250-b\r\n250 c\r\n"}, options).status.ok());
  EXPECT_FALSE(ParsePieces({"250 0123456789\r\n"}, options).status.ok());
  EXPECT_TRUE(ParsePieces({"250-a\r\n250 012345\r\n"}, options).status.ok());
}

}  // namespace
}  // namespace ferry::smtp
