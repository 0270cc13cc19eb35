// DSN construction: the RFC 3464 delivery status notification that reports
// to a sender which recipients of one message bounced and why.
//
// BuildDsn() is a pure function of its request, safe to call from any
// thread. The caller owns the rest of the bounce: it skips recipients whose
// NOTIFY excludes FAILURE, spools the DSN as a new message from the null
// sender (MAIL FROM:<>) to the original sender, and dot-stuffs it when
// sending. Because a DSN has the null sender, a DSN that bounces in turn
// gets no DSN, so bounces cannot loop.
#ifndef FERRY_ENGINE_DELIVERY_DSN_H_
#define FERRY_ENGINE_DELIVERY_DSN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/delivery/outcome.h"

namespace ferry::delivery {

// One recipient that the DSN reports as failed.
struct FailedRecipient {
  // The recipient (forward-path) as relayed, without <>: "bob@example.net".
  std::string address;
  // The ORCPT parameter as received ("rfc822;bob@example.net", xtext
  // encoded), or empty when the client sent none.
  std::string orcpt;
  // The bounce: state kBounced, a 5.x.x status and the diagnostic.
  Outcome outcome;
  // The next hop host that the last attempt reached, or empty when none
  // was reached.
  std::string remote_mta;
  // When the last attempt ended, or absl::InfinitePast() when unknown.
  absl::Time last_attempt = absl::InfinitePast();
};

// Everything a DSN reports about one message.
struct DsnRequest {
  // This relay's host name, for From:, Message-ID: and Reporting-MTA.
  std::string hostname;
  // The original message's queue ID.
  std::string queue_id;
  // The original message's sender (reverse-path) without <>. Empty for the
  // null sender, which never gets a DSN.
  std::string sender;
  // The ENVID parameter of the original MAIL command (xtext encoded), or
  // empty.
  std::string envid;
  // When the original message was accepted.
  absl::Time arrival;
  // When the DSN is built, for Date: and Message-ID:.
  absl::Time now;
  // At least one.
  std::vector<FailedRecipient> recipients;
  // The original message's header section in transfer form, without the
  // empty line that ends it.
  std::string original_headers;
};

// A DSN message ready to spool.
struct Dsn {
  // Header and body with CRLF line endings and no line over 998 octets,
  // not dot-stuffed.
  std::string message;
  // True iff the message contains octets over 127 (from a UTF-8 address,
  // reply or original header), so it must be sent with BODY=8BITMIME.
  bool has_8bit = false;
};

// Builds one multipart/report DSN (RFC 3464) for the failed recipients of
// one message. Its parts are a text/plain explanation, a
// message/delivery-status report and the original header section as
// text/rfc822-headers. Returns FailedPrecondition when the sender is empty,
// because the null sender marks a notification, and notifications about
// notifications could loop. Returns InvalidArgument when the hostname is
// empty or there are no recipients.
// NOTE: the original body is never returned, even when the sender asked
// for it with RET=FULL.
absl::StatusOr<Dsn> BuildDsn(const DsnRequest& request);

}  // namespace ferry::delivery

#endif  // FERRY_ENGINE_DELIVERY_DSN_H_
