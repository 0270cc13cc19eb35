// Conversions between the admin API's queue messages (proto/admin.proto)
// and the engine's queue queries (queue_query.h): request validation,
// page tokens and views. Pure functions, safe to call from any thread.
#ifndef FERRY_ENGINE_SERVER_QUEUE_PROTO_H_
#define FERRY_ENGINE_SERVER_QUEUE_PROTO_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/server/queue_query.h"
#include "proto/admin.pb.h"

namespace ferry::server {

namespace v1 = ::ferry::admin::v1;

// Default and maximum page sizes of ListQueue.
inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 10000;

// Returns the engine filter for `filter`. InvalidArgument, naming the
// field, for a domain that is neither a domain nor "*.domain", an address
// without "@", a negative age or a min_age above max_age, an unknown state,
// or a queue ID that is not one.
absl::StatusOr<QueueFilter> FilterFromProto(const v1::QueueFilter& filter);

// Returns the engine filter for an action's `selector`. InvalidArgument
// when it selects nothing (all unset, no domain, no queue ID), or for a
// domain or queue ID as above.
absl::StatusOr<QueueFilter> FilterFromSelector(
    const v1::QueueSelector& selector);

// Returns InvalidArgument unless `queue_id` has the form of a queue ID.
absl::Status CheckQueueId(std::string_view queue_id, std::string_view field);

// Page tokens: opaque to clients; they encode the queue ID of the last
// message on the page. DecodePageToken("") returns "", which sorts before
// every queue ID. Returns InvalidArgument for a token EncodePageToken()
// did not make.
std::string EncodePageToken(const std::string& last_queue_id);
absl::StatusOr<std::string> DecodePageToken(const std::string& token);

v1::QueuedMessage MessageToProto(const MessageView& view);

v1::QueueSummaryResponse SummaryToProto(const QueueSummary& summary);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_QUEUE_PROTO_H_
