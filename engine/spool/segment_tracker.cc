#include "engine/spool/segment_tracker.h"

#include "absl/strings/str_cat.h"

namespace ferry::spool {
namespace {

// The system Abseil has its own string_view type, distinct from std's.
absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::Status SegmentTracker::AddSegment(uint64_t seq) {
  if (newest_added_.has_value() && seq <= *newest_added_) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment ", seq, " added after segment ", *newest_added_,
                     "; sequences must increase"));
  }
  newest_added_ = seq;
  live_.emplace(seq, 0);
  return absl::OkStatus();
}

absl::Status SegmentTracker::AddMessage(uint64_t seq,
                                        std::string_view queue_id) {
  auto segment = live_.find(seq);
  if (segment == live_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "queue ID ", ToAbsl(queue_id), ": segment ", seq, " is not tracked"));
  }
  if (!segment_of_.emplace(std::string(queue_id), seq).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("queue ID ", ToAbsl(queue_id), " is already tracked"));
  }
  ++segment->second;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> SegmentTracker::SetCurrentSegment(
    uint64_t seq) {
  if (!live_.contains(seq)) {
    return absl::NotFoundError(
        absl::StrCat("segment ", seq, " is not tracked"));
  }
  current_ = seq;
  return PopDeletable();
}

std::vector<uint64_t> SegmentTracker::FinishMessage(std::string_view queue_id) {
  auto message = segment_of_.find(ToAbsl(queue_id));
  if (message == segment_of_.end()) return {};
  const uint64_t seq = message->second;
  segment_of_.erase(message);
  --live_[seq];
  return PopDeletable();
}

size_t SegmentTracker::live_messages(uint64_t seq) const {
  auto segment = live_.find(seq);
  return segment == live_.end() ? 0 : segment->second;
}

std::vector<uint64_t> SegmentTracker::PopDeletable() {
  std::vector<uint64_t> deletable;
  while (!live_.empty()) {
    auto oldest = live_.begin();
    if (oldest->second != 0 || oldest->first == current_) break;
    deletable.push_back(oldest->first);
    live_.erase(oldest);
  }
  return deletable;
}

}  // namespace ferry::spool
