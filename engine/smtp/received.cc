#include "engine/smtp/received.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ferry::smtp {
namespace {

constexpr size_t kMaxLineLength = 78;  // RFC 5322 section 2.1.1, SHOULD
constexpr size_t kTabWidth = 8;

// Maximum length of a value taken from a peer. A domain has at most 255
// octets, and a longer EHLO argument would make a header line longer than
// the 998 octets that RFC 5322 allows.
constexpr size_t kMaxValueLength = 255;

// Returns `text` fit for one header field: cut to kMaxValueLength octets,
// control characters replaced by '?' (so no input can end the field or
// start a new header line), and octets over 0x7F too unless
// `allow_utf8` (the transaction uses SMTPUTF8, so 8-bit headers are sent
// only where the next hop accepts them).
std::string Sanitize(std::string_view text, std::string_view fallback,
                     bool allow_utf8 = false) {
  if (text.empty()) return std::string(fallback);
  std::string clean(text.substr(0, kMaxValueLength));
  for (char& c : clean) {
    const unsigned char octet = c;
    if (octet < 0x20 || octet == 0x7F || (octet > 0x7F && !allow_utf8)) {
      c = '?';
    }
  }
  return clean;
}

// Builds a folded field out of groups of units. Each group after the first
// starts a continuation line, and a unit moves to a new line when it would
// pass kMaxLineLength. A unit longer than a line stays whole.
class FieldFolder {
 public:
  explicit FieldFolder(std::string_view name)
      : text_(name), column_(name.size()) {}

  void StartLine() {
    text_ += "\r\n\t";
    column_ = kTabWidth;
    line_empty_ = true;
  }

  void Add(std::string_view unit) {
    if (!line_empty_ && column_ + 1 + unit.size() > kMaxLineLength) {
      StartLine();
    }
    // The first line has "Received:" before the first unit, so it needs a
    // space; a continuation line already starts with a tab.
    if (!line_empty_ || text_.back() == ':') {
      text_ += ' ';
      ++column_;
    }
    text_.append(unit);
    column_ += unit.size();
    line_empty_ = false;
  }

  std::string Finish() { return text_ + "\r\n"; }

 private:
  std::string text_;
  size_t column_;
  bool line_empty_ = true;
};

}  // namespace

std::string ReceivedProtocol(const ReceivedInfo& info) {
  // TLS and AUTH need EHLO, so a HELO session is always plain SMTP.
  if (!info.esmtp) return "SMTP";
  std::string protocol = info.smtputf8 ? "UTF8SMTP" : "ESMTP";
  if (info.tls) protocol += 'S';
  if (info.authenticated) protocol += 'A';
  return protocol;
}

std::string BuildReceivedHeader(const ReceivedInfo& info) {
  FieldFolder folder("Received:");
  folder.Add(absl::StrCat("from ", Sanitize(info.helo, "unknown")));
  folder.Add(absl::StrCat("(", Sanitize(info.client_hostname, "unknown")));
  folder.Add(absl::StrCat("[", Sanitize(info.client_ip, "unknown"), "])"));

  const bool one_recipient = !info.recipient.empty();
  folder.StartLine();
  folder.Add(absl::StrCat("by ", Sanitize(info.hostname, "unknown")));
  folder.Add("(ferry)");
  folder.Add(absl::StrCat("with ", ReceivedProtocol(info)));
  folder.Add(absl::StrCat("id ", Sanitize(info.queue_id, "unknown"),
                          one_recipient ? "" : ";"));

  folder.StartLine();
  if (one_recipient) {
    folder.Add(absl::StrCat("for <",
                            Sanitize(info.recipient, "", info.smtputf8), ">;"));
  }
  // RFC 5322 section 3.3 date-time, for example
  // "Tue, 01 Jul 2025 12:34:56 +0000".
  folder.Add(absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", info.time,
                              absl::UTCTimeZone()));
  return folder.Finish();
}

}  // namespace ferry::smtp
