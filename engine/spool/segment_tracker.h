// SegmentTracker: counts the live messages in each segment of one spool
// directory and decides when a segment file may be deleted. Pure logic with
// no I/O. Owned by the worker thread that owns the directory, and not
// thread-safe.
//
// A segment may be deleted once every message in it is final and every
// older segment of the directory has been deleted. The order matters
// because the outcome records that make a message final are appended to the
// segment being written then, which is usually newer than the message's own
// segment. Deleting a newer segment first could lose the only record of a
// delivery, and the message would be delivered again after a restart.
// The current segment (still being written) is never deleted.
#ifndef FERRY_ENGINE_SPOOL_SEGMENT_TRACKER_H_
#define FERRY_ENGINE_SPOOL_SEGMENT_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ferry::spool {

class SegmentTracker {
 public:
  SegmentTracker() = default;
  SegmentTracker(const SegmentTracker&) = delete;
  SegmentTracker& operator=(const SegmentTracker&) = delete;

  // Starts tracking segment `seq` with no live messages. It is not deleted
  // before a later call returns it. Returns InvalidArgument unless `seq` is
  // greater than every sequence added before.
  absl::Status AddSegment(uint64_t seq);

  // Records that live message `queue_id` is stored in segment `seq`.
  // Returns NotFound when `seq` is not tracked (never added, or already
  // deleted) and AlreadyExists when `queue_id` is already tracked.
  absl::Status AddMessage(uint64_t seq, std::string_view queue_id);

  // Marks `seq` as the segment being written, so that it is never returned
  // for deletion, and lifts that protection from the previous current
  // segment. Returns the segments that may be deleted now, oldest first,
  // and stops tracking them. Returns NotFound when `seq` is not tracked.
  absl::StatusOr<std::vector<uint64_t>> SetCurrentSegment(uint64_t seq);

  // Records that every recipient of `queue_id` is final. Returns the
  // segments that may be deleted now, oldest first, and stops tracking them.
  // An unknown or already finished queue ID changes nothing and returns an
  // empty list.
  std::vector<uint64_t> FinishMessage(std::string_view queue_id);

  // Returns the number of live messages in segment `seq`, 0 if untracked.
  size_t live_messages(uint64_t seq) const;

  // Returns true iff segment `seq` is tracked (added and not yet returned
  // for deletion).
  bool tracks_segment(uint64_t seq) const { return live_.contains(seq); }

  size_t segment_count() const { return live_.size(); }
  size_t message_count() const { return segment_of_.size(); }

 private:
  // Removes and returns the oldest segments that have no live messages and
  // are not current, stopping at the first one that must stay.
  std::vector<uint64_t> PopDeletable();

  std::map<uint64_t, size_t> live_;  // segment sequence -> live messages
  absl::flat_hash_map<std::string, uint64_t> segment_of_;  // queue ID -> seq
  std::optional<uint64_t> current_;
  std::optional<uint64_t> newest_added_;
};

}  // namespace ferry::spool

#endif  // FERRY_ENGINE_SPOOL_SEGMENT_TRACKER_H_
