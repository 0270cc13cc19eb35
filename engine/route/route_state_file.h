// The route store's state file (<spool_dir>/routes.pb): reading it at
// start-up and replacing it atomically on every change. The format is
// ferry.state.RouteStateFile in proto/route_state.proto, a RouteState with
// its CRC-32C.
//
// Functions, not a type: they keep no state. Calls for one path must not
// overlap, because writes share one temporary file; the route store calls
// them under its mutex.
#ifndef FERRY_ENGINE_ROUTE_ROUTE_STATE_FILE_H_
#define FERRY_ENGINE_ROUTE_ROUTE_STATE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/route_state.pb.h"

namespace ferry::route {

// Reads the state file at `path`. Returns NotFound when there is no file.
// Returns DataLoss, with a message that names the file and how to recover,
// for a damaged file: unreadable framing, checksum mismatch, a state that
// does not parse, version 0 or an unknown source. Does not check the
// routes, because the caller builds a RouteTable from them.
absl::StatusOr<state::RouteState> ReadRouteStateFile(const std::string& path);

// Replaces the file at `path` with `state`, so that a crash at any point
// leaves either the old or the new file: writes `path`.tmp in the same
// directory, fsyncs it, renames it over `path`, then fsyncs the directory.
// On error the old file is unchanged and the message names the step, the
// file and the errno text.
absl::Status WriteRouteStateFile(const std::string& path,
                                 const state::RouteState& state);

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_ROUTE_STATE_FILE_H_
