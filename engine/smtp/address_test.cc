#include "engine/smtp/address.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

using std::literals::string_view_literals::operator""sv;

struct ValidCase {
  std::string_view input;
  PathKind kind;
  std::string_view local_part;
  std::string_view domain;
  std::string_view text;
  bool utf8;
};

class ValidPathTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidPathTest, ParsesPieces) {
  const ValidCase& c = GetParam();
  absl::StatusOr<Path> path = ParsePath(c.input, c.kind);
  ASSERT_TRUE(path.ok()) << c.input << ": " << path.status();
  EXPECT_FALSE(path->null);
  EXPECT_EQ(path->local_part, c.local_part);
  EXPECT_EQ(path->domain, c.domain);
  EXPECT_EQ(path->text, c.text);
  EXPECT_EQ(path->utf8, c.utf8);
}

constexpr PathKind kMail = PathKind::kReversePath;
constexpr PathKind kRcpt = PathKind::kForwardPath;

INSTANTIATE_TEST_SUITE_P(
    Paths, ValidPathTest,
    testing::Values(
        ValidCase{"<alice@example.com>", kMail, "alice", "example.com",
                  "alice@example.com", false},
        ValidCase{"<Alice.Smith@Example.COM>", kMail, "Alice.Smith",
                  "Example.COM", "Alice.Smith@Example.COM", false},
        ValidCase{"<\"odd user\"@example.com>", kMail, "\"odd user\"",
                  "example.com", "\"odd user\"@example.com", false},
        ValidCase{"<\"foo@example.org> ORCPT=rfc822;x@example.org\""
                  "@example.net>",
                  kRcpt, "\"foo@example.org> ORCPT=rfc822;x@example.org\"",
                  "example.net",
                  "\"foo@example.org> ORCPT=rfc822;x@example.org\""
                  "@example.net",
                  false},
        ValidCase{"<a+caf_=x=y@example.net>", kRcpt, "a+caf_=x=y",
                  "example.net", "a+caf_=x=y@example.net", false},
        ValidCase{"<SRS0=ab/c=12=example.com=alice@example.net>", kRcpt,
                  "SRS0=ab/c=12=example.com=alice", "example.net",
                  "SRS0=ab/c=12=example.com=alice@example.net", false},
        ValidCase{"<\"a\\\"b\"@example.net>", kRcpt, "\"a\\\"b\"",
                  "example.net", "\"a\\\"b\"@example.net", false},
        ValidCase{"<\"\"@example.net>", kRcpt, "\"\"", "example.net",
                  "\"\"@example.net", false},
        ValidCase{"<@hop1.example.com:alice@example.com>", kMail, "alice",
                  "example.com", "alice@example.com", false},
        ValidCase{"<@hop1.example.com,@hop2.example.org:bob@example.net>",
                  kRcpt, "bob", "example.net", "bob@example.net", false},
        ValidCase{"<bob@[192.0.2.1]>", kRcpt, "bob", "[192.0.2.1]",
                  "bob@[192.0.2.1]", false},
        ValidCase{"<bob@[IPv6:2001:db8::1]>", kRcpt, "bob",
                  "[IPv6:2001:db8::1]", "bob@[IPv6:2001:db8::1]", false},
        ValidCase{"<bob@[x-tag:anything]>", kRcpt, "bob", "[x-tag:anything]",
                  "bob@[x-tag:anything]", false},
        ValidCase{"<Postmaster>", kRcpt, "Postmaster", "", "Postmaster", false},
        ValidCase{"<j\xC3\xB6rg@b\xC3\xBC"
                  "cher.example>",
                  kRcpt, "j\xC3\xB6rg",
                  "b\xC3\xBC"
                  "cher.example",
                  "j\xC3\xB6rg@b\xC3\xBC"
                  "cher.example",
                  true},
        ValidCase{"<\"\xE2\x82\xAC x\"@example.net>", kRcpt,
                  "\"\xE2\x82\xAC x\"", "example.net",
                  "\"\xE2\x82\xAC x\"@example.net", true},
        ValidCase{"<1-2.x@a-b.9.example>", kRcpt, "1-2.x", "a-b.9.example",
                  "1-2.x@a-b.9.example", false}));

struct InvalidCase {
  std::string_view input;
  PathKind kind;
};

class InvalidPathTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidPathTest, ReturnsInvalidArgument) {
  const InvalidCase& c = GetParam();
  absl::StatusOr<Path> path = ParsePath(c.input, c.kind);
  EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument)
      << c.input;
  EXPECT_FALSE(path.status().message().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Paths, InvalidPathTest,
    testing::Values(
        InvalidCase{"", kMail}, InvalidCase{"alice@example.com", kMail},
        InvalidCase{"<alice@example.com", kMail}, InvalidCase{"<>", kRcpt},
        InvalidCase{"<alice>", kMail}, InvalidCase{"<alice>", kRcpt},
        InvalidCase{"<Postmaster>", kMail},
        InvalidCase{"<;touch /tmp/x;>", kMail},
        InvalidCase{"<;touch@example.com>", kMail},
        InvalidCase{"<a b@example.com>", kMail},
        InvalidCase{"<\"unterminated@example.net>", kRcpt},
        InvalidCase{"<@hop1.example.com bob@example.net>", kRcpt},
        InvalidCase{"<@hop1.example.com>", kRcpt},
        InvalidCase{"<@:bob@example.net>", kRcpt},
        InvalidCase{"<@hop1.example.com,bob@example.net>", kRcpt},
        InvalidCase{"<.alice@example.com>", kMail},
        InvalidCase{"<alice.@example.com>", kMail},
        InvalidCase{"<al..ice@example.com>", kMail},
        InvalidCase{"<alice@>", kMail},
        InvalidCase{"<alice@example.com.>", kMail},
        InvalidCase{"<alice@.example.com>", kMail},
        InvalidCase{"<alice@-example.com>", kMail},
        InvalidCase{"<alice@example-.com>", kMail},
        InvalidCase{"<alice@exa_mple.com>", kMail},
        InvalidCase{"<alice@example.com>x", kMail},
        InvalidCase{"<alice@example.com> ", kMail},
        InvalidCase{"<alice@@example.com>", kMail},
        InvalidCase{"<alice@[192.0.2.256]>", kMail},
        InvalidCase{"<alice@[192.0.2]>", kMail},
        InvalidCase{"<alice@[1.2.3.4.5]>", kMail},
        InvalidCase{"<alice@[0001.2.3.4]>", kMail},
        InvalidCase{"<alice@[IPv6:2001:db8::g]>", kMail},
        InvalidCase{"<alice@[192.0.2.1>", kMail},
        InvalidCase{"<alice@[]>", kMail},
        InvalidCase{"<\"a\\\x01\"@example.com>", kMail},
        InvalidCase{"<\"a\x01\"@example.com>", kMail},
        InvalidCase{"<al\x7Fice@example.com>", kMail},
        InvalidCase{"<al\x00ice@example.com>"sv, kMail},
        InvalidCase{"<caf\xC3@example.com>", kMail},          // truncated
        InvalidCase{"<caf\xC0\xA9@example.com>", kMail},      // overlong
        InvalidCase{"<caf\xED\xA0\x80@example.com>", kMail},  // surrogate
        InvalidCase{"<alice@caf\xFF.example>", kMail}));

TEST(ParsePathTest, NullReversePathAccepted) {
  absl::StatusOr<Path> path = ParsePath("<>", PathKind::kReversePath);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_TRUE(path->null);
  EXPECT_EQ(path->text, "");
  EXPECT_EQ(path->local_part, "");
  EXPECT_EQ(path->domain, "");
}

TEST(ParsePathTest, LocalPartLimitIs64Octets) {
  const std::string at_limit = std::string(64, 'a');
  EXPECT_TRUE(ParsePath("<" + at_limit + "@example.com>", kMail).ok());
  absl::StatusOr<Path> over =
      ParsePath("<a" + at_limit + "@example.com>", kMail);
  EXPECT_FALSE(over.ok());
  EXPECT_TRUE(absl::StrContains(over.status().message(), "local part"))
      << over.status();
}

TEST(ParsePathTest, QuotedLocalPartLimitCountsQuotes) {
  const std::string inside = std::string(62, 'a');
  EXPECT_TRUE(ParsePath("<\"" + inside + "\"@example.com>", kMail).ok());
  EXPECT_FALSE(ParsePath("<\"a" + inside + "\"@example.com>", kMail).ok());
}

std::string DomainOfLength(size_t length) {
  std::string domain;
  while (domain.size() < length) {
    if (!domain.empty()) domain += '.';
    domain += std::string(std::min<size_t>(63, length - domain.size()), 'd');
  }
  return domain;
}

TEST(ParsePathTest, DomainOver255OctetsRejected) {
  // The 256-octet path limit is reached first, so this only checks that a
  // long domain cannot slip through.
  const std::string over = DomainOfLength(256);
  ASSERT_EQ(over.size(), 256u);
  EXPECT_FALSE(ParsePath("<a@" + over + ">", kMail).ok());
}

TEST(ParsePathTest, LabelLimitIs63Octets) {
  EXPECT_TRUE(
      ParsePath("<a@" + std::string(63, 'x') + ".example>", kMail).ok());
  EXPECT_FALSE(
      ParsePath("<a@" + std::string(64, 'x') + ".example>", kMail).ok());
}

TEST(ParsePathTest, PathLimitIs256Octets) {
  // 1 + 64 + 1 + 189 + 1 = 256 octets with the brackets.
  const std::string at_limit =
      "<" + std::string(64, 'a') + "@" + DomainOfLength(189) + ">";
  ASSERT_EQ(at_limit.size(), 256u);
  EXPECT_TRUE(ParsePath(at_limit, kMail).ok());
  const std::string over =
      "<" + std::string(64, 'a') + "@" + DomainOfLength(190) + ">";
  absl::StatusOr<Path> bad = ParsePath(over, kMail);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "256")) << bad.status();
}

TEST(ConsumePathTest, LeavesParametersInInput) {
  std::string_view input = "<\"x> y\"@example.net> ORCPT=rfc822;x@example.net";
  absl::StatusOr<Path> path = ConsumePath(&input, kRcpt);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(path->text, "\"x> y\"@example.net");
  EXPECT_EQ(input, " ORCPT=rfc822;x@example.net");
}

TEST(ConsumePathTest, FailureLeavesInputUnchanged) {
  std::string_view input = "<bad-syntax";
  EXPECT_FALSE(ConsumePath(&input, kRcpt).ok());
  EXPECT_EQ(input, "<bad-syntax");
}

TEST(ParsePathTest, ErrorNamesInvalidCharacter) {
  absl::StatusOr<Path> path = ParsePath("<;touch /tmp/x;>", kMail);
  ASSERT_FALSE(path.ok());
  EXPECT_TRUE(absl::StrContains(path.status().message(), "';'"))
      << path.status();
}

TEST(ParsePathTest, ErrorHidesControlCharacters) {
  absl::StatusOr<Path> path = ParsePath("<a\x01@example.com>", kMail);
  ASSERT_FALSE(path.ok());
  EXPECT_TRUE(absl::StrContains(path.status().message(), "0x01"))
      << path.status();
  EXPECT_FALSE(absl::StrContains(path.status().message(), "\x01"));
}

}  // namespace
}  // namespace ferry::smtp
