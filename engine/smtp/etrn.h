// ETRN (RFC 1985): a client asks the server to start delivering the mail
// it holds for a domain, as a site with an intermittent connection does
// when it comes online. This file has the argument parser, the interface
// through which the server session asks the engine to start the queue,
// and the replies. Pure code without I/O; the session calls it on its own
// thread.
//
// Arguments: "example.net" selects that domain, "@example.net" that domain
// and its subdomains, and "#name" a named queue, which ferry does not
// have. Replies:
//   250 2.0.0  Queuing for node <x> started
//   458 4.3.0  Unable to queue messages for node <x> (a named queue, or
//              the engine cannot start the queue now)
//   459 4.7.1  Node <x> not allowed: ... (no route lets this client ask)
//   501 5.5.4  a missing or invalid argument (from the command parser)
#ifndef FERRY_ENGINE_SMTP_ETRN_H_
#define FERRY_ENGINE_SMTP_ETRN_H_

#include <optional>
#include <string>
#include <string_view>

#include "engine/smtp/reply.h"

namespace ferry::smtp {

// The argument of one ETRN command.
struct EtrnNode {
  enum class Kind {
    kDomain,      // "example.net"
    kSubdomains,  // "@example.net": the domain and its subdomains
    kQueueName,   // "#name"
  };
  Kind kind = Kind::kDomain;
  // The domain in lower case without "@", or the queue name without "#".
  std::string name;
  // The argument as the client sent it, for replies.
  std::string text;
};

// Parses the argument of ETRN (the text after the verb). On success fills
// `node` and returns nothing; otherwise returns the 501 5.5.4 reply. A
// domain must be letters, digits and hyphens in dot-separated labels of 1
// to 63 octets, at most 253 octets in all, without a trailing dot.
std::optional<Reply> ParseEtrnArgument(std::string_view argument,
                                       EtrnNode* node);

// The engine's side of ETRN, implemented over the routing table and the
// delivery queues.
class QueueStarter {
 public:
  enum class Result {
    kStarted,      // delivery of the node's mail starts now
    kNotAllowed,   // no route for the node lets this client send ETRN
    kUnavailable,  // the queues cannot be started now
  };
  virtual ~QueueStarter() = default;
  // Starts delivery of the mail queued for `node` (never kQueueName) if
  // `client_ip` may ask for it. Must return without waiting for the
  // deliveries, or for other threads.
  virtual Result StartQueue(const EtrnNode& node,
                            std::string_view client_ip) = 0;
};

// Returns the reply to ETRN for `node`: asks `starter` unless the node is
// a queue name, which gets 458.
Reply StartEtrnQueue(const EtrnNode& node, QueueStarter& starter,
                     std::string_view client_ip);

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_ETRN_H_
