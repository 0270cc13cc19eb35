#include "engine/delivery/outcome.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/delivery/backoff.h"

namespace ferry::delivery {
namespace {

// Appends `text` to *out with every control character (CR and LF
// included) replaced by a space, so that the diagnostic stays one line in
// logs and cannot add a field to a DSN.
void AppendSanitized(absl::string_view text, std::string* out) {
  for (char c : text) {
    const unsigned char octet = static_cast<unsigned char>(c);
    out->push_back(octet < 0x20 || octet == 0x7f ? ' ' : c);
  }
}

// Cuts *text to kMaxDiagnosticLength octets without splitting a UTF-8
// sequence.
void Truncate(std::string* text) {
  if (text->size() <= kMaxDiagnosticLength) return;
  size_t cut = kMaxDiagnosticLength;
  while (cut > 0 && (static_cast<unsigned char>((*text)[cut]) & 0xc0) == 0x80) {
    --cut;
  }
  text->resize(cut);
}

// Returns the whole reply on one line: the code, the enhanced code and
// every line of text, separated by spaces.
std::string ReplyDiagnostic(const smtp::Reply& reply) {
  std::string out = absl::StrCat(reply.code);
  if (!reply.enhanced.empty()) absl::StrAppend(&out, " ", reply.enhanced);
  for (const std::string& line : reply.lines) {
    if (!line.empty()) out += ' ';
    AppendSanitized(line, &out);
    if (out.size() > kMaxDiagnosticLength) break;
  }
  Truncate(&out);
  return out;
}

// Returns the reply's enhanced status code when its class digit matches
// `class_digit` (RFC 3463 requires that), else "<class_digit>.0.0".
std::string ReplyStatus(const smtp::Reply& reply, char class_digit) {
  if (!reply.enhanced.empty() && reply.enhanced.front() == class_digit) {
    return reply.enhanced;
  }
  return absl::StrCat(absl::string_view(&class_digit, 1), ".0.0");
}

// The one mapping from a transport error to a DSN status code. The table
// with the reasons is in outcome.h.
const char* TransportStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return "4.4.1";
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return "4.4.2";
    case absl::StatusCode::kNotFound:
      return "4.4.4";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kOutOfRange:
      return "4.5.0";
    default:
      return "4.3.0";
  }
}

// Turns a deferral at or past the queue lifetime into a bounce.
Outcome ApplyExpiry(Outcome outcome, const AttemptTiming& timing) {
  if (outcome.state != DeliveryState::kDeferred ||
      !Expired(timing.arrival, timing.now, timing.queue_lifetime)) {
    return outcome;
  }
  outcome.state = DeliveryState::kBounced;
  outcome.status = "5.4.7";
  outcome.expired = true;
  return outcome;
}

}  // namespace

std::string_view DeliveryStateName(DeliveryState state) {
  switch (state) {
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kDeferred:
      return "deferred";
    case DeliveryState::kBounced:
      return "bounced";
  }
  return "unknown";
}

Outcome ClassifyReply(const smtp::Reply& reply, ReplySource source,
                      const AttemptTiming& timing) {
  Outcome outcome;
  outcome.diagnostic = ReplyDiagnostic(reply);
  outcome.from_next_hop = source == ReplySource::kNextHop;
  if (reply.code >= 200 && reply.code < 300) {
    outcome.state = DeliveryState::kDelivered;
    outcome.status = ReplyStatus(reply, '2');
  } else if (reply.transient()) {
    outcome.state = DeliveryState::kDeferred;
    outcome.status = ReplyStatus(reply, '4');
  } else if (reply.permanent()) {
    outcome.state = DeliveryState::kBounced;
    outcome.status = ReplyStatus(reply, '5');
  } else {
    // 1xx, 3xx or a code outside 100..599 is no final reply for a
    // recipient, so the next hop broke the protocol.
    outcome.state = DeliveryState::kDeferred;
    outcome.status = "4.5.0";
  }
  return ApplyExpiry(std::move(outcome), timing);
}

Outcome ClassifyTransportError(const absl::Status& error,
                               const AttemptTiming& timing) {
  Outcome outcome;
  outcome.state = DeliveryState::kDeferred;
  outcome.status = TransportStatus(error.code());
  if (error.message().empty()) {
    outcome.diagnostic = absl::StatusCodeToString(error.code());
  } else {
    AppendSanitized(error.message(), &outcome.diagnostic);
    Truncate(&outcome.diagnostic);
  }
  return ApplyExpiry(std::move(outcome), timing);
}

Outcome OperatorBounce(std::string_view last_reply) {
  Outcome outcome;
  outcome.state = DeliveryState::kBounced;
  outcome.status = "5.0.0";
  outcome.diagnostic = "bounced by the relay operator";
  if (!last_reply.empty()) {
    outcome.diagnostic += "; last attempt: ";
    AppendSanitized(absl::string_view(last_reply.data(), last_reply.size()),
                    &outcome.diagnostic);
  }
  Truncate(&outcome.diagnostic);
  return outcome;
}

}  // namespace ferry::delivery
