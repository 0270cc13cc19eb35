#include "engine/delivery/dsn.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::delivery {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kArrival = absl::FromUnixSeconds(1700000000);
const absl::Time kNow = kArrival + absl::Hours(2);

// A message or body part split into unfolded header fields and a body.
struct Entity {
  std::vector<std::string> fields;  // "Name: value", unfolded
  std::string body;

  // Returns the value of the first field called `name`, or "".
  std::string Field(absl::string_view name) const {
    const std::string prefix = absl::StrCat(name, ": ");
    for (const std::string& field : fields) {
      if (absl::StartsWith(field, prefix)) return field.substr(prefix.size());
    }
    return "";
  }
};

Entity ParseEntity(absl::string_view text) {
  Entity entity;
  const size_t end = text.find("\r\n\r\n");
  const absl::string_view header =
      end == absl::string_view::npos ? text : text.substr(0, end);
  if (end != absl::string_view::npos)
    entity.body = std::string(text.substr(end + 4));
  for (absl::string_view line : absl::StrSplit(header, "\r\n")) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') &&
        !entity.fields.empty()) {
      absl::StrAppend(&entity.fields.back(), line);
    } else {
      entity.fields.emplace_back(line);
    }
  }
  return entity;
}

// Returns the boundary parameter of a multipart Content-Type value.
std::string Boundary(absl::string_view content_type) {
  const size_t start = content_type.find("boundary=\"");
  if (start == absl::string_view::npos) return "";
  const size_t begin = start + 10;
  return std::string(
      content_type.substr(begin, content_type.find('"', begin) - begin));
}

// Splits a multipart body into its parts, without preamble and epilogue.
std::vector<std::string> SplitParts(absl::string_view body,
                                    absl::string_view boundary) {
  const std::string delimiter = absl::StrCat("\r\n--", boundary);
  std::vector<std::string> pieces =
      absl::StrSplit(absl::StrCat("\r\n", body), delimiter);
  std::vector<std::string> parts;
  for (size_t i = 1; i + 1 < pieces.size(); ++i) {
    absl::string_view part = pieces[i];
    absl::ConsumePrefix(&part, "\r\n");
    parts.emplace_back(part);
  }
  return parts;
}

FailedRecipient Rejected() {
  FailedRecipient recipient;
  recipient.address = "bob@example.net";
  recipient.orcpt = "rfc822;Bob+2Btag@example.net";
  recipient.outcome = Outcome{.state = DeliveryState::kBounced,
                              .status = "5.1.1",
                              .diagnostic = "550 5.1.1 no such user",
                              .from_next_hop = true};
  recipient.remote_mta = "mx.example.net";
  recipient.last_attempt = kNow - absl::Minutes(1);
  return recipient;
}

FailedRecipient Expired() {
  FailedRecipient recipient;
  recipient.address = "later@example.net";
  recipient.outcome =
      Outcome{.state = DeliveryState::kBounced,
              .status = "5.4.7",
              .diagnostic = "connect to mx.example.net: Connection refused",
              .from_next_hop = false,
              .expired = true};
  return recipient;
}

DsnRequest MakeRequest() {
  DsnRequest request;
  request.hostname = "relay.example.net";
  request.queue_id = "Q1A2B3";
  request.sender = "alice@example.com";
  request.envid = "env+2B1";
  request.arrival = kArrival;
  request.now = kNow;
  request.recipients = {Rejected(), Expired()};
  request.original_headers =
      "From: Alice <alice@example.com>\r\n"
      "To: bob@example.net, later@example.net\r\n"
      "Subject: hello\r\n";
  return request;
}

std::string MustBuild(const DsnRequest& request) {
  absl::StatusOr<Dsn> dsn = BuildDsn(request);
  EXPECT_TRUE(dsn.ok()) << dsn.status();
  return dsn.ok() ? dsn->message : "";
}

TEST(BuildDsn, WritesTopLevelHeaders) {
  const Entity message = ParseEntity(MustBuild(MakeRequest()));
  EXPECT_EQ(message.Field("From"),
            "Mail Delivery System <MAILER-DAEMON@relay.example.net>");
  EXPECT_EQ(message.Field("To"), "<alice@example.com>");
  EXPECT_THAT(message.Field("Subject"), HasSubstr("2 recipients"));
  EXPECT_EQ(message.Field("Date"), "Wed, 15 Nov 2023 00:13:20 +0000");
  EXPECT_THAT(message.Field("Message-ID"), HasSubstr("@relay.example.net>"));
  EXPECT_EQ(message.Field("Auto-Submitted"), "auto-replied");
  EXPECT_EQ(message.Field("MIME-Version"), "1.0");
  EXPECT_THAT(message.Field("Content-Type"),
              HasSubstr("multipart/report; report-type=delivery-status;"));
}

TEST(BuildDsn, HasThreePartsInOrder) {
  const std::string text = MustBuild(MakeRequest());
  const Entity message = ParseEntity(text);
  const std::string boundary = Boundary(message.Field("Content-Type"));
  ASSERT_FALSE(boundary.empty());
  EXPECT_TRUE(absl::EndsWith(text, absl::StrCat("\r\n--", boundary, "--\r\n")));
  const std::vector<std::string> parts = SplitParts(message.body, boundary);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_THAT(ParseEntity(parts[0]).Field("Content-Type"),
              HasSubstr("text/plain; charset=us-ascii"));
  EXPECT_EQ(ParseEntity(parts[1]).Field("Content-Type"),
            "message/delivery-status");
  EXPECT_EQ(ParseEntity(parts[2]).Field("Content-Type"), "text/rfc822-headers");
}

TEST(BuildDsn, ExplainsEachRecipient) {
  const Entity message = ParseEntity(MustBuild(MakeRequest()));
  const std::vector<std::string> parts =
      SplitParts(message.body, Boundary(message.Field("Content-Type")));
  ASSERT_EQ(parts.size(), 3u);
  const std::string& human = ParseEntity(parts[0]).body;
  EXPECT_THAT(human, HasSubstr("relay.example.net"));
  EXPECT_THAT(human, HasSubstr("Queue ID: Q1A2B3"));
  EXPECT_THAT(human, HasSubstr("<bob@example.net>: mx.example.net replied:"));
  EXPECT_THAT(human, HasSubstr("\r\n    550 5.1.1 no such user\r\n"));
  EXPECT_THAT(human, HasSubstr("<later@example.net>: delivery time expired"));
  EXPECT_THAT(human, HasSubstr("    connect to mx.example.net: Connection"));
}

TEST(BuildDsn, WritesDeliveryStatusFields) {
  const Entity message = ParseEntity(MustBuild(MakeRequest()));
  const std::vector<std::string> parts =
      SplitParts(message.body, Boundary(message.Field("Content-Type")));
  ASSERT_EQ(parts.size(), 3u);
  // The report body is one group of per-message fields, then one group per
  // recipient, separated by empty lines.
  const std::vector<std::string> groups =
      absl::StrSplit(ParseEntity(parts[1]).body, "\r\n\r\n");
  ASSERT_EQ(groups.size(), 3u);
  const Entity per_message = ParseEntity(groups[0]);
  EXPECT_EQ(per_message.Field("Reporting-MTA"), "dns; relay.example.net");
  EXPECT_EQ(per_message.Field("Original-Envelope-Id"), "env+1");
  EXPECT_EQ(per_message.Field("Arrival-Date"),
            "Tue, 14 Nov 2023 22:13:20 +0000");

  const Entity bob = ParseEntity(groups[1]);
  EXPECT_EQ(bob.Field("Final-Recipient"), "rfc822; bob@example.net");
  EXPECT_EQ(bob.Field("Original-Recipient"), "rfc822;Bob+tag@example.net");
  EXPECT_EQ(bob.Field("Action"), "failed");
  EXPECT_EQ(bob.Field("Status"), "5.1.1");
  EXPECT_EQ(bob.Field("Remote-MTA"), "dns; mx.example.net");
  EXPECT_EQ(bob.Field("Diagnostic-Code"), "smtp; 550 5.1.1 no such user");
  EXPECT_EQ(bob.Field("Last-Attempt-Date"), "Wed, 15 Nov 2023 00:12:20 +0000");

  const Entity later = ParseEntity(groups[2]);
  EXPECT_EQ(later.Field("Final-Recipient"), "rfc822; later@example.net");
  EXPECT_EQ(later.Field("Original-Recipient"), "");
  EXPECT_EQ(later.Field("Status"), "5.4.7");
  EXPECT_EQ(later.Field("Remote-MTA"), "");
  EXPECT_EQ(later.Field("Diagnostic-Code"),
            "X-Ferry; connect to mx.example.net: Connection refused");
  EXPECT_EQ(later.Field("Last-Attempt-Date"), "");
}

TEST(BuildDsn, AttachesOriginalHeaders) {
  const Entity message = ParseEntity(MustBuild(MakeRequest()));
  const std::vector<std::string> parts =
      SplitParts(message.body, Boundary(message.Field("Content-Type")));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(ParseEntity(parts[2]).body, MakeRequest().original_headers);
}

TEST(BuildDsn, LinesEndInCrlfWithinLimit) {
  DsnRequest request = MakeRequest();
  request.recipients[0].outcome.diagnostic =
      "550 " + std::string(1020, 'x') + " end";
  request.original_headers = "X-Long: " + std::string(3000, 'y') +
                             "\r\nX-Bare: lf\nX-Cr: cr\rSubject: s\r\n";
  const std::string text = MustBuild(request);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(text[i - 1], '\r') << "bare LF at " << i;
    }
    if (text[i] == '\r') {
      EXPECT_EQ(text[i + 1], '\n') << "bare CR at " << i;
    }
  }
  for (absl::string_view line : absl::StrSplit(text, "\r\n")) {
    EXPECT_LE(line.size(), 998u) << line.substr(0, 40);
  }
  EXPECT_THAT(text, HasSubstr("\r\nX-Bare: lf\r\nX-Cr: cr\r\nSubject: s\r\n"));
}

TEST(BuildDsn, FieldValuesCannotAddLines) {
  DsnRequest request = MakeRequest();
  request.recipients[0].address = "bob@example.net\r\nBcc: eve@example.org";
  request.recipients[0].outcome.diagnostic = "550 no\r\nX-Injected: yes";
  request.envid = "id+0D+0AX-Env: yes";
  const std::string text = MustBuild(request);
  EXPECT_THAT(text, Not(HasSubstr("\r\nBcc:")));
  EXPECT_THAT(text, Not(HasSubstr("\r\nX-Injected:")));
  EXPECT_THAT(text, Not(HasSubstr("\r\nX-Env:")));
}

TEST(BuildDsn, BoundaryAvoidsOriginalHeaders) {
  DsnRequest request = MakeRequest();
  const std::string usual =
      Boundary(ParseEntity(MustBuild(request)).Field("Content-Type"));
  ASSERT_FALSE(usual.empty());
  request.original_headers = absl::StrCat("X-Trap: a\r\n--", usual, "\r\n");
  const Entity message = ParseEntity(MustBuild(request));
  const std::string boundary = Boundary(message.Field("Content-Type"));
  EXPECT_NE(boundary, usual);
  EXPECT_THAT(request.original_headers, Not(HasSubstr(boundary)));
  EXPECT_EQ(SplitParts(message.body, boundary).size(), 3u);
}

TEST(BuildDsn, BoundaryWithinSeventyCharacters) {
  DsnRequest request = MakeRequest();
  request.queue_id = std::string(200, 'Q');
  request.hostname = std::string(60, 'h') + ".example.net";
  const std::string boundary =
      Boundary(ParseEntity(MustBuild(request)).Field("Content-Type"));
  EXPECT_FALSE(boundary.empty());
  EXPECT_LE(boundary.size(), 70u);
}

TEST(BuildDsn, WrapsLongWordsInText) {
  DsnRequest request = MakeRequest();
  request.recipients[0].outcome.diagnostic =
      "550 first " + std::string(2000, 'z') + " last";
  const std::string text = MustBuild(request);
  EXPECT_THAT(text, HasSubstr("\r\n    550 first\r\n    zzz"));
  EXPECT_THAT(text, HasSubstr("zzz last\r\n"));
  for (absl::string_view line : absl::StrSplit(text, "\r\n")) {
    EXPECT_LE(line.size(), 998u) << line.substr(0, 40);
  }
}

TEST(BuildDsn, OneRecipientNamedInSubject) {
  DsnRequest request = MakeRequest();
  request.recipients.resize(1);
  const Entity message = ParseEntity(MustBuild(request));
  EXPECT_EQ(message.Field("Subject"),
            "Delivery failed: your message to bob@example.net");
}

TEST(BuildDsn, ReportsEightBitContent) {
  DsnRequest request = MakeRequest();
  absl::StatusOr<Dsn> ascii = BuildDsn(request);
  ASSERT_TRUE(ascii.ok()) << ascii.status();
  EXPECT_FALSE(ascii->has_8bit);

  request.recipients[0].address = "b\xc3\xb8@example.net";
  absl::StatusOr<Dsn> utf8 = BuildDsn(request);
  ASSERT_TRUE(utf8.ok()) << utf8.status();
  EXPECT_TRUE(utf8->has_8bit);
  EXPECT_THAT(utf8->message, HasSubstr("text/plain; charset=utf-8"));
}

TEST(BuildDsn, RejectsNullSender) {
  DsnRequest request = MakeRequest();
  request.sender.clear();
  absl::StatusOr<Dsn> dsn = BuildDsn(request);
  ASSERT_FALSE(dsn.ok());
  EXPECT_EQ(dsn.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(dsn.status().message(), HasSubstr("Q1A2B3"));
}

TEST(BuildDsn, RejectsEmptyRecipientList) {
  DsnRequest request = MakeRequest();
  request.recipients.clear();
  EXPECT_EQ(BuildDsn(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BuildDsn, RejectsEmptyHostname) {
  DsnRequest request = MakeRequest();
  request.hostname.clear();
  EXPECT_EQ(BuildDsn(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::delivery
