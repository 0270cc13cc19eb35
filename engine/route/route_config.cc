#include "engine/route/route_config.h"

namespace ferry::route {

std::vector<Route> RoutesFromConfig(const config::Config& config) {
  std::vector<Route> routes;
  routes.reserve(config.route_size());
  for (const config::Route& in : config.route()) {
    Route& out = routes.emplace_back();
    out.domain = in.domain();
    for (const config::NextHop& hop : in.next_hop()) {
      out.next_hops.push_back(NextHop{
          .host = hop.host(), .port = hop.port(), .priority = hop.priority()});
    }
    out.recipients.assign(in.recipient().begin(), in.recipient().end());
    out.etrn_clients.assign(in.etrn_client().begin(), in.etrn_client().end());
  }
  return routes;
}

absl::StatusOr<std::shared_ptr<const RouteTable>> BuildRouteTable(
    const config::Config& config) {
  return RouteTable::Build(RoutesFromConfig(config));
}

}  // namespace ferry::route
