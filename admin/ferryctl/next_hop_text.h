// The text form of a next hop on ferryctl's command line and in its
// output: HOST[:PORT][/PRIORITY], with an IPv6 address in brackets when a
// port follows ("[2001:db8::25]:2525/10"). The port defaults to 25 and
// the priority to 0.
#ifndef FERRY_ADMIN_FERRYCTL_NEXT_HOP_TEXT_H_
#define FERRY_ADMIN_FERRYCTL_NEXT_HOP_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/admin.pb.h"

namespace ferry::ferryctl {

// Parses the text form. Checks only its shape (brackets, port 1..65535,
// a numeric priority); ferryd validates the host. Errors are
// InvalidArgument and quote `text`.
absl::StatusOr<admin::v1::NextHop> ParseNextHop(const std::string& text);

// Returns the text form, leaving out a priority of 0. A port of 0 (which
// ferryd never stores) is written as 25.
std::string FormatNextHop(const admin::v1::NextHop& next_hop);

}  // namespace ferry::ferryctl

#endif  // FERRY_ADMIN_FERRYCTL_NEXT_HOP_TEXT_H_
