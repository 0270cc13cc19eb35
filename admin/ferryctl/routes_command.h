// ferryctl routes: list, get, put, delete and watch the routing table
// through the admin API's Routes service.
#ifndef FERRY_ADMIN_FERRYCTL_ROUTES_COMMAND_H_
#define FERRY_ADMIN_FERRYCTL_ROUTES_COMMAND_H_

#include "admin/ferryctl/command.h"

namespace ferry::ferryctl {

// Runs `ferryctl routes SUBCOMMAND ...`; invocation.argv starts with the
// subcommand's name. Returns the exit code.
int RunRoutes(const Invocation& invocation);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_ROUTES_COMMAND_H_
