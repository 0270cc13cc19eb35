#include "engine/server/queue_query.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace ferry::server {
namespace {

using State = QueuedRecipient::State;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

// A message from alice@example.com, an hour old, to the given recipients.
QueuedMessage MakeMessage(const std::vector<std::string>& recipients) {
  QueuedMessage message;
  message.envelope.queue_id = "CREH7RF426G000";
  message.envelope.sender = "alice@example.com";
  message.arrival = kNow - absl::Hours(1);
  for (const std::string& address : recipients) {
    message.envelope.recipients.push_back({address, "", ""});
    QueuedRecipient r;
    r.domain = RecipientDomain(address);
    message.recipients.push_back(r);
  }
  return message;
}

TEST(DomainMatchesTest, ExactAndWildcard) {
  EXPECT_TRUE(DomainMatches("example.net", "example.net"));
  EXPECT_FALSE(DomainMatches("example.net", "mail.example.net"));
  EXPECT_TRUE(DomainMatches("*.example.net", "mail.example.net"));
  EXPECT_TRUE(DomainMatches("*.example.net", "a.b.example.net"));
  EXPECT_FALSE(DomainMatches("*.example.net", "example.net"));
  EXPECT_FALSE(DomainMatches("*.example.net", "badexample.net"));
}

TEST(StateOfTest, QueuedDeferredHeld) {
  QueuedMessage message = MakeMessage({"a@example.net", "b@example.org"});
  EXPECT_EQ(StateOf(message), MessageState::kQueued);
  message.recipients[1].attempts = 1;
  EXPECT_EQ(StateOf(message), MessageState::kDeferred);
  message.recipients[1].state = State::kHeld;
  EXPECT_EQ(StateOf(message), MessageState::kQueued);
  message.recipients[0].state = State::kDelivered;
  EXPECT_EQ(StateOf(message), MessageState::kHeld);
}

TEST(QueueFilterTest, EmptyFilterMatchesMessageWithOpenRecipient) {
  QueueFilter filter;
  QueuedMessage message = MakeMessage({"a@example.net"});
  EXPECT_TRUE(filter.Matches(message, kNow));
  message.recipients[0].state = State::kDeleted;
  EXPECT_FALSE(filter.Matches(message, kNow));
}

TEST(QueueFilterTest, DomainSelectsOnlyItsRecipients) {
  QueueFilter filter;
  filter.domains = {"*.example.net"};
  const QueuedMessage message =
      MakeMessage({"a@example.net", "b@mx.example.net", "c@example.org"});
  EXPECT_TRUE(filter.Matches(message, kNow));
  EXPECT_FALSE(filter.SelectsRecipient(message, 0));
  EXPECT_TRUE(filter.SelectsRecipient(message, 1));
  EXPECT_FALSE(filter.SelectsRecipient(message, 2));
}

TEST(QueueFilterTest, RecipientIgnoresCase) {
  QueueFilter filter;
  filter.recipient = "bob@example.net";
  EXPECT_TRUE(filter.Matches(MakeMessage({"Bob@Example.NET"}), kNow));
  EXPECT_FALSE(filter.Matches(MakeMessage({"rob@example.net"}), kNow));
}

TEST(QueueFilterTest, NullSender) {
  QueueFilter filter;
  filter.sender = "";
  QueuedMessage message = MakeMessage({"a@example.net"});
  EXPECT_FALSE(filter.Matches(message, kNow));
  message.envelope.null_sender = true;
  message.envelope.sender = "";
  EXPECT_TRUE(filter.Matches(message, kNow));
  filter.sender = "alice@example.com";
  EXPECT_FALSE(filter.Matches(message, kNow));
}

TEST(QueueFilterTest, SenderIgnoresCase) {
  QueueFilter filter;
  filter.sender = "ALICE@example.com";
  EXPECT_TRUE(filter.Matches(MakeMessage({"a@example.net"}), kNow));
}

TEST(QueueFilterTest, AgeBoundsAreInclusive) {
  const QueuedMessage message = MakeMessage({"a@example.net"});
  QueueFilter filter;
  filter.min_age = absl::Hours(1);
  EXPECT_TRUE(filter.Matches(message, kNow));
  filter.min_age = absl::Hours(2);
  EXPECT_FALSE(filter.Matches(message, kNow));
  filter.min_age = absl::ZeroDuration();
  filter.max_age = absl::Hours(1);
  EXPECT_TRUE(filter.Matches(message, kNow));
  filter.max_age = absl::Minutes(59);
  EXPECT_FALSE(filter.Matches(message, kNow));
}

TEST(QueueFilterTest, StateAndQueueIds) {
  QueuedMessage message = MakeMessage({"a@example.net"});
  QueueFilter filter;
  filter.state = MessageState::kHeld;
  EXPECT_FALSE(filter.Matches(message, kNow));
  message.recipients[0].state = State::kHeld;
  EXPECT_TRUE(filter.Matches(message, kNow));
  filter.queue_ids = {"CREH7RF426G001"};
  EXPECT_FALSE(filter.Matches(message, kNow));
  filter.queue_ids.insert("CREH7RF426G000");
  EXPECT_TRUE(filter.Matches(message, kNow));
}

TEST(MakeMessageViewTest, CopiesStateAndNextAttempt) {
  QueuedMessage message = MakeMessage({"a@example.net", "b@example.org"});
  message.envelope.client_ip = "192.0.2.7";
  message.envelope.received_header = "Received: x\r\n";
  message.body.Append("Subject: x\r\n\r\nhi\r\n");
  message.recipients[0].attempts = 2;
  message.recipients[0].last_reply = "451 4.4.1 refused";
  message.recipients[0].next_attempt = kNow + absl::Minutes(4);
  message.recipients[1].state = State::kActive;
  message.recipients[1].next_attempt = kNow - absl::Minutes(4);
  const MessageView view = MakeMessageView(message, 3);
  EXPECT_EQ(view.queue_id, "CREH7RF426G000");
  EXPECT_EQ(view.sender, "alice@example.com");
  EXPECT_EQ(view.state, MessageState::kDeferred);
  EXPECT_EQ(view.size, 13u + 18u);
  EXPECT_EQ(view.client_ip, "192.0.2.7");
  EXPECT_EQ(view.attempts, 2u);
  EXPECT_EQ(view.worker, 3);
  EXPECT_EQ(view.next_attempt, kNow + absl::Minutes(4));
  ASSERT_EQ(view.recipients.size(), 2u);
  EXPECT_EQ(view.recipients[0].last_reply, "451 4.4.1 refused");
  EXPECT_EQ(view.recipients[1].state, State::kActive);
  EXPECT_EQ(view.recipients[1].next_attempt, absl::InfinitePast());
}

TEST(SummaryBucketTest, DoublingBounds) {
  const std::vector<absl::Duration> bounds = SummaryBucketBounds();
  ASSERT_EQ(bounds.size(), 9u);
  EXPECT_EQ(bounds.front(), absl::Minutes(5));
  EXPECT_EQ(bounds.back(), absl::Minutes(1280));
  EXPECT_EQ(SummaryBucket(absl::ZeroDuration()), 0u);
  EXPECT_EQ(SummaryBucket(absl::Minutes(5)), 0u);
  EXPECT_EQ(SummaryBucket(absl::Minutes(6)), 1u);
  EXPECT_EQ(SummaryBucket(absl::Minutes(1280)), 8u);
  EXPECT_EQ(SummaryBucket(absl::Hours(48)), 9u);
}

TEST(QueueSummaryTest, AddSumsRows) {
  QueueSummary a;
  a.rows["example.net"] = {1, 0, 2};
  QueueSummary b;
  b.rows["example.net"] = {1, 1, 0};
  b.rows["example.org"] = {0, 0, 5};
  a.Add(b);
  EXPECT_EQ(a.rows["example.net"], (std::vector<uint64_t>{2, 1, 2}));
  EXPECT_EQ(a.rows["example.org"], (std::vector<uint64_t>{0, 0, 5}));
}

}  // namespace
}  // namespace ferry::server
