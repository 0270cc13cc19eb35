// EtrnStarter: the engine's side of ETRN for one inbound session. It lets
// a client start the queue of a domain when the domain's route lists the
// client's address in etrn_client, and then posts a flush of that mail to
// every worker (QueueControl::StartFlush), without waiting for it.
//
// Lives in the session's coroutine frame and runs on the worker's thread.
#ifndef FERRY_ENGINE_SERVER_ETRN_STARTER_H_
#define FERRY_ENGINE_SERVER_ETRN_STARTER_H_

#include <string>
#include <string_view>
#include <utility>

#include "engine/server/worker_context.h"
#include "engine/smtp/etrn.h"

namespace ferry::server {

class EtrnStarter : public smtp::QueueStarter {
 public:
  // REQUIRES: context->queue_control is set. `session_id` leads the log
  // lines.
  EtrnStarter(WorkerContext* context, std::string session_id)
      : context_(context), session_id_(std::move(session_id)) {}

  // Allowed when the route that covers node.name lists `client_ip`. For
  // "@domain" the flush also covers subdomains, but only those whose own
  // route lists the client too.
  Result StartQueue(const smtp::EtrnNode& node,
                    std::string_view client_ip) override;

 private:
  WorkerContext* context_;
  const std::string session_id_;
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_ETRN_STARTER_H_
