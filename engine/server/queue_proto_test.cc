#include "engine/server/queue_proto.h"

#include <string>

#include "gtest/gtest.h"

namespace ferry::server {
namespace {

constexpr char kQueueId[] = "CREH7RF426G000";

TEST(FilterFromProtoTest, EmptyFilterMatchesAll) {
  absl::StatusOr<QueueFilter> filter = FilterFromProto(v1::QueueFilter());
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_TRUE(filter->domains.empty());
  EXPECT_FALSE(filter->sender.has_value());
  EXPECT_FALSE(filter->state.has_value());
  EXPECT_EQ(filter->max_age, absl::InfiniteDuration());
}

TEST(FilterFromProtoTest, ConvertsEveryField) {
  v1::QueueFilter in;
  in.set_domain("*.Example.NET");
  in.set_recipient("bob@example.net");
  in.set_sender("<>");
  in.set_state(v1::MESSAGE_STATE_HELD);
  in.mutable_min_age()->set_seconds(60);
  in.mutable_max_age()->set_seconds(3600);
  in.add_queue_id(kQueueId);
  absl::StatusOr<QueueFilter> filter = FilterFromProto(in);
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->domains, std::vector<std::string>{"*.example.net"});
  EXPECT_EQ(filter->recipient, "bob@example.net");
  EXPECT_EQ(filter->sender, std::optional<std::string>(""));
  EXPECT_EQ(filter->state, std::optional<MessageState>(MessageState::kHeld));
  EXPECT_EQ(filter->min_age, absl::Minutes(1));
  EXPECT_EQ(filter->max_age, absl::Hours(1));
  EXPECT_TRUE(filter->queue_ids.contains(kQueueId));
}

TEST(FilterFromProtoTest, SenderInBrackets) {
  v1::QueueFilter in;
  in.set_sender("<alice@example.com>");
  absl::StatusOr<QueueFilter> filter = FilterFromProto(in);
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->sender, std::optional<std::string>("alice@example.com"));
}

TEST(FilterFromProtoTest, RejectsBadFields) {
  std::vector<v1::QueueFilter> bad(6);
  bad[0].set_domain("exa mple.net");
  bad[1].set_domain("*.");
  bad[2].set_recipient("bob");
  bad[3].mutable_min_age()->set_seconds(-1);
  bad[4].mutable_min_age()->set_seconds(60);
  bad[4].mutable_max_age()->set_seconds(30);
  bad[5].add_queue_id("not-an-id");
  for (const v1::QueueFilter& in : bad) {
    const absl::StatusOr<QueueFilter> filter = FilterFromProto(in);
    EXPECT_TRUE(absl::IsInvalidArgument(filter.status()))
        << in.ShortDebugString();
  }
}

TEST(FilterFromProtoTest, RejectsUnknownState) {
  v1::QueueFilter in;
  in.set_state(static_cast<v1::MessageState>(9));
  EXPECT_TRUE(absl::IsInvalidArgument(FilterFromProto(in).status()));
}

TEST(FilterFromSelectorTest, EmptySelectorIsRefused) {
  const absl::StatusOr<QueueFilter> filter =
      FilterFromSelector(v1::QueueSelector());
  ASSERT_TRUE(absl::IsInvalidArgument(filter.status()));
  EXPECT_NE(filter.status().message().find("all"), absl::string_view::npos);
}

TEST(FilterFromSelectorTest, AllDomainAndIds) {
  v1::QueueSelector all;
  all.set_all(true);
  absl::StatusOr<QueueFilter> filter = FilterFromSelector(all);
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_TRUE(filter->domains.empty());
  EXPECT_TRUE(filter->queue_ids.empty());

  v1::QueueSelector some;
  some.set_domain("Example.net");
  some.add_queue_id(kQueueId);
  filter = FilterFromSelector(some);
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->domains, std::vector<std::string>{"example.net"});
  EXPECT_TRUE(filter->queue_ids.contains(kQueueId));

  v1::QueueSelector bad;
  bad.add_queue_id("x");
  EXPECT_TRUE(absl::IsInvalidArgument(FilterFromSelector(bad).status()));
}

TEST(PageTokenTest, RoundTrip) {
  const std::string token = EncodePageToken(kQueueId);
  absl::StatusOr<std::string> decoded = DecodePageToken(token);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, kQueueId);
  EXPECT_EQ(*DecodePageToken(""), "");
}

TEST(PageTokenTest, RejectsForeignTokens) {
  for (const std::string& token :
       {std::string("x"), std::string("q1.!!"), std::string(kQueueId),
        EncodePageToken("short")}) {
    EXPECT_TRUE(absl::IsInvalidArgument(DecodePageToken(token).status()))
        << token;
  }
}

TEST(MessageToProtoTest, ConvertsView) {
  MessageView view;
  view.queue_id = kQueueId;
  view.sender = "";
  view.state = MessageState::kDeferred;
  view.size = 1234;
  view.arrival = absl::FromUnixMicros(1800000000123456);
  view.client_ip = "192.0.2.7";
  view.attempts = 3;
  view.next_attempt = absl::FromUnixSeconds(1800000600);
  view.worker = 1;
  RecipientView& deferred = view.recipients.emplace_back();
  deferred.address = "bob@example.net";
  deferred.state = QueuedRecipient::State::kPending;
  deferred.attempts = 3;
  deferred.last_reply = "451 4.4.1 refused";
  deferred.next_attempt = view.next_attempt;
  RecipientView& fresh = view.recipients.emplace_back();
  fresh.state = QueuedRecipient::State::kReady;
  RecipientView& held = view.recipients.emplace_back();
  held.state = QueuedRecipient::State::kHeld;
  RecipientView& active = view.recipients.emplace_back();
  active.state = QueuedRecipient::State::kActive;

  const v1::QueuedMessage out = MessageToProto(view);
  EXPECT_EQ(out.queue_id(), kQueueId);
  EXPECT_EQ(out.sender(), "");
  EXPECT_EQ(out.state(), v1::MESSAGE_STATE_DEFERRED);
  EXPECT_EQ(out.size(), 1234u);
  EXPECT_EQ(out.received().seconds(), 1800000000);
  EXPECT_EQ(out.received().nanos(), 123456000);
  EXPECT_EQ(out.client(), "[192.0.2.7]");
  EXPECT_EQ(out.attempts(), 3u);
  EXPECT_EQ(out.next_attempt().seconds(), 1800000600);
  EXPECT_EQ(out.worker(), 1u);
  ASSERT_EQ(out.recipient_size(), 4);
  EXPECT_EQ(out.recipient(0).state(), v1::RECIPIENT_STATE_DEFERRED);
  EXPECT_EQ(out.recipient(0).last_reply(), "451 4.4.1 refused");
  EXPECT_TRUE(out.recipient(0).has_next_attempt());
  EXPECT_EQ(out.recipient(1).state(), v1::RECIPIENT_STATE_PENDING);
  EXPECT_FALSE(out.recipient(1).has_next_attempt());
  EXPECT_EQ(out.recipient(2).state(), v1::RECIPIENT_STATE_HELD);
  EXPECT_EQ(out.recipient(3).state(), v1::RECIPIENT_STATE_ACTIVE);
}

TEST(SummaryToProtoTest, RowsLargestFirstWithTotals) {
  QueueSummary summary;
  summary.rows["small.example"] = std::vector<uint64_t>(10, 0);
  summary.rows["small.example"][9] = 1;
  summary.rows["big.example"] = std::vector<uint64_t>(10, 0);
  summary.rows["big.example"][0] = 2;
  summary.rows["big.example"][3] = 3;
  const v1::QueueSummaryResponse out = SummaryToProto(summary);
  ASSERT_EQ(out.bucket_bound_size(), 9);
  EXPECT_EQ(out.bucket_bound(0).seconds(), 300);
  ASSERT_EQ(out.row_size(), 2);
  EXPECT_EQ(out.row(0).domain(), "big.example");
  EXPECT_EQ(out.row(0).total(), 5u);
  ASSERT_EQ(out.row(0).count_size(), 10);
  EXPECT_EQ(out.row(0).count(3), 3u);
  EXPECT_EQ(out.row(1).domain(), "small.example");
  EXPECT_EQ(out.all().total(), 6u);
  EXPECT_EQ(out.all().count(0), 2u);
  EXPECT_EQ(out.all().count(9), 1u);
}

}  // namespace
}  // namespace ferry::server
