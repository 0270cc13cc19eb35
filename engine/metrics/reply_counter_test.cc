#include "engine/metrics/reply_counter.h"

#include "gtest/gtest.h"

namespace ferry::metrics {
namespace {

uint64_t Count(const WorkerMetrics& metrics, ReplyClass reply_class) {
  return metrics.smtp_replies.at(static_cast<size_t>(reply_class)).Value();
}

TEST(CountSmtpRepliesTest, OneLineReply) {
  WorkerMetrics metrics;
  CountSmtpReplies("250 2.0.0 Ok\r\n", &metrics);
  EXPECT_EQ(Count(metrics, ReplyClass::k2xx), 1u);
}

TEST(CountSmtpRepliesTest, MultilineReplyCountsOnce) {
  WorkerMetrics metrics;
  CountSmtpReplies("250-mx.example\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n",
                   &metrics);
  EXPECT_EQ(Count(metrics, ReplyClass::k2xx), 1u);
}

TEST(CountSmtpRepliesTest, PipelinedRepliesCountEach) {
  WorkerMetrics metrics;
  CountSmtpReplies(
      "250 2.1.0 Ok\r\n550 5.7.1 Relay access denied\r\n354 End data\r\n"
      "451 4.3.0 Local error\r\n250 2.1.5 Ok\r\n",
      &metrics);
  EXPECT_EQ(Count(metrics, ReplyClass::k2xx), 2u);
  EXPECT_EQ(Count(metrics, ReplyClass::k3xx), 1u);
  EXPECT_EQ(Count(metrics, ReplyClass::k4xx), 1u);
  EXPECT_EQ(Count(metrics, ReplyClass::k5xx), 1u);
}

TEST(CountSmtpRepliesTest, CodeAloneIsAReply) {
  WorkerMetrics metrics;
  CountSmtpReplies("221\r\n", &metrics);
  EXPECT_EQ(Count(metrics, ReplyClass::k2xx), 1u);
}

TEST(CountSmtpRepliesTest, IgnoresMalformedLines) {
  WorkerMetrics metrics;
  CountSmtpReplies("25 short\r\nabc def\r\n650 out of range\r\n\r\n", &metrics);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(metrics.smtp_replies.at(i).Value(), 0u) << "class index " << i;
  }
}

TEST(CountSmtpRepliesTest, LastLineWithoutCrlf) {
  WorkerMetrics metrics;
  CountSmtpReplies("421 4.7.0 closing", &metrics);
  EXPECT_EQ(Count(metrics, ReplyClass::k4xx), 1u);
}

}  // namespace
}  // namespace ferry::metrics
