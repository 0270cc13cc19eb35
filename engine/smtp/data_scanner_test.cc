#include "engine/smtp/data_scanner.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

constexpr BareLineEnding kNormalize = BareLineEnding::kNormalize;
constexpr BareLineEnding kReject = BareLineEnding::kReject;

struct ScanOutcome {
  bool done = false;
  std::string body;
  std::string rest;
  bool rejected = false;
  bool too_large = false;
  uint64_t size = 0;
  int received_count = 0;
  bool has_8bit = false;
};

// Receives `pieces` into a body the way the server session does (straight
// into tail space, one Scan() per read). Pieces after the end of data go
// to `rest`, as the session would parse them as commands.
ScanOutcome ScanPieces(const std::vector<std::string>& pieces,
                       DataScannerOptions options = {}) {
  DataScanner scanner(options);
  MessageBody body;
  ScanOutcome outcome;
  for (const std::string& piece : pieces) {
    if (outcome.done) {
      outcome.rest += piece;
      continue;
    }
    std::string_view left = piece;
    while (!left.empty()) {
      auto [space, size] = body.TailSpace();
      const size_t n = std::min(size, left.size());
      std::memcpy(space, left.data(), n);
      body.Commit(n);
      left.remove_prefix(n);
    }
    outcome.done = scanner.Scan(&body, &outcome.rest);
  }
  outcome.body = body.ToString();
  outcome.rejected = scanner.bare_line_ending_rejected();
  outcome.too_large = scanner.too_large();
  outcome.size = scanner.size();
  outcome.received_count = scanner.received_count();
  outcome.has_8bit = scanner.has_8bit();
  return outcome;
}

ScanOutcome ScanWhole(const std::string& input, BareLineEnding policy) {
  DataScannerOptions options;
  options.bare_line_ending = policy;
  return ScanPieces({input}, options);
}

// Splits `input` into pieces of `size` bytes.
std::vector<std::string> PiecesOf(const std::string& input, size_t size) {
  std::vector<std::string> pieces;
  for (size_t i = 0; i < input.size(); i += size) {
    pieces.push_back(input.substr(i, size));
  }
  return pieces;
}

// Returns true if `text` has a CR not followed by LF, or an LF not
// preceded by CR.
bool HasBareLineEnding(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      return true;
    }
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) return true;
  }
  return false;
}

// Returns how often `needle` occurs in `text`, overlaps included.
int CountOccurrences(std::string_view text, std::string_view needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Returns the content of a transfer form (the first "." of each line
// removed).
std::string Unstuff(std::string_view transfer_form) {
  std::string out;
  bool at_line_start = true;
  for (size_t i = 0; i < transfer_form.size(); ++i) {
    const char c = transfer_form[i];
    if (!(at_line_start && c == '.')) out.push_back(c);
    at_line_start = c == '\n';
  }
  return out;
}

// A line-by-line model of the scanning rules, to check the scanner
// against on many inputs.
ScanOutcome Model(const std::string& input, BareLineEnding policy) {
  ScanOutcome out;
  bool after_bare = false;
  size_t i = 0;
  while (true) {
    const size_t end = input.find_first_of("\r\n", i);
    if (end == std::string::npos) break;
    const bool cr = input[end] == '\r';
    if (cr && end + 1 == input.size()) break;  // CR or CRLF: not known yet
    const bool crlf = cr && input[end + 1] == '\n';
    const size_t next = end + (crlf ? 2 : 1);
    std::string text = input.substr(i, end - i);
    if (crlf && text == "." && !after_bare) {
      out.done = true;
      out.rest = input.substr(next);
      break;
    }
    if (!text.empty() && text[0] == '.' && (after_bare || !crlf)) {
      if (after_bare || text == ".") text = "." + text;
    }
    if (!crlf && policy == kReject) out.rejected = true;
    if (!out.rejected) out.body += text + "\r\n";
    out.size += text.size() + 2 - (!text.empty() && text[0] == '.' ? 1 : 0);
    after_bare = !crlf;
    i = next;
  }
  return out;
}

struct Case {
  const char* name;
  std::string input;
  std::string body;  // stored transfer form with kNormalize
  std::string rest;
  bool bare;  // has a bare CR or LF: kReject rejects it
};

std::vector<Case> Cases() {
  return {
      {"plain", "hello\r\n.\r\n", "hello\r\n", "", false},
      {"empty", ".\r\n", "", "", false},
      {"empty line only", "\r\n.\r\n", "\r\n", "", false},
      {"stuffed dot kept", "a\r\n..b\r\n.\r\n", "a\r\n..b\r\n", "", false},
      {"stuffed lone dot", "..\r\n.\r\n", "..\r\n", "", false},
      {"dot then space", ". \r\n.\r\n", ". \r\n", "", false},
      {"bare lf lone dot bare lf", "a\n.\nb\r\n.\r\n", "a\r\n..\r\nb\r\n", "",
       true},
      {"bare lf lone dot crlf", "a\n.\r\nb\r\n.\r\n", "a\r\n..\r\nb\r\n", "",
       true},
      {"crlf lone dot bare lf", "a\r\n.\nb\r\n.\r\n", "a\r\n..\r\nb\r\n", "",
       true},
      {"crlf lone dot bare cr", "a\r\n.\rb\r\n.\r\n", "a\r\n..\r\nb\r\n", "",
       true},
      {"bare cr in text", "a\rb\r\n.\r\n", "a\r\nb\r\n", "", true},
      {"cr before crlf", "a\r\r\n.\r\n", "a\r\n\r\n", "", true},
      {"dot text after bare lf", "a\n.x\r\n.\r\n", "a\r\n..x\r\n", "", true},
      {"stuffed text bare lf", "..x\n.\r\n.\r\n", "..x\r\n..\r\n", "", true},
      {"leading bare lf", "\n.\r\n.\r\n", "\r\n..\r\n", "", true},
      {"pipelined rest", "a\r\n.\r\nMAIL FROM:<x@example.com>\r\n", "a\r\n",
       "MAIL FROM:<x@example.com>\r\n", false},
      {"rest after bare", "a\nb\r\n.\r\nQUIT\r\n", "a\r\nb\r\n", "QUIT\r\n",
       true},
  };
}

TEST(DataScannerTest, NormalizeTable) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const ScanOutcome out = ScanWhole(c.input, kNormalize);
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.body, c.body);
    EXPECT_EQ(out.rest, c.rest);
    EXPECT_FALSE(out.rejected);
    EXPECT_FALSE(HasBareLineEnding(out.body));
    EXPECT_EQ(out.size, Unstuff(out.body).size());
  }
}

TEST(DataScannerTest, RejectTable) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const ScanOutcome out = ScanWhole(c.input, kReject);
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.rest, c.rest);
    EXPECT_EQ(out.rejected, c.bare);
    EXPECT_FALSE(HasBareLineEnding(out.body));
    if (!c.bare) {
      EXPECT_EQ(out.body, c.body);
    }
  }
}

TEST(DataScannerTest, TableMatchesModel) {
  for (const Case& c : Cases()) {
    for (BareLineEnding policy : {kNormalize, kReject}) {
      SCOPED_TRACE(c.name);
      const ScanOutcome expected = Model(c.input, policy);
      const ScanOutcome out = ScanWhole(c.input, policy);
      EXPECT_EQ(out.body, expected.body);
      EXPECT_EQ(out.rest, expected.rest);
      EXPECT_EQ(out.size, expected.size);
    }
  }
}

TEST(DataScannerTest, NoEndWithoutTerminator) {
  const ScanOutcome out = ScanWhole("a\r\n.\nb\n.\r", kNormalize);
  EXPECT_FALSE(out.done);
  EXPECT_EQ(out.rest, "");
}

// A client that ends lines in bare LF must not be able to end the data
// early and slip in a second transaction.
std::vector<std::string> SmugglingInputs() {
  std::vector<std::string> inputs;
  for (const char* fake_end : {"\n.\n", "\n.\r\n", "\r\n.\n"}) {
    inputs.push_back(std::string("Subject: first\r\n\r\nhello") + fake_end +
                     "MAIL FROM:<ceo@example.com>\r\n"
                     "RCPT TO:<bob@example.net>\r\n"
                     "DATA\r\n"
                     "Subject: forged\r\n\r\nx\r\n.\r\nQUIT\r\n");
  }
  return inputs;
}

TEST(DataScannerTest, SmugglingNormalizedIntoOneMessage) {
  for (const std::string& input : SmugglingInputs()) {
    SCOPED_TRACE(input);
    const ScanOutcome out = ScanWhole(input, kNormalize);
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.rest, "QUIT\r\n");
    EXPECT_FALSE(out.rejected);
    EXPECT_NE(out.body.find("MAIL FROM:<ceo@example.com>\r\n"),
              std::string::npos);
    EXPECT_NE(out.body.find("Subject: forged"), std::string::npos);
    EXPECT_FALSE(HasBareLineEnding(out.body));
    // What the next hop receives: the DATA command's CRLF, the body and
    // the one end-of-data line we add.
    EXPECT_EQ(CountOccurrences("\r\n" + out.body + ".\r\n", "\r\n.\r\n"), 1);
  }
}

TEST(DataScannerTest, SmugglingRejectedAtRealEnd) {
  for (const std::string& input : SmugglingInputs()) {
    SCOPED_TRACE(input);
    const ScanOutcome out = ScanWhole(input, kReject);
    EXPECT_TRUE(out.done);
    EXPECT_TRUE(out.rejected);
    EXPECT_EQ(out.rest, "QUIT\r\n");
    EXPECT_FALSE(HasBareLineEnding(out.body));
    EXPECT_EQ(out.body.find("MAIL FROM"), std::string::npos);
  }
}

TEST(DataScannerTest, SmugglingEverySplitNormalized) {
  for (const std::string& input : SmugglingInputs()) {
    const ScanOutcome whole = ScanWhole(input, kNormalize);
    for (size_t k = 1; k < input.size(); ++k) {
      SCOPED_TRACE(k);
      const ScanOutcome split =
          ScanPieces({input.substr(0, k), input.substr(k)});
      EXPECT_EQ(split.body, whole.body);
      EXPECT_EQ(split.rest, whole.rest);
    }
  }
}

TEST(DataScannerTest, DotTransparency) {
  const std::string input =
      "Subject: dots\r\n\r\n..\r\n...two\r\n\r\n..\r\nend\r\n.\r\n";
  const std::string content =
      "Subject: dots\r\n\r\n.\r\n..two\r\n\r\n.\r\nend\r\n";
  for (BareLineEnding policy : {kNormalize, kReject}) {
    const ScanOutcome out = ScanWhole(input, policy);
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.body,
              "Subject: dots\r\n\r\n..\r\n...two\r\n\r\n..\r\nend\r\n");
    EXPECT_EQ(Unstuff(out.body), content);
    EXPECT_EQ(out.size, content.size());
    EXPECT_FALSE(out.rejected);
  }
}

TEST(DataScannerTest, TwoHundredThousandDotLines) {
  std::string lines;
  for (int i = 0; i < 200000; ++i) lines += "..\r\n";
  const ScanOutcome out = ScanPieces(PiecesOf(lines + ".\r\n", 16 * 1024));
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.body.size(), lines.size());
  EXPECT_TRUE(out.body == lines);
  EXPECT_EQ(out.size, 3u * 200000);
  EXPECT_EQ(out.rest, "");
}

TEST(DataScannerTest, TerminatorSplitThreeWays) {
  const ScanOutcome out = ScanPieces({"abc\r", "\n.", "\r\nNOOP\r\n"});
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.body, "abc\r\n");
  EXPECT_EQ(out.rest, "NOOP\r\n");
}

TEST(DataScannerTest, TerminatorSplitAfterDotCr) {
  const ScanOutcome out = ScanPieces({"abc\r\n.\r", "\nRSET\r\n"});
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.body, "abc\r\n");
  EXPECT_EQ(out.rest, "RSET\r\n");
}

TEST(DataScannerTest, LoneDotBareCrSplitAfterCr) {
  const ScanOutcome out = ScanPieces({"a\r\n.\r", "b\r\n.\r\n"});
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.body, "a\r\n..\r\nb\r\n");
}

TEST(DataScannerTest, EveryOneByteSplit) {
  for (const Case& c : Cases()) {
    for (BareLineEnding policy : {kNormalize, kReject}) {
      DataScannerOptions options;
      options.bare_line_ending = policy;
      const ScanOutcome whole = ScanPieces({c.input}, options);
      for (size_t k = 1; k < c.input.size(); ++k) {
        SCOPED_TRACE(std::string(c.name) + " split at " + std::to_string(k));
        const ScanOutcome split =
            ScanPieces({c.input.substr(0, k), c.input.substr(k)}, options);
        EXPECT_EQ(split.body, whole.body);
        EXPECT_EQ(split.rest, whole.rest);
        EXPECT_EQ(split.rejected, whole.rejected);
        EXPECT_EQ(split.size, whole.size);
      }
      SCOPED_TRACE(std::string(c.name) + " byte by byte");
      const ScanOutcome bytes = ScanPieces(PiecesOf(c.input, 1), options);
      EXPECT_EQ(bytes.body, whole.body);
      EXPECT_EQ(bytes.rest, whole.rest);
      EXPECT_EQ(bytes.size, whole.size);
    }
  }
}

TEST(DataScannerTest, RandomInputsMatchModel) {
  std::mt19937 random(20240601);
  const char alphabet[] = {'a', '.', '\r', '\n', 'R'};
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    const int length = static_cast<int>(random() % 40);
    for (int i = 0; i < length; ++i) input += alphabet[random() % 5];
    input += "\r\n.\r\nNEXT";
    // Up to three random cut points.
    std::vector<size_t> cuts;
    for (int i = 0; i < 3; ++i) cuts.push_back(random() % input.size());
    std::sort(cuts.begin(), cuts.end());
    std::vector<std::string> pieces;
    size_t from = 0;
    for (size_t cut : cuts) {
      pieces.push_back(input.substr(from, cut - from));
      from = cut;
    }
    pieces.push_back(input.substr(from));
    for (BareLineEnding policy : {kNormalize, kReject}) {
      SCOPED_TRACE(testing::PrintToString(input));
      DataScannerOptions options;
      options.bare_line_ending = policy;
      const ScanOutcome expected = Model(input, policy);
      const ScanOutcome out = ScanPieces(pieces, options);
      ASSERT_TRUE(expected.done);
      EXPECT_TRUE(out.done);
      EXPECT_EQ(out.body, expected.body);
      EXPECT_EQ(out.rest, expected.rest);
      EXPECT_EQ(out.rejected, expected.rejected);
      EXPECT_EQ(out.size, expected.size);
      EXPECT_FALSE(HasBareLineEnding(out.body));
    }
  }
}

TEST(DataScannerTest, BareLfAcrossChunks) {
  std::string input;
  std::string expected;
  for (int i = 0; i < 50000; ++i) {
    input += (i % 7 == 0) ? ".x\n" : "line\n";
    expected += (i % 7 == 0) ? "..x\r\n" : "line\r\n";
  }
  // The first ".x" follows the DATA command's CRLF, so it was stuffed.
  expected.erase(0, 1);
  input += "\r\n.\r\nQUIT\r\n";
  expected += "\r\n";
  const ScanOutcome out = ScanPieces(PiecesOf(input, 100000));
  EXPECT_TRUE(out.done);
  EXPECT_TRUE(out.body == expected);
  EXPECT_EQ(out.rest, "QUIT\r\n");
}

TEST(DataScannerTest, SizeCountsUnstuffed) {
  EXPECT_EQ(ScanWhole("..a\r\n.\r\n", kNormalize).size, 4u);
  EXPECT_EQ(ScanWhole("a\nb\r\n.\r\n", kNormalize).size, 6u);
  EXPECT_EQ(ScanWhole(".\r\n", kNormalize).size, 0u);
}

TEST(DataScannerTest, CountsReceivedInHeaderOnly) {
  const std::string input =
      "Received: from a\r\n"
      "\tby b\r\n"
      "received: from c\r\n"
      "RECEIVED:from d\r\n"
      "X-Received: no\r\n"
      "Received-SPF: pass\r\n"
      "Receive: no\r\n"
      "\r\n"
      "Received: in the body\r\n"
      ".\r\n";
  EXPECT_EQ(ScanWhole(input, kNormalize).received_count, 3);
  EXPECT_EQ(ScanPieces(PiecesOf(input, 1)).received_count, 3);
  EXPECT_EQ(ScanPieces(PiecesOf(input, 5)).received_count, 3);
}

TEST(DataScannerTest, FlagsEightBit) {
  EXPECT_TRUE(ScanWhole("caf\xc3\xa9\r\n.\r\n", kNormalize).has_8bit);
  EXPECT_FALSE(ScanWhole("cafe\r\n.\r\n", kNormalize).has_8bit);
}

TEST(DataScannerTest, FlagsEightBitAfterRewrite) {
  EXPECT_TRUE(ScanWhole("a\n\xff\r\n.\r\n", kNormalize).has_8bit);
  EXPECT_TRUE(ScanWhole("a\n\xff"
                        "b\r\n.\r\n",
                        kNormalize)
                  .has_8bit);
  EXPECT_TRUE(ScanWhole(".\xff\r\n.\r\n", kNormalize).has_8bit);
}

TEST(DataScannerTest, EightBitAfterEndNotCounted) {
  EXPECT_FALSE(ScanWhole("a\r\n.\r\n\xff\r\n", kNormalize).has_8bit);
}

TEST(DataScannerTest, TooLargeKeepsScanning) {
  DataScannerOptions options;
  options.max_size = 10;
  const ScanOutcome out = ScanPieces(
      {"0123456789\r\n", "0123456789\r\n", ".\r\nNOOP\r\n"}, options);
  EXPECT_TRUE(out.done);
  EXPECT_TRUE(out.too_large);
  EXPECT_EQ(out.size, 24u);
  EXPECT_EQ(out.rest, "NOOP\r\n");
  EXPECT_LE(out.body.size(), 12u);
}

TEST(DataScannerTest, ExactlyMaxSizeFits) {
  DataScannerOptions options;
  options.max_size = 5;
  const ScanOutcome out = ScanPieces({"abc\r\n.\r\n"}, options);
  EXPECT_FALSE(out.too_large);
  EXPECT_EQ(out.body, "abc\r\n");
}

TEST(DataScannerTest, TooLargeBodyStaysBounded) {
  DataScannerOptions options;
  options.max_size = 1000;
  DataScanner scanner(options);
  MessageBody body;
  std::string rest;
  const std::string line(998, 'x');
  for (int i = 0; i < 1000; ++i) {
    body.Append(line + "\r\n");
    ASSERT_FALSE(scanner.Scan(&body, &rest));
    EXPECT_LE(body.size(), options.max_size + line.size() + 2);
  }
  body.Append(".\r\n");
  EXPECT_TRUE(scanner.Scan(&body, &rest));
  EXPECT_TRUE(scanner.too_large());
  EXPECT_EQ(scanner.size(), 1000u * 1000);
}

TEST(DataScannerTest, LongLineWithoutLfStaysBounded) {
  DataScannerOptions options;
  options.max_size = 4096;
  DataScanner scanner(options);
  MessageBody body;
  std::string rest;
  const std::string block(MessageBody::kChunkSize, 'y');
  for (int i = 0; i < 64; ++i) {
    body.Append(block);
    ASSERT_FALSE(scanner.Scan(&body, &rest));
    EXPECT_LE(body.size(), options.max_size + block.size());
  }
  EXPECT_TRUE(scanner.too_large());
}

TEST(DataScannerTest, RejectStopsStoringAtBareLine) {
  const ScanOutcome out = ScanWhole("one\r\ntwo\nthree\r\n.\r\n", kReject);
  EXPECT_TRUE(out.rejected);
  EXPECT_EQ(out.body, "one\r\n");
}

TEST(DataScannerTest, BodyUntouchedWithoutRewrite) {
  // The fast path leaves the received bytes where they are.
  DataScanner scanner({});
  MessageBody body;
  body.Append("Subject: x\r\n\r\nbody\r\n");
  const char* before = body.ContiguousAt(0).data();
  std::string rest;
  EXPECT_FALSE(scanner.Scan(&body, &rest));
  EXPECT_EQ(body.ContiguousAt(0).data(), before);
  EXPECT_EQ(body.ToString(), "Subject: x\r\n\r\nbody\r\n");
}

}  // namespace
}  // namespace ferry::smtp
