#include "admin/ferryctl/queue_command.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "admin/ferryctl/output.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::ferryctl {
namespace {

namespace v1 = ::ferry::admin::v1;

constexpr char kQueueUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue SUBCOMMAND [ARGUMENTS] [--json]

The mail that ferryd holds for delivery.

SUBCOMMANDS
    list       Messages in the queue, oldest first, with filters.
    show       One message: its envelope and each recipient's state.
    summary    Recipients waiting per destination domain and age.
    flush      Try the selected recipients now instead of after backoff.
    hold       Stop delivery attempts until a release; kept across
               restarts.
    release    Let held recipients be delivered again, at once.
    delete     Remove recipients from the queue without telling the
               sender.
    bounce     Fail recipients now; the sender gets a bounce (DSN).

Run `ferryctl queue SUBCOMMAND --help` for its arguments.
)";

constexpr char kListUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue list [FILTERS] [QUEUE_ID...] [--json]

Lists queued messages, oldest first, one page at a time.

FILTERS (all given must match)
    --domain=DOMAIN       A recipient in DOMAIN; *.example.net matches
                          the subdomains of example.net.
    --recipient=ADDRESS   A recipient with this address (any case).
    --sender=ADDRESS      The envelope sender; --sender='<>' selects
                          bounces and other mail from the null sender.
    --state=STATE         queued (no failed attempt yet), deferred (an
                          attempt failed) or held.
    --min-age=DURATION    At least this old, e.g. 30m, 2h, 1d.
    --max-age=DURATION    At most this old.
    QUEUE_ID...           Only these messages.

PAGES
    --page-size=N         Messages per page, 1 to 10000. Default 100.
    --page-token=TOKEN    The page after the one that printed TOKEN.
    --all-pages           Fetch every page. With --json, prints one
                          object per page.

With --json, prints the ListQueueResponse of proto/admin.proto.
)";

constexpr char kShowUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue show QUEUE_ID [--json]

Shows one queued message: sender, arrival, client, size, and for each
recipient its state (pending, deferred, active, held, delivered,
bounced, deleted), attempts, next attempt and last reply.
)";

constexpr char kSummaryUsage[] =
    R"(Usage: ferryctl [GLOBAL OPTIONS] queue summary [--json]

Counts the recipients that are not yet delivered, bounced or deleted
(waiting, in an attempt, or held) per destination domain and by the age
of their message, like Postfix's qshape. Columns are upper bounds in
minutes; the last has none. The TOTAL row comes first, then domains with
the most recipients.
)";

std::string StateWord(v1::MessageState state) {
  switch (state) {
    case v1::MESSAGE_STATE_QUEUED:
      return "queued";
    case v1::MESSAGE_STATE_DEFERRED:
      return "deferred";
    case v1::MESSAGE_STATE_HELD:
      return "held";
    default:
      return "-";
  }
}

std::string RecipientStateWord(v1::RecipientState state) {
  std::string name = v1::RecipientState_Name(state);
  const std::string prefix = "RECIPIENT_STATE_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string SenderText(const std::string& sender) {
  return sender.empty() ? "<>" : sender;
}

std::string Age(const google::protobuf::Timestamp& received) {
  return HumanDuration(absl::Now() - absl::FromUnixSeconds(received.seconds()));
}

std::string RecipientsText(const v1::QueuedMessage& message) {
  if (message.recipient_size() == 0) return "-";
  std::string text = message.recipient(0).address();
  if (message.recipient_size() > 1) {
    absl::StrAppend(&text, " +", message.recipient_size() - 1);
  }
  return text;
}

// Fills the filter of `request` from the flags and QUEUE_ID arguments.
// Returns an error message for an invalid value.
std::optional<std::string> FillFilter(const Args& args,
                                      v1::ListQueueRequest* request) {
  v1::QueueFilter* filter = request->mutable_filter();
  filter->set_domain(args.Value("domain"));
  filter->set_recipient(args.Value("recipient"));
  filter->set_sender(args.Value("sender"));
  const std::string state = absl::AsciiStrToLower(args.Value("state"));
  if (state == "queued") {
    filter->set_state(v1::MESSAGE_STATE_QUEUED);
  } else if (state == "deferred") {
    filter->set_state(v1::MESSAGE_STATE_DEFERRED);
  } else if (state == "held") {
    filter->set_state(v1::MESSAGE_STATE_HELD);
  } else if (!state.empty()) {
    return absl::StrCat("--state=", args.Value("state"),
                        " is not a state; use queued, deferred or held");
  }
  for (const char* name : {"min-age", "max-age"}) {
    absl::StatusOr<std::optional<absl::Duration>> age = args.Duration(name);
    if (!age.ok()) return std::string(age.status().message());
    if (!age->has_value()) continue;
    google::protobuf::Duration* out = std::string(name) == "min-age"
                                          ? filter->mutable_min_age()
                                          : filter->mutable_max_age();
    out->set_seconds(absl::ToInt64Seconds(**age));
  }
  for (const std::string& queue_id : args.positional()) {
    filter->add_queue_id(queue_id);
  }
  absl::StatusOr<uint64_t> page_size = args.Unsigned("page-size", 0);
  if (!page_size.ok()) return std::string(page_size.status().message());
  if (args.Has("page-size") && (*page_size < 1 || *page_size > 10000)) {
    return absl::StrCat("--page-size=", *page_size,
                        " is out of range; give 1 to 10000");
  }
  request->set_page_size(static_cast<uint32_t>(*page_size));
  request->set_page_token(args.Value("page-token"));
  if (args.Has("all-pages") && args.Has("page-token")) {
    return "give --all-pages or --page-token, not both";
  }
  return std::nullopt;
}

void AddListRows(const v1::ListQueueResponse& page, Table* table) {
  for (const v1::QueuedMessage& m : page.message()) {
    table->AddRow({m.queue_id(), Age(m.received()), HumanBytes(m.size()),
                   StateWord(m.state()), SenderText(m.sender()),
                   RecipientsText(m), absl::StrCat(m.attempts()),
                   m.has_next_attempt() ? HumanTime(m.next_attempt()) : "-"});
  }
}

int RunList(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kListUsage)) return *code;
  const FlagSpec spec{
      .switches = {"all-pages"},
      .values = {"domain", "recipient", "sender", "state", "min-age", "max-age",
                 "page-size", "page-token"},
      .repeated = {},
  };
  std::optional<Args> args =
      ParseOrComplain("queue list", invocation.argv, spec);
  if (!args) return kExitUsage;

  v1::ListQueueRequest request;
  if (std::optional<std::string> error = FillFilter(*args, &request)) {
    return Fail(kExitUsage, absl::StrCat("queue list: ", *error,
                                         "; run ferryctl queue list --help"));
  }

  int exit_code = kExitOk;
  auto channel = ConnectOrComplain(invocation.options, &exit_code);
  if (channel == nullptr) return exit_code;
  auto stub = v1::Queue::NewStub(channel);
  Table table({"QUEUE ID", "AGE", "SIZE", "STATE", "SENDER", "RECIPIENTS",
               "ATTEMPTS", "NEXT ATTEMPT"});
  size_t shown = 0;
  v1::ListQueueResponse page;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(invocation.options, &context);
    grpc::Status rpc = stub->ListQueue(&context, request, &page);
    if (!rpc.ok()) return ReportRpcError(invocation.options, "queue list", rpc);
    shown += page.message_size();
    if (invocation.options.json) {
      PrintJson(page);
    } else {
      AddListRows(page, &table);
    }
    if (!args->Has("all-pages") || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }

  if (invocation.options.json) return kExitOk;
  if (page.total() == 0) {
    printf("no queued message matches\n");
    return kExitOk;
  }
  table.Print();
  printf("%zu of %llu matching messages\n", shown,
         static_cast<unsigned long long>(page.total()));
  if (!page.next_page_token().empty()) {
    printf(
        "next page: ferryctl queue list --page-token=%s (with the same "
        "filters)\n",
        page.next_page_token().c_str());
  }
  return kExitOk;
}

void PrintMessage(const v1::QueuedMessage& m) {
  PrintFields({
      {"queue id", m.queue_id()},
      {"state", StateWord(m.state())},
      {"sender", SenderText(m.sender())},
      {"received",
       absl::StrCat(HumanTime(m.received()), " (", Age(m.received()), " ago)")},
      {"client", m.client()},
      {"size", HumanBytes(m.size())},
      {"worker", absl::StrCat("w", m.worker())},
      {"attempts", absl::StrCat(m.attempts())},
      {"next attempt",
       m.has_next_attempt() ? HumanTime(m.next_attempt()) : "-"},
  });
  printf("\n");
  Table table({"RECIPIENT", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "LAST REPLY"});
  for (const v1::RecipientStatus& r : m.recipient()) {
    table.AddRow({r.address(), RecipientStateWord(r.state()),
                  absl::StrCat(r.attempts()),
                  r.has_next_attempt() ? HumanTime(r.next_attempt()) : "-",
                  r.last_reply().empty() ? "-" : r.last_reply()});
  }
  table.Print();
}

int RunShow(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kShowUsage)) return *code;
  std::optional<Args> args =
      ParseOrComplain("queue show", invocation.argv, FlagSpec{});
  if (!args) return kExitUsage;
  if (args->positional().size() != 1) {
    return Fail(kExitUsage,
                "queue show takes one queue ID, as `ferryctl queue list` "
                "prints it; run ferryctl queue show --help");
  }
  int exit_code = kExitOk;
  auto channel = ConnectOrComplain(invocation.options, &exit_code);
  if (channel == nullptr) return exit_code;
  auto stub = v1::Queue::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::ShowMessageRequest request;
  request.set_queue_id(args->positional()[0]);
  v1::ShowMessageResponse response;
  grpc::Status rpc = stub->ShowMessage(&context, request, &response);
  if (!rpc.ok()) return ReportRpcError(invocation.options, "queue show", rpc);
  if (invocation.options.json) {
    PrintJson(response);
  } else {
    PrintMessage(response.message());
  }
  return kExitOk;
}

std::vector<std::string> SummaryRow(const v1::QueueSummaryResponse::Row& row) {
  std::vector<std::string> cells = {row.domain(), absl::StrCat(row.total())};
  for (uint64_t count : row.count()) cells.push_back(absl::StrCat(count));
  return cells;
}

int RunSummary(const Invocation& invocation) {
  if (auto code = HandleHelp(invocation.argv, kSummaryUsage)) return *code;
  std::optional<Args> args =
      ParseOrComplain("queue summary", invocation.argv, FlagSpec{});
  if (!args) return kExitUsage;
  if (!args->positional().empty()) {
    return Fail(kExitUsage,
                "queue summary takes no arguments; run ferryctl "
                "queue summary --help");
  }

  int exit_code = kExitOk;
  auto channel = ConnectOrComplain(invocation.options, &exit_code);
  if (channel == nullptr) return exit_code;
  auto stub = v1::Queue::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(invocation.options, &context);
  v1::QueueSummaryResponse summary;
  grpc::Status rpc = stub->Summary(&context, {}, &summary);
  if (!rpc.ok()) {
    return ReportRpcError(invocation.options, "queue summary", rpc);
  }
  if (invocation.options.json) {
    PrintJson(summary);
    return kExitOk;
  }

  std::vector<std::string> header = {"DOMAIN", "TOTAL"};
  for (const google::protobuf::Duration& bound : summary.bucket_bound()) {
    header.push_back(absl::StrCat(bound.seconds() / 60, "m"));
  }
  header.push_back(absl::StrCat(header.back(), "+"));
  Table table(std::move(header));
  table.AddRow(SummaryRow(summary.all()));
  for (const v1::QueueSummaryResponse::Row& row : summary.row()) {
    table.AddRow(SummaryRow(row));
  }
  table.Print();
  return kExitOk;
}

}  // namespace

int RunQueue(const Invocation& invocation) {
  if (invocation.argv.empty() || invocation.argv[0] == "--help" ||
      invocation.argv[0] == "-h") {
    printf("%s", kQueueUsage);
    return invocation.argv.empty() ? kExitUsage : kExitOk;
  }
  const std::string& name = invocation.argv[0];
  const Invocation sub{invocation.options,
                       std::vector<std::string>(invocation.argv.begin() + 1,
                                                invocation.argv.end())};
  if (name == "list") return RunList(sub);
  if (name == "show") return RunShow(sub);
  if (name == "summary") return RunSummary(sub);
  if (std::optional<int> code = RunQueueAction(name, sub)) return *code;
  return Fail(kExitUsage, absl::StrCat("unknown queue subcommand \"", name,
                                       "\"; run ferryctl queue --help"));
}

}  // namespace ferry::ferryctl
