// Conversion between the admin API's route message (ferry.admin.v1.Route in
// proto/admin.proto) and the engine's route::Route, the input and content
// of RouteTable. Pure functions, safe on any thread.
#ifndef FERRY_ENGINE_ROUTE_ROUTE_PROTO_H_
#define FERRY_ENGINE_ROUTE_ROUTE_PROTO_H_

#include "engine/route/route_table.h"
#include "proto/admin.pb.h"

namespace ferry::route {

// Returns `route` as input for RouteTable::Build(). Copies every field as it
// is; a port of 0 stays 0, which Build() reads as 25. Does not validate.
Route RouteFromProto(const admin::v1::Route& route);

// Returns `route` as an admin API message. Every field of Route except
// etrn_networks, which etrn_clients already carries as text.
admin::v1::Route RouteToProto(const Route& route);

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_ROUTE_PROTO_H_
