#include "engine/delivery/dsn.h"

#include <algorithm>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace ferry::delivery {
namespace {

// RFC 5322 section 2.1.1: a line is at most 998 octets without its CRLF,
// and should be at most 78.
constexpr size_t kMaxLineLength = 998;
constexpr size_t kFoldWidth = 78;
// Width of the text/plain explanation, and the indent of quoted replies.
constexpr size_t kTextWidth = 76;
constexpr absl::string_view kIndent = "    ";

bool Has8Bit(absl::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x80;
  });
}

// Returns `text` with control characters replaced by spaces, so that a
// value taken from the envelope cannot start a new line or field.
std::string Sanitize(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const unsigned char octet = static_cast<unsigned char>(c);
    if (octet < 0x20 || octet == 0x7f) c = ' ';
  }
  return out;
}

int HexValue(char c) {
  if (absl::ascii_isdigit(c)) return c - '0';
  return absl::ascii_tolower(c) - 'a' + 10;
}

// Decodes xtext (ORCPT and ENVID values): "+" and two hex digits stand for
// one octet. A "+" not followed by two hex digits is kept as it is.
std::string DecodeXtext(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size() &&
        absl::ascii_isxdigit(text[i + 1]) &&
        absl::ascii_isxdigit(text[i + 2])) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 +
                                      HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return Sanitize(out);
}

// Formats a date-time as RFC 5322 requires for Date: and the DSN date
// fields, in UTC: "Tue, 14 Nov 2023 22:13:20 +0000".
std::string FormatDate(absl::Time time) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", time,
                          absl::UTCTimeZone());
}

// Appends one header field, `line` being "Name: value" without CRLF,
// folded before a space so that lines stay within kFoldWidth where the
// words allow. A run of more than kMaxLineLength octets without a space is
// split inside a word, and unfolding then shows a space that the value did
// not have.
void AppendField(absl::string_view line, std::string* out) {
  std::string rest(line);
  while (rest.size() > kFoldWidth) {
    size_t cut = rest.rfind(' ', kFoldWidth);
    if (cut == std::string::npos || cut == 0) cut = rest.find(' ', 1);
    if (cut == std::string::npos || cut > kMaxLineLength) {
      cut = kMaxLineLength;
    }
    if (cut >= rest.size()) break;
    out->append(rest, 0, cut);
    out->append("\r\n");
    rest.erase(0, cut);
    if (rest.front() != ' ') rest.insert(0, 1, ' ');
  }
  absl::StrAppend(out, rest, "\r\n");
}

// Appends `text` as lines of at most kTextWidth octets where the words
// allow, each starting with `indent`. Words longer than a line are split.
void AppendWrapped(absl::string_view text, absl::string_view indent,
                   std::string* out) {
  const size_t max_word = kMaxLineLength - indent.size();
  std::string line(indent);
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (word.size() > max_word && line.size() > indent.size()) {
      absl::StrAppend(out, line, "\r\n");
      line.assign(indent.data(), indent.size());
    }
    while (word.size() > max_word) {
      absl::StrAppend(out, indent, word.substr(0, max_word), "\r\n");
      word.remove_prefix(max_word);
    }
    if (line.size() > indent.size() &&
        line.size() + 1 + word.size() > kTextWidth) {
      absl::StrAppend(out, line, "\r\n");
      line.assign(indent.data(), indent.size());
    }
    if (line.size() > indent.size()) line += ' ';
    absl::StrAppend(&line, word);
  }
  if (line.size() > indent.size()) absl::StrAppend(out, line, "\r\n");
}

// Appends the original header section with every line ending in CRLF (a
// bare CR or LF becomes CRLF) and no line over kMaxLineLength octets: a
// longer line is folded by a CRLF and a space.
void AppendOriginalHeaders(absl::string_view headers, std::string* out) {
  std::string line;
  auto flush = [&] {
    absl::string_view rest = line;
    size_t limit = kMaxLineLength;
    while (rest.size() > limit) {
      absl::StrAppend(out, rest.substr(0, limit), "\r\n ");
      rest.remove_prefix(limit);
      limit = kMaxLineLength - 1;  // room for the space that folds
    }
    absl::StrAppend(out, rest, "\r\n");
    line.clear();
  };
  for (size_t i = 0; i < headers.size(); ++i) {
    const char c = headers[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < headers.size() && headers[i + 1] == '\n') ++i;
      flush();
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty()) flush();
}

// Returns a boundary that the original headers do not contain, so that none
// of their lines can be taken for a delimiter. The other parts are built
// here and never start a line with "--". RFC 2046 allows at most 70
// characters, and the result has at most 61.
std::string ChooseBoundary(const DsnRequest& request) {
  std::string base =
      absl::StrCat("ferry.", absl::ToUnixMicros(request.now), ".");
  for (char c : request.queue_id) {
    if (absl::ascii_isalnum(c) && base.size() < 50) base.push_back(c);
  }
  std::string boundary = base;
  for (int i = 1; absl::StrContains(request.original_headers, boundary); ++i) {
    boundary = absl::StrCat(base, "=", i);
  }
  return boundary;
}

std::string Subject(const DsnRequest& request) {
  if (request.recipients.size() == 1) {
    return absl::StrCat("Subject: Delivery failed: your message to ",
                        Sanitize(request.recipients[0].address));
  }
  return absl::StrCat("Subject: Delivery failed: your message to ",
                      request.recipients.size(), " recipients");
}

void AppendTopHeaders(const DsnRequest& request, absl::string_view boundary,
                      std::string* out) {
  AppendField(absl::StrCat("From: Mail Delivery System <MAILER-DAEMON@",
                           request.hostname, ">"),
              out);
  AppendField(absl::StrCat("To: <", Sanitize(request.sender), ">"), out);
  AppendField(Subject(request), out);
  AppendField(absl::StrCat("Date: ", FormatDate(request.now)), out);
  AppendField(absl::StrCat("Message-ID: <", absl::ToUnixMicros(request.now),
                           ".", request.queue_id, "@", request.hostname, ">"),
              out);
  // RFC 3834: marks the message as automatic, so that vacation responders
  // and other auto-responders do not reply to it.
  AppendField("Auto-Submitted: auto-replied", out);
  AppendField("MIME-Version: 1.0", out);
  AppendField(absl::StrCat("Content-Type: multipart/report; "
                           "report-type=delivery-status; boundary=\"",
                           boundary, "\""),
              out);
  out->append("\r\n");
  out->append("This is a MIME-formatted delivery status notification.\r\n");
}

// Appends the explanation of one recipient's failure.
void AppendRecipientText(const FailedRecipient& recipient, std::string* out) {
  const Outcome& outcome = recipient.outcome;
  std::string intro = absl::StrCat("<", Sanitize(recipient.address), ">: ");
  if (outcome.expired) {
    absl::StrAppend(&intro,
                    "delivery time expired. The last attempt failed with:");
  } else if (outcome.from_next_hop && !recipient.remote_mta.empty()) {
    absl::StrAppend(&intro, Sanitize(recipient.remote_mta), " replied:");
  } else {
    absl::StrAppend(&intro, "delivery failed:");
  }
  out->append("\r\n");
  AppendWrapped(intro, "", out);
  AppendWrapped(Sanitize(outcome.diagnostic), kIndent, out);
}

// Returns the text of the explanation part.
std::string HumanText(const DsnRequest& request) {
  std::string text;
  AppendWrapped(
      absl::StrCat("This is the mail relay at ", request.hostname, "."), "",
      &text);
  text.append("\r\n");
  AppendWrapped(
      "Your message could not be delivered to the recipients below, and "
      "the relay will not try again. The header section of your message "
      "is attached.",
      "", &text);
  text.append("\r\n");
  AppendField(absl::StrCat("Queue ID: ", Sanitize(request.queue_id)), &text);
  AppendField(absl::StrCat("Arrival date: ", FormatDate(request.arrival)),
              &text);
  for (const FailedRecipient& recipient : request.recipients) {
    AppendRecipientText(recipient, &text);
  }
  return text;
}

void AppendHumanPart(const DsnRequest& request, std::string* out) {
  const std::string text = HumanText(request);
  AppendField(absl::StrCat("Content-Type: text/plain; charset=",
                           Has8Bit(text) ? "utf-8" : "us-ascii"),
              out);
  AppendField("Content-Description: Notification", out);
  absl::StrAppend(out, "\r\n", text);
}

// Appends Original-Recipient when an ORCPT value ("addr-type;xtext") was
// given. The field carries the address decoded from xtext.
void AppendOriginalRecipient(absl::string_view orcpt, std::string* out) {
  const size_t semicolon = orcpt.find(';');
  if (semicolon == absl::string_view::npos) return;
  AppendField(
      absl::StrCat("Original-Recipient: ", Sanitize(orcpt.substr(0, semicolon)),
                   ";", DecodeXtext(orcpt.substr(semicolon + 1))),
      out);
}

// Appends the per-recipient fields of the delivery-status part.
void AppendRecipientFields(const FailedRecipient& recipient, std::string* out) {
  out->append("\r\n");
  AppendField(
      absl::StrCat("Final-Recipient: rfc822; ", Sanitize(recipient.address)),
      out);
  AppendOriginalRecipient(recipient.orcpt, out);
  AppendField("Action: failed", out);
  AppendField(absl::StrCat("Status: ", Sanitize(recipient.outcome.status)),
              out);
  if (!recipient.remote_mta.empty()) {
    AppendField(
        absl::StrCat("Remote-MTA: dns; ", Sanitize(recipient.remote_mta)), out);
  }
  // "smtp" is for replies received from an SMTP server. Errors that the
  // relay found itself use an extension type.
  AppendField(absl::StrCat("Diagnostic-Code: ",
                           recipient.outcome.from_next_hop ? "smtp" : "X-Ferry",
                           "; ", Sanitize(recipient.outcome.diagnostic)),
              out);
  if (recipient.last_attempt != absl::InfinitePast()) {
    AppendField(
        absl::StrCat("Last-Attempt-Date: ", FormatDate(recipient.last_attempt)),
        out);
  }
}

void AppendStatusPart(const DsnRequest& request, std::string* out) {
  AppendField("Content-Type: message/delivery-status", out);
  AppendField("Content-Description: Delivery report", out);
  out->append("\r\n");
  AppendField(absl::StrCat("Reporting-MTA: dns; ", request.hostname), out);
  AppendField(absl::StrCat("X-Ferry-Queue-ID: ", Sanitize(request.queue_id)),
              out);
  if (!request.envid.empty()) {
    AppendField(
        absl::StrCat("Original-Envelope-Id: ", DecodeXtext(request.envid)),
        out);
  }
  AppendField(absl::StrCat("Arrival-Date: ", FormatDate(request.arrival)), out);
  for (const FailedRecipient& recipient : request.recipients) {
    AppendRecipientFields(recipient, out);
  }
}

void AppendHeadersPart(const DsnRequest& request, std::string* out) {
  AppendField("Content-Type: text/rfc822-headers", out);
  AppendField("Content-Description: Undelivered message headers", out);
  out->append("\r\n");
  AppendOriginalHeaders(request.original_headers, out);
}

absl::Status CheckRequest(const DsnRequest& request) {
  if (request.sender.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "queue ID ", request.queue_id,
        ": no DSN for a message from the null sender, which is itself a "
        "notification"));
  }
  if (request.hostname.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue ID ", request.queue_id,
                     ": cannot build a DSN without this relay's hostname"));
  }
  if (request.recipients.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue ID ", request.queue_id,
                     ": cannot build a DSN without failed recipients"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Dsn> BuildDsn(const DsnRequest& request) {
  absl::Status status = CheckRequest(request);
  if (!status.ok()) return status;
  const std::string boundary = ChooseBoundary(request);
  // NOTE: a UTF-8 address belongs in a message/global-delivery-status part
  // (RFC 6533), which is not built. The address is written raw instead.
  Dsn dsn;
  std::string& out = dsn.message;
  AppendTopHeaders(request, boundary, &out);
  absl::StrAppend(&out, "\r\n--", boundary, "\r\n");
  AppendHumanPart(request, &out);
  absl::StrAppend(&out, "\r\n--", boundary, "\r\n");
  AppendStatusPart(request, &out);
  absl::StrAppend(&out, "\r\n--", boundary, "\r\n");
  AppendHeadersPart(request, &out);
  absl::StrAppend(&out, "\r\n--", boundary, "--\r\n");
  dsn.has_8bit = Has8Bit(out);
  return dsn;
}

}  // namespace ferry::delivery
