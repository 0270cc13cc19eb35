#include "engine/route/route_proto.h"

namespace ferry::route {

Route RouteFromProto(const admin::v1::Route& route) {
  Route out;
  out.domain = route.domain();
  out.next_hops.reserve(route.next_hop_size());
  for (const admin::v1::NextHop& hop : route.next_hop()) {
    out.next_hops.push_back(NextHop{
        .host = hop.host(), .port = hop.port(), .priority = hop.priority()});
  }
  out.recipients.assign(route.recipient().begin(), route.recipient().end());
  out.etrn_clients.assign(route.etrn_client().begin(),
                          route.etrn_client().end());
  return out;
}

admin::v1::Route RouteToProto(const Route& route) {
  admin::v1::Route out;
  out.set_domain(route.domain);
  for (const NextHop& hop : route.next_hops) {
    admin::v1::NextHop* next_hop = out.add_next_hop();
    next_hop->set_host(hop.host);
    next_hop->set_port(hop.port);
    next_hop->set_priority(hop.priority);
  }
  for (const std::string& recipient : route.recipients) {
    out.add_recipient(recipient);
  }
  for (const std::string& client : route.etrn_clients) {
    out.add_etrn_client(client);
  }
  return out;
}

}  // namespace ferry::route
