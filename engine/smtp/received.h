// The Received: trace field (RFC 5321 section 4.4) that the relay puts in
// front of each message it accepts. Pure functions over a plain value type,
// safe to call from any thread.
#ifndef FERRY_ENGINE_SMTP_RECEIVED_H_
#define FERRY_ENGINE_SMTP_RECEIVED_H_

#include <string>

#include "absl/time/time.h"

namespace ferry::smtp {

struct ReceivedInfo {
  std::string helo;             // the EHLO or HELO argument
  std::string client_hostname;  // reverse DNS name, or empty for "unknown"
  std::string client_ip;        // "192.0.2.1" or "2001:db8::1"
  std::string hostname;         // this relay's name
  bool esmtp = false;           // the client greeted with EHLO
  bool tls = false;             // the session runs over TLS
  bool authenticated = false;   // the client authenticated (AUTH)
  bool smtputf8 = false;        // the transaction used SMTPUTF8
  std::string queue_id;
  // The only recipient, without angle brackets. Leave empty when there are
  // several, so that the field does not disclose the others.
  std::string recipient;
  absl::Time time;
};

// Returns the "with" protocol name: SMTP, ESMTP, ESMTPS, ESMTPA or ESMTPSA
// (RFC 3848), or UTF8SMTP, UTF8SMTPS, UTF8SMTPA or UTF8SMTPSA (RFC 6531).
std::string ReceivedProtocol(const ReceivedInfo& info);

// Returns the whole header field, ending in CRLF, for example
//   Received: from client.example (mx.client.example [192.0.2.1])
//   \tby relay.example (ferry) with ESMTPS id 0123ABCD
//   \tfor <bob@example.net>; Tue, 01 Jul 2025 12:34:56 +0000
// The date is in UTC. Lines are folded before 78 columns where the words
// allow it. Control characters in the inputs become '?', so the field is
// always one header field, and its continuation lines start with a tab, so
// no line starts with ".".
std::string BuildReceivedHeader(const ReceivedInfo& info);

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_RECEIVED_H_
