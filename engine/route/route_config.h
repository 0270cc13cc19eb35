// Conversion from the routes of a ferryd configuration (proto/config.proto)
// to the input of RouteTable::Build(). Used by the control thread when it
// loads or reloads the configuration.
#ifndef FERRY_ENGINE_ROUTE_ROUTE_CONFIG_H_
#define FERRY_ENGINE_ROUTE_ROUTE_CONFIG_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/route/route_table.h"
#include "proto/config.pb.h"

namespace ferry::route {

// Returns the configuration's routes, in order, as input for Build(). A
// next hop port of 0 stays 0, which Build() reads as 25. Does not validate.
std::vector<Route> RoutesFromConfig(const config::Config& config);

// Builds a table from the configuration's routes. Returns the errors of
// RouteTable::Build(), whose route[N] indexes are those of config.route.
absl::StatusOr<std::shared_ptr<const RouteTable>> BuildRouteTable(
    const config::Config& config);

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_ROUTE_CONFIG_H_
