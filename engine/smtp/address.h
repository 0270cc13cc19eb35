// Path parsing for the MAIL FROM and RCPT TO commands (RFC 5321 section
// 4.1.2, with the UTF-8 extensions of RFC 6531). A Path is a plain value
// type. The parsers are pure functions, safe to call from any thread.
#ifndef FERRY_ENGINE_SMTP_ADDRESS_H_
#define FERRY_ENGINE_SMTP_ADDRESS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ferry::smtp {

// Size limits from RFC 5321 section 4.5.3.1, in octets.
inline constexpr size_t kMaxLocalPartLength = 64;
inline constexpr size_t kMaxDomainLength = 255;
inline constexpr size_t kMaxPathLength = 256;  // with "<", ">" and the route

// A reverse-path or forward-path without its angle brackets and without
// the source route, which RFC 5321 section 4.1.1.3 lets servers ignore.
struct Path {
  bool null = false;  // the null reverse-path "<>", with every string empty
  // Exactly as the client sent it, case kept. A quoted local part keeps its
  // quotes and backslashes, so `"a\"b"` stays 6 octets.
  std::string local_part;
  // A domain name or an address literal such as "[192.0.2.1]". Empty only
  // for the "<Postmaster>" forward-path, which RFC 5321 allows without one.
  std::string domain;
  // "local_part@domain", the mailbox to forward (just local_part when the
  // domain is empty, empty for the null path).
  std::string text;
  bool utf8 = false;  // contains non-ASCII octets, so it needs SMTPUTF8
};

enum class PathKind {
  kReversePath,  // MAIL FROM: the null path "<>" is allowed
  kForwardPath,  // RCPT TO: "<>" is invalid, "<Postmaster>" is allowed
};

// Parses the path at the start of `*input`, which must begin with "<", and
// removes it (through the closing ">") from `*input`. The rest, such as
// ESMTP parameters, stays in `*input`. Returns InvalidArgument with a
// message that names the problem when no valid path starts there; then
// `*input` is unchanged.
absl::StatusOr<Path> ConsumePath(std::string_view* input, PathKind kind);

// Parses `input`, which must be exactly one path with nothing after it.
absl::StatusOr<Path> ParsePath(std::string_view input, PathKind kind);

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_ADDRESS_H_
