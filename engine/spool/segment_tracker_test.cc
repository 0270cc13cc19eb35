#include "engine/spool/segment_tracker.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::spool {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Adds segments 1..count, each holding the messages named in `messages`
// (one list per segment), and makes segment `current` the current one.
void Populate(SegmentTracker* tracker,
              const std::vector<std::vector<const char*>>& messages,
              uint64_t current) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const uint64_t seq = i + 1;
    ASSERT_TRUE(tracker->AddSegment(seq).ok());
    for (const char* queue_id : messages[i]) {
      ASSERT_TRUE(tracker->AddMessage(seq, queue_id).ok());
    }
  }
  absl::StatusOr<std::vector<uint64_t>> deleted =
      tracker->SetCurrentSegment(current);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_THAT(*deleted, IsEmpty());
}

TEST(SegmentTrackerTest, DeletesSegmentWhenLastMessageFinishes) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A", "B"}, {}}, 2);
  EXPECT_THAT(tracker.FinishMessage("A"), IsEmpty());
  EXPECT_THAT(tracker.FinishMessage("B"), ElementsAre(1));
  EXPECT_FALSE(tracker.tracks_segment(1));
}

TEST(SegmentTrackerTest, NewerSegmentWaitsForOlder) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {"B"}, {"C"}, {}}, 4);
  EXPECT_THAT(tracker.FinishMessage("B"), IsEmpty());
  EXPECT_THAT(tracker.FinishMessage("C"), IsEmpty());
  EXPECT_THAT(tracker.FinishMessage("A"), ElementsAre(1, 2, 3));
}

TEST(SegmentTrackerTest, CascadeStopsAtLiveSegment) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {}, {"C"}, {}}, 4);
  EXPECT_THAT(tracker.FinishMessage("A"), ElementsAre(1, 2));
  EXPECT_TRUE(tracker.tracks_segment(3));
}

TEST(SegmentTrackerTest, CurrentSegmentIsNeverReturned) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}}, 1);
  EXPECT_THAT(tracker.FinishMessage("A"), IsEmpty());
  EXPECT_TRUE(tracker.tracks_segment(1));
}

TEST(SegmentTrackerTest, MovingCurrentReleasesOldCurrent) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}}, 1);
  tracker.FinishMessage("A");
  ASSERT_TRUE(tracker.AddSegment(2).ok());
  absl::StatusOr<std::vector<uint64_t>> deleted = tracker.SetCurrentSegment(2);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(*deleted, ElementsAre(1));
}

TEST(SegmentTrackerTest, CurrentSegmentBlocksNewerOnes) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {"B"}}, 1);
  tracker.FinishMessage("A");
  EXPECT_THAT(tracker.FinishMessage("B"), IsEmpty());
}

TEST(SegmentTrackerTest, RecoveredEmptySegmentsDeletedOnSetCurrent) {
  SegmentTracker tracker;
  for (uint64_t seq : {5, 6, 7}) ASSERT_TRUE(tracker.AddSegment(seq).ok());
  ASSERT_TRUE(tracker.AddMessage(7, "Z").ok());
  ASSERT_TRUE(tracker.AddSegment(8).ok());
  absl::StatusOr<std::vector<uint64_t>> deleted = tracker.SetCurrentSegment(8);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(*deleted, ElementsAre(5, 6));
}

TEST(SegmentTrackerTest, WithoutCurrentEmptySegmentIsReturned) {
  SegmentTracker tracker;
  ASSERT_TRUE(tracker.AddSegment(1).ok());
  ASSERT_TRUE(tracker.AddMessage(1, "A").ok());
  EXPECT_THAT(tracker.FinishMessage("A"), ElementsAre(1));
}

TEST(SegmentTrackerTest, UnknownQueueIdChangesNothing) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {}}, 2);
  EXPECT_THAT(tracker.FinishMessage("nope"), IsEmpty());
  EXPECT_EQ(tracker.live_messages(1), 1u);
}

TEST(SegmentTrackerTest, FinishTwiceCountsOnce) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A", "B"}, {}}, 2);
  tracker.FinishMessage("A");
  EXPECT_THAT(tracker.FinishMessage("A"), IsEmpty());
  EXPECT_EQ(tracker.live_messages(1), 1u);
}

TEST(SegmentTrackerTest, CountsLiveMessages) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A", "B", "C"}, {"D"}}, 2);
  EXPECT_EQ(tracker.live_messages(1), 3u);
  EXPECT_EQ(tracker.live_messages(2), 1u);
  EXPECT_EQ(tracker.live_messages(9), 0u);
  EXPECT_EQ(tracker.message_count(), 4u);
  EXPECT_EQ(tracker.segment_count(), 2u);
}

TEST(SegmentTrackerTest, RejectsNonIncreasingSegment) {
  SegmentTracker tracker;
  ASSERT_TRUE(tracker.AddSegment(3).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(tracker.AddSegment(3)));
  EXPECT_TRUE(absl::IsInvalidArgument(tracker.AddSegment(2)));
}

TEST(SegmentTrackerTest, RejectsReaddingDeletedSegment) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {}}, 2);
  tracker.FinishMessage("A");
  EXPECT_TRUE(absl::IsInvalidArgument(tracker.AddSegment(1)));
}

TEST(SegmentTrackerTest, AddMessageToUnknownSegmentFails) {
  SegmentTracker tracker;
  EXPECT_TRUE(absl::IsNotFound(tracker.AddMessage(1, "A")));
}

TEST(SegmentTrackerTest, AddMessageToDeletedSegmentFails) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {}}, 2);
  tracker.FinishMessage("A");
  EXPECT_TRUE(absl::IsNotFound(tracker.AddMessage(1, "B")));
}

TEST(SegmentTrackerTest, DuplicateQueueIdFails) {
  SegmentTracker tracker;
  Populate(&tracker, {{"A"}, {}}, 2);
  EXPECT_TRUE(absl::IsAlreadyExists(tracker.AddMessage(2, "A")));
  EXPECT_EQ(tracker.live_messages(2), 0u);
}

TEST(SegmentTrackerTest, SetCurrentUnknownSegmentFails) {
  SegmentTracker tracker;
  EXPECT_TRUE(absl::IsNotFound(tracker.SetCurrentSegment(4).status()));
}

}  // namespace
}  // namespace ferry::spool
