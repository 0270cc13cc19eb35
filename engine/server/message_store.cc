#include "engine/server/message_store.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "engine/base/log.h"
#include "engine/server/delivery_queue.h"
#include "engine/smtp/received.h"
#include "engine/spool/queue_id.h"

namespace ferry::server {

std::string NewQueueId(WorkerContext* context) {
  return spool::MakeQueueId(context->index, context->queue_id_counter++,
                            absl::ToUnixMicros(absl::Now()));
}

io::Task<absl::Status> SpoolMessage(WorkerContext* context,
                                    QueuedMessage* message) {
  std::vector<iovec> body = message->body.Iovecs();
  absl::StatusOr<std::string> prefix =
      spool::EncodeMessagePrefix(message->envelope, body);
  if (!prefix.ok()) co_return prefix.status();
  std::vector<iovec> parts;
  parts.reserve(body.size() + 1);
  parts.push_back({prefix->data(), prefix->size()});
  parts.insert(parts.end(), body.begin(), body.end());
  absl::StatusOr<spool::RecordLocation> location =
      co_await context->spool->Append(std::move(parts));
  if (!location.ok()) co_return location.status();
  message->segment = location->segment;
  message->spool_dir_index = 0;
  absl::Status tracked = context->queue->spool_directory(0)->tracker.AddMessage(
      location->segment, message->envelope.queue_id);
  if (!tracked.ok()) {
    // The message is durable and will be delivered; only the deletion of
    // its segment may come late.
    LogError(message->envelope.queue_id,
             "spool event=track_failed error=", LogQuote(tracked.message()));
  }
  co_return absl::OkStatus();
}

io::Task<absl::StatusOr<std::string>> AcceptMessage(
    WorkerContext* context, smtp::Transaction transaction,
    std::string client_ip) {
  auto message = std::make_shared<QueuedMessage>();
  const absl::Time now = absl::Now();
  spool::Envelope& envelope = message->envelope;
  envelope.queue_id = NewQueueId(context);
  envelope.arrival_unix_micros = absl::ToUnixMicros(now);
  envelope.client_ip = client_ip;
  envelope.helo = transaction.helo;
  envelope.sender = transaction.sender;
  envelope.null_sender = transaction.sender.empty();
  envelope.body_8bitmime = transaction.body_8bitmime;
  envelope.smtputf8 = transaction.smtputf8;
  envelope.envid = transaction.envid;
  envelope.ret = transaction.ret;
  for (smtp::Recipient& r : transaction.recipients) {
    envelope.recipients.push_back(
        spool::SpooledRecipient{r.address, r.orcpt, r.notify});
    QueuedRecipient queued;
    queued.domain = RecipientDomain(r.address);
    message->recipients.push_back(std::move(queued));
  }
  smtp::ReceivedInfo received;
  received.helo = transaction.helo;
  received.client_ip = client_ip;
  received.hostname = context->settings->hostname;
  received.queue_id = envelope.queue_id;
  received.esmtp = transaction.esmtp;
  received.smtputf8 = transaction.smtputf8;
  if (envelope.recipients.size() == 1) {
    received.recipient = envelope.recipients[0].address;
  }
  received.time = now;
  envelope.received_header = smtp::BuildReceivedHeader(received);
  message->body = std::move(transaction.body);
  message->arrival = now;
  absl::Status status = co_await SpoolMessage(context, message.get());
  if (!status.ok()) co_return status;
  LogInfo(envelope.queue_id, "from=<", LogQuote(envelope.sender),
          "> size=", message->body.size(),
          " nrcpt=", envelope.recipients.size(), " client=", client_ip,
          " event=queued");
  const std::string queue_id = envelope.queue_id;
  context->queue->Add(std::move(message));
  co_return queue_id;
}

}  // namespace ferry::server
