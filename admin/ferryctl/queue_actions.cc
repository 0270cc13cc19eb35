// ferryctl queue flush, hold, release, delete and bounce: the actions on
// the messages that a selector names (--all, --domain, queue IDs).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "admin/ferryctl/output.h"
#include "admin/ferryctl/queue_command.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::ferryctl {
namespace {

namespace v1 = ::ferry::admin::v1;

using Stub = v1::Queue::Stub;
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*,
                                   const v1::QueueActionRequest&,
                                   v1::QueueActionResponse*);

// One action subcommand.
struct Action {
  const char* name;
  Rpc rpc;
  const char* past;  // "held", for the summary line
  const char* usage;
};

constexpr char kSelectorHelp[] = R"(
SELECTOR (required; all given must match)
    QUEUE_ID...       These messages, as `ferryctl queue list` prints them.
    --domain=DOMAIN   Only recipients in DOMAIN (*.example.net: its
                      subdomains); a message's other recipients are left
                      alone.
    --all             Every message in the queue.

Prints how many messages and recipients the action changed. A recipient
in a delivery attempt at that moment is counted as "in an attempt": a
hold, delete or bounce applies to it when the attempt ends, unless the
attempt delivers it, or bounces it (for a delete, that bounce sends no
DSN). So a deleted recipient that was in an attempt may still arrive.
With --json, prints the QueueActionResponse of
proto/admin.proto. An action on a large queue may take longer than the
default --timeout of 10s; ferryd completes it anyway.
)";

constexpr char kFlushUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue flush SELECTOR [--json]

Tries the selected recipients that wait for their next attempt now,
instead of after their backoff. Held recipients stay held.
)";

constexpr char kHoldUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue hold SELECTOR [--json]

Stops delivery attempts for the selected recipients until `queue
release`. The hold is written to the spool before the reply, so it
survives a restart. Held mail still ages toward the queue lifetime but
does not expire while held.
)";

constexpr char kReleaseUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue release SELECTOR [--json]

Lets the selected held recipients be delivered again, starting now.
)";

constexpr char kDeleteUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue delete SELECTOR [--json]

Removes the selected recipients from the queue. The sender is not told.
A message is gone once none of its recipients is left. This cannot be
undone.
)";

constexpr char kBounceUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue bounce SELECTOR [--json]

Fails the selected recipients now with status 5.0.0, and sends the
sender one delivery status notification (DSN) per message naming them,
as when the queue lifetime ends. Mail from the null sender <> gets no
DSN. This cannot be undone.
)";

const Action kActions[] = {
    {"flush", &Stub::Flush, "flushed", kFlushUsage},
    {"hold", &Stub::Hold, "held", kHoldUsage},
    {"release", &Stub::Release, "released", kReleaseUsage},
    {"delete", &Stub::Delete, "deleted", kDeleteUsage},
    {"bounce", &Stub::Bounce, "bounced", kBounceUsage},
};

// Builds the selector from the arguments, or returns why it cannot.
std::optional<std::string> FillSelector(const Action& action, const Args& args,
                                        v1::QueueSelector* selector) {
  selector->set_all(args.Has("all"));
  selector->set_domain(args.Value("domain"));
  for (const std::string& queue_id : args.positional()) {
    selector->add_queue_id(queue_id);
  }
  if (selector->all() && !selector->queue_id().empty()) {
    return std::string("give queue IDs or --all, not both");
  }
  if (!selector->all() && selector->domain().empty() &&
      selector->queue_id().empty()) {
    return absl::StrCat(
        "queue ", action.name,
        " needs a selector: give queue IDs, --domain=DOMAIN, or --all for "
        "the whole queue");
  }
  return std::nullopt;
}

std::string Plural(uint64_t count, const char* word) {
  return absl::StrCat(count, " ", word, count == 1 ? "" : "s");
}

int RunAction(const Action& action, const Invocation& invocation) {
  const std::string usage = absl::StrCat(action.usage, kSelectorHelp);
  if (auto code = HandleHelp(invocation.argv, usage.c_str())) return *code;
  const std::string command = absl::StrCat("queue ", action.name);
  const FlagSpec spec{
      .switches = {"all"}, .values = {"domain"}, .repeated = {}};
  std::optional<Args> args = ParseOrComplain(command, invocation.argv, spec);
  if (!args) return kExitUsage;
  v1::QueueActionRequest request;
  if (std::optional<std::string> error =
          FillSelector(action, *args, request.mutable_selector())) {
    return Fail(kExitUsage,
                absl::StrCat(*error, "; run ferryctl ", command, " --help"));
  }

  int exit_code = kExitOk;
  auto channel = ConnectOrComplain(invocation.options, &exit_code);
  if (channel == nullptr) return exit_code;
  auto stub = v1::Queue::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::QueueActionResponse response;
  grpc::Status rpc = ((*stub).*action.rpc)(&context, request, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, command, rpc);
  if (invocation.options.json) {
    PrintJson(response);
    return kExitOk;
  }

  std::string line =
      absl::StrCat(action.past, " ", Plural(response.recipients(), "recipient"),
                   " in ", Plural(response.messages(), "message"));
  if (response.in_flight() > 0) {
    absl::StrAppend(&line, "; ", Plural(response.in_flight(), "recipient"),
                    " in a delivery attempt now, changed when it ends "
                    "unless it delivers them");
  }
  printf("%s\n", line.c_str());
  return kExitOk;
}

}  // namespace

std::optional<int> RunQueueAction(const std::string& name,
                                  const Invocation& invocation) {
  for (const Action& action : kActions) {
    if (name == action.name) return RunAction(action, invocation);
  }
  return std::nullopt;
}

}  // namespace ferry::ferryctl
