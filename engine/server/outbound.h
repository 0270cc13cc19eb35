// Outbound delivery: one SMTP client connection to a destination's next
// hop, carrying as many due jobs of that destination as it can.
#ifndef FERRY_ENGINE_SERVER_OUTBOUND_H_
#define FERRY_ENGINE_SERVER_OUTBOUND_H_

#include <string>

#include "engine/io/task.h"
#include "engine/server/worker_context.h"

namespace ferry::server {

// Delivers due jobs of `domain` over one connection. It looks up the
// route and tries its next hops in order until one sends its greeting and
// accepts EHLO or HELO. Then it runs one transaction per job. When no job
// is left it waits, connection open, up to connection_idle_time for the
// next one, and sends QUIT when none comes, when the next hop closes the
// connection, when the route changes, or after max_messages_per_connection.
// Each job's outcome goes to the delivery queue, and ConnectionClosed(domain)
// is called at the end. Spawned by the delivery queue, and runs on the
// worker thread.
io::Task<void> RunOutbound(WorkerContext* context, std::string domain);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_OUTBOUND_H_
