// Bounces: building, spooling and queueing the DSN for the recipients of
// one message that failed permanently.
#ifndef FERRY_ENGINE_SERVER_BOUNCE_H_
#define FERRY_ENGINE_SERVER_BOUNCE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/task.h"
#include "engine/server/delivery_queue.h"
#include "engine/server/queued_message.h"
#include "engine/server/worker_context.h"

namespace ferry::server {

// Builds one RFC 3464 DSN to the sender of `original` for the `bounced`
// recipients whose NOTIFY includes failures, and spools it as a message
// from <>. Returns the spooled DSN, ready for DeliveryQueue::Add(), or
// nullptr when no recipient wants a DSN.
// REQUIRES: the original sender is not the null sender.
io::Task<absl::StatusOr<std::shared_ptr<QueuedMessage>>> StoreBounce(
    WorkerContext* context, const QueuedMessage& original,
    const std::vector<BouncedRecipient>& bounced);

// Returns true iff a recipient with this NOTIFY parameter (RFC 3461) wants
// a DSN on failure: no NOTIFY at all, or a list that contains FAILURE.
bool NotifyOnFailure(const std::string& notify);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_BOUNCE_H_
