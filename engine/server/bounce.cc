#include "engine/server/bounce.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/delivery/dsn.h"
#include "engine/server/message_store.h"
#include "engine/smtp/dot_stuffer.h"

namespace ferry::server {
namespace {

// Returns the Received: field and the header section of `message` (in
// transfer form), without the empty line that ends the header section.
std::string OriginalHeaders(const QueuedMessage& message) {
  std::string headers = message.envelope.received_header;
  std::string body_start;
  // The header section is normally small; look at the first 64 KiB.
  message.body.CopyOut(0, std::min<size_t>(message.body.size(), 64 * 1024),
                       &body_start);
  size_t end = body_start.find("\r\n\r\n");
  if (body_start.rfind("\r\n", 0) == 0) {
    end = 0;  // the body starts with the empty line: no header fields
  } else if (end == std::string::npos) {
    end = body_start.size();
  } else {
    end += 2;  // keep the CRLF of the last header line
  }
  headers.append(body_start, 0, end);
  return headers;
}

}  // namespace

bool NotifyOnFailure(const std::string& notify) {
  if (notify.empty()) return true;
  for (absl::string_view word : absl::StrSplit(notify, ',')) {
    if (absl::EqualsIgnoreCase(word, "FAILURE")) return true;
  }
  return false;
}

io::Task<absl::StatusOr<std::shared_ptr<QueuedMessage>>> StoreBounce(
    WorkerContext* context, const QueuedMessage& original,
    const std::vector<BouncedRecipient>& bounced) {
  const absl::Time now = absl::Now();
  delivery::DsnRequest request;
  request.hostname = context->settings->hostname;
  request.queue_id = original.envelope.queue_id;
  request.sender = original.envelope.sender;
  request.envid = original.envelope.envid;
  request.arrival = original.arrival;
  request.now = now;
  for (const BouncedRecipient& b : bounced) {
    const spool::SpooledRecipient& r = original.envelope.recipients[b.index];
    if (!NotifyOnFailure(r.notify)) continue;
    request.recipients.push_back(delivery::FailedRecipient{
        r.address, r.orcpt, b.outcome, b.next_hop, now});
  }
  if (request.recipients.empty()) co_return nullptr;
  request.original_headers = OriginalHeaders(original);
  absl::StatusOr<delivery::Dsn> dsn = delivery::BuildDsn(request);
  if (!dsn.ok()) co_return dsn.status();

  auto message = std::make_shared<QueuedMessage>();
  spool::Envelope& envelope = message->envelope;
  envelope.queue_id = NewQueueId(context);
  envelope.arrival_unix_micros = absl::ToUnixMicros(now);
  envelope.client_ip = "127.0.0.1";
  envelope.helo = context->settings->hostname;
  envelope.null_sender = true;
  envelope.body_8bitmime = dsn->has_8bit;
  envelope.recipients.push_back({original.envelope.sender, "", ""});
  QueuedRecipient recipient;
  recipient.domain = RecipientDomain(original.envelope.sender);
  message->recipients.push_back(std::move(recipient));
  message->arrival = now;
  message->body.Append(smtp::DotStuff(dsn->message));
  absl::Status status = co_await SpoolMessage(context, message.get());
  if (!status.ok()) co_return status;
  co_return message;
}

}  // namespace ferry::server
