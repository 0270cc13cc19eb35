// Inbound SMTP: drives one client connection's ServerSession over the
// worker's ring.
#ifndef FERRY_ENGINE_SERVER_INBOUND_H_
#define FERRY_ENGINE_SERVER_INBOUND_H_

#include <string>

#include "engine/io/ring.h"
#include "engine/io/task.h"
#include "engine/server/worker_context.h"
#include "engine/smtp/server_session.h"

namespace ferry::server {

// The worker's record of one open inbound connection. Lives in
// the worker's session list while the connection is open, so that a stop
// can cancel the read it waits in.
struct InboundConnection {
  int fd = -1;
  std::string client_ip;
  std::string session_id;
  io::Operation* pending_read = nullptr;  // set while a Recv is in flight
  bool stop_requested = false;
};

// Serves `connection` until the client quits, a limit or timeout closes
// it, or the worker stops. Closes the socket before returning.
// REQUIRES: `connection` outlives the task; `policy` outlives the worker.
io::Task<void> ServeInbound(WorkerContext* context,
                            const smtp::RecipientPolicy* policy,
                            InboundConnection* connection);

// Sends `reply` and closes the socket: for connections over a limit.
io::Task<void> RejectConnection(WorkerContext* context, int fd,
                                std::string reply);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_INBOUND_H_
