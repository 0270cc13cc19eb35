// ferryctl queue: the mail waiting in ferryd's queue, over the admin API's
// Queue service. `list`, `show` and `summary` read (queue_command.cc);
// `flush`, `hold`, `release`, `delete` and `bounce` act on the messages a
// selector names (queue_actions.cc).
#ifndef FERRY_ADMIN_FERRYCTL_QUEUE_COMMAND_H_
#define FERRY_ADMIN_FERRYCTL_QUEUE_COMMAND_H_

#include <string>

#include "admin/ferryctl/command.h"

namespace ferry::ferryctl {

// Runs `ferryctl queue SUBCOMMAND ...`; invocation.argv starts with the
// subcommand.
int RunQueue(const Invocation& invocation);

// Runs one action subcommand ("flush", "hold", "release", "delete",
// "bounce"); invocation.argv holds its arguments. Returns nullopt for
// another name.
std::optional<int> RunQueueAction(const std::string& name,
                                  const Invocation& invocation);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_QUEUE_COMMAND_H_
