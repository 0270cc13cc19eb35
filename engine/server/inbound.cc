#include "engine/server/inbound.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/base/log.h"
#include "engine/metrics/clock.h"
#include "engine/metrics/reply_counter.h"
#include "engine/server/etrn_starter.h"
#include "engine/server/message_store.h"

namespace ferry::server {
namespace {

// Sends all of `bytes`; returns false if the client is gone or too slow.
io::Task<bool> SendAll(WorkerContext* context, int fd, const std::string& bytes,
                       absl::Duration timeout) {
  size_t done = 0;
  while (done < bytes.size()) {
    const int n = co_await context->ring->Send(fd, bytes.data() + done,
                                               bytes.size() - done, timeout);
    if (n <= 0) co_return false;
    done += static_cast<size_t>(n);
  }
  co_return true;
}

absl::Duration ReadTimeout(const Settings& settings,
                           const smtp::ServerSession& session) {
  return session.phase() == smtp::ServerSession::Phase::kData
             ? settings.data_block_timeout
             : settings.command_timeout;
}

// Updates the worker's count of message content in memory after `session`
// received more, and closes the session with 421 4.3.2 if that count went
// past max_receiving_bytes.
void AccountContent(WorkerContext* context, smtp::ServerSession& session,
                    uint64_t* counted, const std::string& id) {
  const uint64_t now = session.buffered_content_size();
  context->receiving_bytes += now;
  context->receiving_bytes -= *counted;
  *counted = now;
  if (now == 0 ||
      context->receiving_bytes <= context->settings->max_receiving_bytes) {
    return;
  }
  LogWarning(id,
             "event=out_of_memory receiving_bytes=", context->receiving_bytes,
             " max_receiving_bytes=", context->settings->max_receiving_bytes);
  session.OutOfMemory();
  const auto reason = metrics::MessageRejection::kMaxReceivingBytes;
  context->metrics->messages_rejected[reason].Add();
  context->receiving_bytes -= now;
  *counted = 0;
}

metrics::MessageRejection RejectionReason(smtp::ContentRejection reason) {
  switch (reason) {
    case smtp::ContentRejection::kTooLarge:
      return metrics::MessageRejection::kMessageTooLarge;
    case smtp::ContentRejection::kBareLineEnding:
      return metrics::MessageRejection::kBareLineEnding;
    case smtp::ContentRejection::kMailLoop:
      return metrics::MessageRejection::kMailLoop;
  }
  return metrics::MessageRejection::kMessageTooLarge;
}

}  // namespace

io::Task<void> ServeInbound(WorkerContext* context,
                            const smtp::RecipientPolicy* policy,
                            InboundConnection* connection) {
  const Settings& settings = *context->settings;
  smtp::ServerSession session(settings.session, *policy, connection->client_ip);
  const std::string& id = connection->session_id;
  EtrnStarter etrn(context, id);
  if (context->queue_control != nullptr) session.SetQueueStarter(&etrn);
  LogInfo(id, "event=connect client=", connection->client_ip);
  metrics::WorkerMetrics* worker_metrics = context->metrics;
  session.set_on_content_rejected(
      [worker_metrics](smtp::ContentRejection reason) {
        worker_metrics->messages_rejected[RejectionReason(reason)].Add();
      });
  bool stopped_once = false;
  uint64_t counted = 0;  // this session's share of receiving_bytes
  uint64_t last_read_at = 0;  // MonotonicNanos() when the last read ended
  // When the end of data of the message whose 250 is in the output
  // arrived; 0 when none is.
  uint64_t stored_end_of_data_at = 0;
  while (true) {
    if (connection->stop_requested && !stopped_once) {
      stopped_once = true;
      session.ShuttingDown();
    }
    std::string output = session.TakeOutput();
    if (!output.empty()) {
      const bool sent = co_await SendAll(context, connection->fd, output,
                                         settings.command_timeout);
      if (!sent) {
        LogInfo(id, "event=disconnect reason=send_failed");
        break;
      }
      metrics::CountSmtpReplies(output, worker_metrics);
      if (stored_end_of_data_at != 0) {
        worker_metrics->end_of_data_to_250.Observe(metrics::MonotonicNanos() -
                                                   stored_end_of_data_at);
        stored_end_of_data_at = 0;
      }
    }
    if (session.closing()) {
      LogInfo(id, "event=disconnect reason=closed");
      break;
    }
    if (session.has_message()) {
      // The content now belongs to the queued message.
      context->receiving_bytes -= counted;
      counted = 0;
      // The message ended in the last read.
      const uint64_t end_of_data_at = last_read_at;
      smtp::Transaction transaction = session.TakeMessage();
      const uint64_t size = transaction.size;
      absl::StatusOr<std::string> queue_id = co_await AcceptMessage(
          context, std::move(transaction), connection->client_ip);
      if (queue_id.ok()) {
        session.MessageStored(*queue_id);
        worker_metrics->messages_received.Add();
        worker_metrics->messages_received_bytes.Add(size);
        stored_end_of_data_at = end_of_data_at;
      } else {
        LogError(id, "event=spool_failed error=",
                 LogQuote(queue_id.status().message()));
        session.MessageFailed(queue_id.status());
        const metrics::MessageRejection reason =
            absl::IsResourceExhausted(queue_id.status())
                ? metrics::MessageRejection::kSpoolFull
                : metrics::MessageRejection::kSpoolUnavailable;
        worker_metrics->messages_rejected[reason].Add();
      }
      continue;
    }
    auto [buffer, size] = session.ReadBuffer();
    if (size == 0) {
      // Cannot happen while the loop replies to each message before reading:
      // the session only stops reading while a message waits.
      LogError(id, "event=disconnect reason=no_read_buffer");
      break;
    }
    io::Operation read = context->ring->Recv(connection->fd, buffer, size,
                                             ReadTimeout(settings, session));
    connection->pending_read = &read;
    const int n = co_await read;
    connection->pending_read = nullptr;
    last_read_at = metrics::MonotonicNanos();
    if (n == -ECANCELED) {
      if (connection->stop_requested) continue;
      LogInfo(id, "event=timeout phase=",
              session.phase() == smtp::ServerSession::Phase::kData ? "data"
                                                                   : "command");
      session.TimedOut();
      continue;
    }
    if (n <= 0) {
      LogInfo(id, "event=disconnect reason=",
              n == 0 ? "client_closed" : LogQuote(strerror(-n)));
      break;
    }
    session.Commit(static_cast<size_t>(n));
    AccountContent(context, session, &counted, id);
  }
  context->receiving_bytes -= counted;
  co_await context->ring->Close(connection->fd);
  connection->fd = -1;
}

io::Task<void> RejectConnection(WorkerContext* context, int fd,
                                std::string reply) {
  const bool sent = co_await SendAll(context, fd, reply, absl::Seconds(5));
  if (sent) metrics::CountSmtpReplies(reply, context->metrics);
  co_await context->ring->Close(fd);
}

}  // namespace ferry::server
