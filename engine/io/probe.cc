#include "engine/io/probe.h"

#include <liburing.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ferry::io {
namespace {

struct RequiredOp {
  int opcode;
  const char* name;
  const char* since;  // first Linux version with the opcode
};

constexpr RequiredOp kRequired[] = {
    {IORING_OP_WRITEV, "IORING_OP_WRITEV", "5.1"},
    {IORING_OP_FSYNC, "IORING_OP_FSYNC", "5.1"},
    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD", "5.1"},
    {IORING_OP_SENDMSG, "IORING_OP_SENDMSG", "5.3"},
    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT", "5.4"},
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT", "5.5"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL", "5.5"},
    {IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT", "5.5"},
    {IORING_OP_CONNECT, "IORING_OP_CONNECT", "5.5"},
    {IORING_OP_OPENAT, "IORING_OP_OPENAT", "5.6"},
    {IORING_OP_CLOSE, "IORING_OP_CLOSE", "5.6"},
    {IORING_OP_READ, "IORING_OP_READ", "5.6"},
    {IORING_OP_SEND, "IORING_OP_SEND", "5.6"},
    {IORING_OP_RECV, "IORING_OP_RECV", "5.6"},
    {IORING_OP_UNLINKAT, "IORING_OP_UNLINKAT", "5.11"},
};

}  // namespace

absl::Status ProbeRequiredOperations() {
  io_uring_probe* probe = io_uring_get_probe();
  if (probe == nullptr) {
    return absl::UnavailableError(
        "io_uring is not available: io_uring_get_probe failed (needs Linux "
        "5.6 or later, and io_uring must not be disabled by "
        "kernel.io_uring_disabled or a seccomp filter)");
  }
  std::vector<std::string> missing;
  for (const RequiredOp& op : kRequired) {
    if (!io_uring_opcode_supported(probe, op.opcode)) {
      missing.push_back(absl::StrCat(op.name, " (Linux ", op.since, ")"));
    }
  }
  io_uring_free_probe(probe);
  if (missing.empty()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("the kernel lacks io_uring operations that ferryd needs: ",
                   absl::StrJoin(missing, ", ")));
}

}  // namespace ferry::io
