// Outbound delivery: one SMTP client connection to a destination's next
// hop, carrying as many due jobs of that destination as it can.
#ifndef FERRY_ENGINE_SERVER_OUTBOUND_H_
#define FERRY_ENGINE_SERVER_OUTBOUND_H_

#include <string>

#include "engine/io/task.h"
#include "engine/server/worker_context.h"

namespace ferry::server {

// Delivers due jobs of `domain` over one connection: looks up the route,
// tries its next hops in order until one greets and answers EHLO or HELO,
// then runs one transaction per job until no job is left (or
// max_messages_per_connection), and QUITs. Reports each job's outcome to
// the delivery queue, and calls ConnectionClosed(domain) at the end.
// Spawned by the delivery queue; runs on the worker thread.
io::Task<void> RunOutbound(WorkerContext* context, std::string domain);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_OUTBOUND_H_
