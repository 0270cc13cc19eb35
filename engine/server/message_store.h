// Turning a received or generated message into a durable queued message:
// queue ID, Received: field, spool record, group commit.
#ifndef FERRY_ENGINE_SERVER_MESSAGE_STORE_H_
#define FERRY_ENGINE_SERVER_MESSAGE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/io/task.h"
#include "engine/server/queued_message.h"
#include "engine/server/worker_context.h"
#include "engine/smtp/server_session.h"

namespace ferry::server {

// Returns a new queue ID for this worker.
std::string NewQueueId(WorkerContext* context);

// Writes the message record of `message` (envelope.queue_id set, body
// filled) to the worker's spool and waits for its group commit. On success
// the message is ready for DeliveryQueue::Add(). Errors are those of
// SpoolWriter::Append().
io::Task<absl::Status> SpoolMessage(WorkerContext* context,
                                    QueuedMessage* message);

// Builds the queued form of a transaction the server session finished,
// spools it and hands it to the delivery queue. Returns the queue ID.
io::Task<absl::StatusOr<std::string>> AcceptMessage(
    WorkerContext* context, smtp::Transaction transaction,
    std::string client_ip);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_MESSAGE_STORE_H_
