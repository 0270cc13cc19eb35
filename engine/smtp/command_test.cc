#include "engine/smtp/command.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

constexpr uint64_t kLimit = 1048576;

ParsedCommand Parse(std::string_view line) {
  CommandLimits limits;
  limits.max_message_size = kLimit;
  return ParseCommand(line, limits);
}

struct ErrorCase {
  std::string_view line;
  Verb verb;
  int code;
  std::string_view enhanced;
};

class CommandErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(CommandErrorTest, RejectsWithReply) {
  const ErrorCase& c = GetParam();
  const ParsedCommand parsed = Parse(c.line);
  ASSERT_FALSE(parsed.ok()) << c.line;
  EXPECT_EQ(parsed.command.verb, c.verb) << c.line;
  EXPECT_EQ(parsed.error->code, c.code) << c.line;
  EXPECT_EQ(parsed.error->enhanced, c.enhanced) << c.line;
  ASSERT_EQ(parsed.error->lines.size(), 1u);
  EXPECT_FALSE(parsed.error->lines[0].empty());
}

INSTANTIATE_TEST_SUITE_P(
    Lines, CommandErrorTest,
    testing::Values(
        // Verbs.
        ErrorCase{"", Verb::kUnknown, 500, "5.5.2"},
        ErrorCase{"   ", Verb::kUnknown, 500, "5.5.2"},
        ErrorCase{"XYZZY", Verb::kUnknown, 500, "5.5.1"},
        ErrorCase{"MAILFROM:<a@example.com>", Verb::kUnknown, 500, "5.5.1"},
        ErrorCase{"STARTTLS", Verb::kUnknown, 500, "5.5.1"},
        ErrorCase{"EHLO", Verb::kEhlo, 501, "5.5.4"},
        ErrorCase{"HELO   ", Verb::kHelo, 501, "5.5.4"},
        ErrorCase{"EHLO two words", Verb::kEhlo, 501, "5.5.4"},
        ErrorCase{"EHLO a\x01z", Verb::kEhlo, 501, "5.5.4"},
        ErrorCase{"DATA now", Verb::kData, 501, "5.5.4"},
        ErrorCase{"RSET x", Verb::kRset, 501, "5.5.4"},
        ErrorCase{"QUIT x", Verb::kQuit, 501, "5.5.4"},
        ErrorCase{"VRFY", Verb::kVrfy, 501, "5.5.4"},
        ErrorCase{"BDAT", Verb::kBdat, 501, "5.5.4"},
        ErrorCase{"BDAT x", Verb::kBdat, 501, "5.5.4"},
        ErrorCase{"BDAT -1", Verb::kBdat, 501, "5.5.4"},
        ErrorCase{"BDAT 10 FIRST", Verb::kBdat, 501, "5.5.4"},
        ErrorCase{"BDAT 10 LAST x", Verb::kBdat, 501, "5.5.4"},
        ErrorCase{"ETRN", Verb::kEtrn, 501, "5.5.4"},
        ErrorCase{"ETRN example..net", Verb::kEtrn, 501, "5.5.4"},
        ErrorCase{"ETRN a.example b.example", Verb::kEtrn, 501, "5.5.4"},
        ErrorCase{"BDAT 99999999999999999999999", Verb::kBdat, 501, "5.5.4"},
        // MAIL and RCPT syntax.
        ErrorCase{"MAIL <a@example.com>", Verb::kMail, 501, "5.5.4"},
        ErrorCase{"MAIL TO:<a@example.com>", Verb::kMail, 501, "5.5.4"},
        ErrorCase{"RCPT FROM:<a@example.com>", Verb::kRcpt, 501, "5.5.4"},
        ErrorCase{"MAIL FROM:a@example.com", Verb::kMail, 501, "5.1.7"},
        ErrorCase{"MAIL FROM:  <a@example.com>", Verb::kMail, 501, "5.1.7"},
        ErrorCase{"MAIL FROM:<;touch /tmp/x;>", Verb::kMail, 501, "5.1.7"},
        ErrorCase{"MAIL FROM:<a@example.com>SIZE=1", Verb::kMail, 501, "5.1.7"},
        ErrorCase{"RCPT TO:<>", Verb::kRcpt, 501, "5.1.3"},
        ErrorCase{"RCPT TO:<bad-syntax", Verb::kRcpt, 501, "5.1.3"},
        ErrorCase{"RCPT TO:<\"unterminated@example.net>", Verb::kRcpt, 501,
                  "5.1.3"},
        ErrorCase{"RCPT TO:<@hop1.example.com bob@example.net>", Verb::kRcpt,
                  501, "5.1.3"},
        // Parameter syntax.
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> =x", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> X-FOO=a=b", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> BODY=8BITMIME BODY=7BIT",
                  Verb::kMail, 501, "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> body=7bit BODY=7BIT",
                  Verb::kMail, 501, "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> -X=1", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> X_Y=1", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> X=a\x01", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=abc", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=-1", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> BODY=BINARYMIME", Verb::kMail,
                  501, "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> BODY", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SMTPUTF8=yes", Verb::kMail,
                  501, "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> RET=ALL", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> ENVID=a+2", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> ENVID=a+zz", Verb::kMail, 501,
                  "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> NOTIFY=SOMETIMES", Verb::kRcpt,
                  501, "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> NOTIFY=NEVER,DELAY", Verb::kRcpt,
                  501, "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> NOTIFY=SUCCESS,", Verb::kRcpt, 501,
                  "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> ORCPT=rfc822", Verb::kRcpt, 501,
                  "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> ORCPT=;x@example.net", Verb::kRcpt,
                  501, "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> ORCPT=rfc822;", Verb::kRcpt, 501,
                  "5.5.4"},
        // Unsupported but well formed.
        ErrorCase{"MAIL FROM:<alice@example.com> FOO", Verb::kMail, 555,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> AUTH=<>", Verb::kMail, 555,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> NOTIFY=NEVER", Verb::kMail,
                  555, "5.5.4"},
        ErrorCase{"RCPT TO:<bob@example.net> SIZE=10", Verb::kRcpt, 555,
                  "5.5.4"},
        // SIZE limit.
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=99999999999999999999999",
                  Verb::kMail, 552, "5.3.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=18446744073709551616",
                  Verb::kMail, 552, "5.3.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=2000000", Verb::kMail,
                  552, "5.3.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE=1048577", Verb::kMail,
                  552, "5.3.4"},
        // Left to right: the first problem decides.
        ErrorCase{"MAIL FROM:<alice@example.com> FOO SIZE=", Verb::kMail, 555,
                  "5.5.4"},
        ErrorCase{"MAIL FROM:<alice@example.com> SIZE= FOO", Verb::kMail, 501,
                  "5.5.4"}));

struct VerbCase {
  std::string_view line;
  Verb verb;
  std::string_view argument;
};

class CommandVerbTest : public testing::TestWithParam<VerbCase> {};

TEST_P(CommandVerbTest, ParsesVerbAndArgument) {
  const VerbCase& c = GetParam();
  const ParsedCommand parsed = Parse(c.line);
  ASSERT_TRUE(parsed.ok()) << c.line << ": " << parsed.error->Summary();
  EXPECT_EQ(parsed.command.verb, c.verb) << c.line;
  EXPECT_EQ(parsed.command.argument, c.argument) << c.line;
}

INSTANTIATE_TEST_SUITE_P(
    Lines, CommandVerbTest,
    testing::Values(
        VerbCase{"EHLO client.example", Verb::kEhlo, "client.example"},
        VerbCase{"ehlo client.example", Verb::kEhlo, "client.example"},
        VerbCase{"EHLO [192.0.2.1]", Verb::kEhlo, "[192.0.2.1]"},
        VerbCase{"EhLo my_host ", Verb::kEhlo, "my_host"},
        VerbCase{"HELO client.example", Verb::kHelo, "client.example"},
        VerbCase{"DATA", Verb::kData, ""}, VerbCase{"data ", Verb::kData, ""},
        VerbCase{"RSET", Verb::kRset, ""}, VerbCase{"NOOP", Verb::kNoop, ""},
        VerbCase{"noop anything at all", Verb::kNoop, "anything at all"},
        VerbCase{"QUIT", Verb::kQuit, ""},
        VerbCase{"VRFY bob", Verb::kVrfy, "bob"},
        VerbCase{"HELP", Verb::kHelp, ""},
        VerbCase{"HELP MAIL", Verb::kHelp, "MAIL"}));

TEST(ParseCommandTest, EtrnNode) {
  const ParsedCommand parsed = Parse("etrn @Example.NET");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.verb, Verb::kEtrn);
  EXPECT_EQ(parsed.command.etrn.kind, EtrnNode::Kind::kSubdomains);
  EXPECT_EQ(parsed.command.etrn.name, "example.net");
  EXPECT_EQ(parsed.command.etrn.text, "@Example.NET");
}

TEST(ParseCommandTest, MailKeepsAddressCase) {
  const ParsedCommand parsed =
      Parse("mail from:<Alice.Smith@Example.COM> body=8bitmime");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.verb, Verb::kMail);
  EXPECT_EQ(parsed.command.path.text, "Alice.Smith@Example.COM");
  EXPECT_TRUE(parsed.command.mail.body_8bitmime);
}

TEST(ParseCommandTest, MailToleratesSpaceAfterColon) {
  const ParsedCommand parsed = Parse("MAIL FROM: <alice@example.com>");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.path.text, "alice@example.com");
}

TEST(ParseCommandTest, MailNullSender) {
  const ParsedCommand parsed = Parse("MAIL FROM:<>");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_TRUE(parsed.command.path.null);
  EXPECT_EQ(parsed.command.path.text, "");
}

TEST(ParseCommandTest, MailSourceRouteRemoved) {
  const ParsedCommand parsed =
      Parse("MAIL FROM:<@hop1.example.com:alice@example.com>");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.path.text, "alice@example.com");
}

TEST(ParseCommandTest, MailAllParameters) {
  const ParsedCommand parsed = Parse(
      "MAIL FROM:<alice@example.com> SIZE=1048576 BODY=8BITMIME SMTPUTF8 "
      "RET=hdrs ENVID=QQ+2B1");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  const MailParameters& mail = parsed.command.mail;
  ASSERT_TRUE(mail.size.has_value());
  EXPECT_EQ(*mail.size, 1048576u);
  EXPECT_TRUE(mail.body_8bitmime);
  EXPECT_TRUE(mail.smtputf8);
  EXPECT_EQ(mail.ret, "HDRS");
  EXPECT_EQ(mail.envid, "QQ+2B1");
}

TEST(ParseCommandTest, MailWithoutParametersHasDefaults) {
  const ParsedCommand parsed = Parse("MAIL FROM:<alice@example.com>");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  const MailParameters& mail = parsed.command.mail;
  EXPECT_FALSE(mail.size.has_value());
  EXPECT_FALSE(mail.body_8bitmime);
  EXPECT_FALSE(mail.smtputf8);
  EXPECT_EQ(mail.ret, "");
  EXPECT_EQ(mail.envid, "");
}

TEST(ParseCommandTest, MailBody7BitLeavesFlagFalse) {
  const ParsedCommand parsed = Parse("MAIL FROM:<a@example.com> BODY=7BIT");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_FALSE(parsed.command.mail.body_8bitmime);
}

TEST(ParseCommandTest, MailToleratesExtraSpaces) {
  const ParsedCommand parsed =
      Parse("MAIL FROM:<a@example.com>  SIZE=10   BODY=7BIT  ");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  ASSERT_TRUE(parsed.command.mail.size.has_value());
  EXPECT_EQ(*parsed.command.mail.size, 10u);
}

TEST(ParseCommandTest, MailSizeAtLimitAccepted) {
  const ParsedCommand parsed = Parse("MAIL FROM:<a@example.com> SIZE=1048576");
  EXPECT_TRUE(parsed.ok());
}

TEST(ParseCommandTest, RcptQuotedLocalPartWithParameterText) {
  const ParsedCommand parsed = Parse(
      "RCPT TO:<\"foo@example.org> ORCPT=rfc822;x@example.org\"@example.net>");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.path.domain, "example.net");
  EXPECT_EQ(parsed.command.path.text,
            "\"foo@example.org> ORCPT=rfc822;x@example.org\"@example.net");
  EXPECT_EQ(parsed.command.rcpt.orcpt, "");
}

TEST(ParseCommandTest, RcptDsnParameters) {
  const ParsedCommand parsed = Parse(
      "RCPT TO:<bob@example.net> NOTIFY=failure,Delay "
      "ORCPT=rfc822;Bob+40example.net");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.rcpt.notify, "FAILURE,DELAY");
  EXPECT_EQ(parsed.command.rcpt.orcpt, "rfc822;Bob+40example.net");
}

TEST(ParseCommandTest, RcptNotifyNever) {
  const ParsedCommand parsed = Parse("RCPT TO:<bob@example.net> NOTIFY=never");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.rcpt.notify, "NEVER");
}

TEST(ParseCommandTest, RcptAddressesKeptExactly) {
  for (std::string_view address :
       {"a+caf_=x=y@example.net", "SRS0=ab/c=12=example.com=alice@example.net",
        "\"a\\\"b\"@example.net"}) {
    const ParsedCommand parsed =
        Parse(std::string("RCPT TO:<") + std::string(address) + ">");
    ASSERT_TRUE(parsed.ok()) << address;
    EXPECT_EQ(parsed.command.path.text, address);
  }
}

TEST(ParseCommandTest, RcptPostmasterWithoutDomain) {
  const ParsedCommand parsed = Parse("RCPT TO:<postmaster>");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.path.text, "postmaster");
  EXPECT_EQ(parsed.command.path.domain, "");
}

TEST(ParseCommandTest, BdatChunk) {
  const ParsedCommand parsed = Parse("BDAT 1000");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.chunk_size, 1000u);
  EXPECT_FALSE(parsed.command.last_chunk);
}

TEST(ParseCommandTest, BdatLastChunk) {
  const ParsedCommand parsed = Parse("bdat 0 last");
  ASSERT_TRUE(parsed.ok()) << parsed.error->Summary();
  EXPECT_EQ(parsed.command.chunk_size, 0u);
  EXPECT_TRUE(parsed.command.last_chunk);
}

TEST(ParseCommandTest, PathErrorMessageNamesProblem) {
  const ParsedCommand parsed = Parse("MAIL FROM:<;touch /tmp/x;>");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error->Summary(),
            "501 5.1.7 Invalid sender address: invalid character ';' in the "
            "local part");
}

TEST(ParseCommandTest, UnsupportedParameterNamed) {
  const ParsedCommand parsed = Parse("MAIL FROM:<a@example.com> foo");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error->Summary(), "555 5.5.4 Unsupported parameter FOO");
}

}  // namespace
}  // namespace ferry::smtp
