#include "engine/server/queue_gauges.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ferry::server {
namespace {

using metrics::QueueState;
using State = QueuedRecipient::State;

QueuedMessage MakeMessage(int64_t arrival_seconds, const std::string& body,
                          std::initializer_list<State> states) {
  QueuedMessage message;
  message.arrival = absl::FromUnixSeconds(arrival_seconds);
  message.body.Append(body);
  for (State state : states) {
    QueuedRecipient recipient;
    recipient.state = state;
    message.recipients.push_back(recipient);
  }
  return message;
}

int64_t Messages(const metrics::WorkerMetrics& m, QueueState state) {
  return m.queue_messages.at(static_cast<size_t>(state)).Value();
}

int64_t Bytes(const metrics::WorkerMetrics& m, QueueState state) {
  return m.queue_bytes.at(static_cast<size_t>(state)).Value();
}

TEST(GaugeStateTest, NewMessageIsQueued) {
  EXPECT_EQ(GaugeState(MakeMessage(1, "x", {State::kPending})),
            QueueState::kQueued);
}

TEST(GaugeStateTest, ActiveRecipientMakesQueued) {
  QueuedMessage message =
      MakeMessage(1, "x", {State::kPending, State::kActive});
  message.recipients[0].attempts = 1;
  EXPECT_EQ(GaugeState(message), QueueState::kQueued);
}

TEST(GaugeStateTest, RetryWithoutActiveIsDeferred) {
  QueuedMessage message =
      MakeMessage(1, "x", {State::kDelivered, State::kPending});
  message.recipients[1].attempts = 2;
  EXPECT_EQ(GaugeState(message), QueueState::kDeferred);
}

TEST(GaugeStateTest, DueRecipientMakesQueued) {
  QueuedMessage message = MakeMessage(1, "x", {State::kPending, State::kReady});
  message.recipients[0].attempts = 1;
  EXPECT_EQ(GaugeState(message), QueueState::kQueued);
}

TEST(GaugeStateTest, AllOpenRecipientsHeldIsHeld) {
  QueuedMessage message =
      MakeMessage(1, "x", {State::kDelivered, State::kHeld, State::kDeleted});
  EXPECT_EQ(GaugeState(message), QueueState::kHeld);
}

TEST(GaugeStateTest, HeldWithWaitingRecipientIsNotHeld) {
  QueuedMessage message = MakeMessage(1, "x", {State::kHeld, State::kPending});
  message.recipients[1].attempts = 1;
  EXPECT_EQ(GaugeState(message), QueueState::kDeferred);
}

TEST(QueueGaugesTest, AddCountsMessageAndBytes) {
  metrics::WorkerMetrics m;
  QueueGauges gauges(&m);
  QueuedMessage message = MakeMessage(100, "hello\r\n", {State::kPending});
  gauges.Add(&message);
  EXPECT_EQ(Messages(m, QueueState::kQueued), 1);
  EXPECT_EQ(Bytes(m, QueueState::kQueued), 7);
  EXPECT_EQ(m.oldest_arrival_unix_micros.Value(), 100000000);
}

TEST(QueueGaugesTest, UpdateMovesBetweenStates) {
  metrics::WorkerMetrics m;
  QueueGauges gauges(&m);
  QueuedMessage message = MakeMessage(100, "hello\r\n", {State::kActive});
  gauges.Add(&message);
  message.recipients[0].state = State::kPending;
  message.recipients[0].attempts = 1;
  gauges.Update(&message);
  EXPECT_EQ(Messages(m, QueueState::kQueued), 0);
  EXPECT_EQ(Messages(m, QueueState::kDeferred), 1);
  EXPECT_EQ(Bytes(m, QueueState::kQueued), 0);
  EXPECT_EQ(Bytes(m, QueueState::kDeferred), 7);
}

TEST(QueueGaugesTest, RemoveUncountsAndMovesOldest) {
  metrics::WorkerMetrics m;
  QueueGauges gauges(&m);
  QueuedMessage old_message = MakeMessage(100, "a", {State::kActive});
  QueuedMessage new_message = MakeMessage(200, "bb", {State::kActive});
  gauges.Add(&new_message);
  gauges.Add(&old_message);
  EXPECT_EQ(m.oldest_arrival_unix_micros.Value(), 100000000);
  gauges.Remove(&old_message);
  EXPECT_EQ(m.oldest_arrival_unix_micros.Value(), 200000000);
  EXPECT_EQ(Messages(m, QueueState::kQueued), 1);
  EXPECT_EQ(Bytes(m, QueueState::kQueued), 2);
  gauges.Remove(&new_message);
  EXPECT_EQ(m.oldest_arrival_unix_micros.Value(), 0);
  EXPECT_EQ(Messages(m, QueueState::kQueued), 0);
}

TEST(QueueGaugesTest, SameArrivalTwiceKeepsOne) {
  metrics::WorkerMetrics m;
  QueueGauges gauges(&m);
  QueuedMessage first = MakeMessage(100, "a", {State::kActive});
  QueuedMessage second = MakeMessage(100, "a", {State::kActive});
  gauges.Add(&first);
  gauges.Add(&second);
  gauges.Remove(&first);
  EXPECT_EQ(m.oldest_arrival_unix_micros.Value(), 100000000);
}

TEST(QueueGaugesTest, RemoveTwiceCountsOnce) {
  metrics::WorkerMetrics m;
  QueueGauges gauges(&m);
  QueuedMessage message = MakeMessage(100, "a", {State::kActive});
  gauges.Add(&message);
  gauges.Remove(&message);
  gauges.Remove(&message);
  gauges.Update(&message);
  EXPECT_EQ(Messages(m, QueueState::kQueued), 0);
}

}  // namespace
}  // namespace ferry::server
