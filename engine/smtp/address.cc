#include "engine/smtp/address.h"

#include <arpa/inet.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ferry::smtp {
namespace {

constexpr size_t kMaxLabelLength = 63;  // RFC 1035 section 2.3.4

// The system Abseil is built with its own string_view type, so std ones are
// converted at the call.
absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

bool IsLetDig(unsigned char c) { return absl::ascii_isalnum(c); }

// atext of RFC 5322 section 3.2.3, ASCII part.
bool IsAsciiAtext(unsigned char c) {
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return IsLetDig(c) || (c != 0 && kSpecials.find(c) != std::string_view::npos);
}

// qtextSMTP of RFC 5321 section 4.1.2: printable ASCII except '"' and '\'.
bool IsAsciiQtext(unsigned char c) {
  return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

// dcontent of RFC 5321 section 4.1.3: printable ASCII except "[\]".
bool IsDcontent(unsigned char c) {
  return c >= 33 && c <= 126 && c != '[' && c != '\\' && c != ']';
}

// Returns the length of the well-formed UTF-8 sequence (RFC 3629) of two to
// four octets at the start of `s`, or 0 if none starts there.
size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  const unsigned char lead = s[0];
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  const unsigned char second = s[1];
  if (second < low || second > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Returns "'c'" for a printable ASCII octet and "octet 0xNN" otherwise, so
// that error messages never carry control characters.
std::string DescribeOctet(unsigned char c) {
  if (c >= 33 && c <= 126) return absl::StrCat("'", std::string(1, c), "'");
  if (c == ' ') return "space";
  return absl::StrFormat("octet 0x%02X", c);
}

bool IsIpv4Literal(std::string_view text) {
  int parts = 0;
  size_t pos = 0;
  while (true) {
    int value = 0;
    size_t digits = 0;
    while (pos < text.size() && absl::ascii_isdigit(text[pos]) && digits < 4) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    if (++parts == 4) return pos == text.size();
    if (pos >= text.size() || text[pos] != '.') return false;
    ++pos;
  }
}

bool IsIpv6Literal(std::string_view text) {
  in6_addr address;
  return inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

// General-address-literal: Standardized-tag ":" 1*dcontent, where the tag
// is an Ldh-str (letters, digits and '-', ending in a letter or digit).
bool IsGeneralLiteral(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  if (colon + 1 == text.size()) return false;
  const std::string_view tag = text.substr(0, colon);
  for (const char c : tag) {
    if (!IsLetDig(c) && c != '-') return false;
  }
  return IsLetDig(tag.back());
}

// Recursive-descent parser for one path. It keeps offsets into the input
// so that every part of the result is a copy of the bytes that were sent.
class PathParser {
 public:
  PathParser(std::string_view input, PathKind kind)
      : input_(input), kind_(kind) {}

  absl::StatusOr<Path> Parse();
  size_t consumed() const { return pos_; }

 private:
  bool AtEnd() const { return pos_ >= input_.size(); }
  unsigned char Peek() const { return input_[pos_]; }
  bool Accept(char c);
  absl::Status Unexpected(std::string_view where) const;
  // Consumes one non-ASCII UTF-8 character and flags the path as UTF-8.
  bool AcceptUtf8();

  absl::Status ParseMailbox();
  absl::Status SkipSourceRoute();
  absl::Status ParseLocalPart();
  absl::Status ParseDotString();
  absl::Status ParseQuotedString();
  absl::Status ParseDomain();
  absl::Status ParseDomainName(std::string_view where);
  absl::Status ParseAddressLiteral();

  std::string_view input_;
  PathKind kind_;
  size_t pos_ = 0;
  Path path_;
};

bool PathParser::Accept(char c) {
  if (AtEnd() || input_[pos_] != c) return false;
  ++pos_;
  return true;
}

absl::Status PathParser::Unexpected(std::string_view where) const {
  if (AtEnd()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the path ends inside the ", ToAbsl(where)));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid character ", DescribeOctet(Peek()), " in the ", ToAbsl(where)));
}

bool PathParser::AcceptUtf8() {
  const size_t length = Utf8SequenceLength(input_.substr(pos_));
  if (length == 0) return false;
  pos_ += length;
  path_.utf8 = true;
  return true;
}

absl::StatusOr<Path> PathParser::Parse() {
  if (!Accept('<')) {
    return absl::InvalidArgumentError("the path must start with '<'");
  }
  if (Accept('>')) {
    if (kind_ == PathKind::kForwardPath) {
      return absl::InvalidArgumentError(
          "the null path <> is not allowed for a recipient");
    }
    path_.null = true;
    return path_;
  }
  if (absl::Status status = ParseMailbox(); !status.ok()) return status;
  if (!Accept('>')) return Unexpected("path, expected '>'");
  if (pos_ > kMaxPathLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("the path is longer than ", kMaxPathLength, " octets"));
  }
  path_.text = path_.domain.empty()
                   ? path_.local_part
                   : absl::StrCat(path_.local_part, "@", path_.domain);
  return path_;
}

absl::Status PathParser::ParseMailbox() {
  if (!AtEnd() && Peek() == '@') {
    if (absl::Status status = SkipSourceRoute(); !status.ok()) return status;
  }
  if (absl::Status status = ParseLocalPart(); !status.ok()) return status;
  if (Accept('@')) return ParseDomain();
  // RFC 5321 section 4.1.1.3 allows "<Postmaster>" with no domain.
  if (kind_ == PathKind::kForwardPath && !AtEnd() && Peek() == '>' &&
      absl::EqualsIgnoreCase(path_.local_part, "postmaster")) {
    return absl::OkStatus();
  }
  return Unexpected("mailbox, expected '@' and a domain");
}

// A-d-l ":" of RFC 5321 section 4.1.2, such as "@a.example,@b.example:".
// It is checked and then dropped, as RFC 5321 section 4.1.1.3 allows.
absl::Status PathParser::SkipSourceRoute() {
  do {
    if (!Accept('@')) return Unexpected("source route, expected '@'");
    absl::Status status = ParseDomainName("source route");
    if (!status.ok()) return status;
  } while (Accept(','));
  if (!Accept(':')) return Unexpected("source route, expected ',' or ':'");
  return absl::OkStatus();
}

absl::Status PathParser::ParseLocalPart() {
  const size_t start = pos_;
  absl::Status status =
      (!AtEnd() && Peek() == '"') ? ParseQuotedString() : ParseDotString();
  if (!status.ok()) return status;
  path_.local_part = std::string(input_.substr(start, pos_ - start));
  if (path_.local_part.size() > kMaxLocalPartLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the local part is longer than ", kMaxLocalPartLength, " octets"));
  }
  return absl::OkStatus();
}

// Dot-string = Atom *("." Atom), where an atom is one or more atext.
absl::Status PathParser::ParseDotString() {
  while (true) {
    const size_t atom_start = pos_;
    while (!AtEnd()) {
      if (IsAsciiAtext(Peek())) {
        ++pos_;
      } else if (Peek() < 0x80 || !AcceptUtf8()) {
        break;
      }
    }
    if (pos_ == atom_start) return Unexpected("local part");
    if (!Accept('.')) return absl::OkStatus();
  }
}

// Quoted-string = DQUOTE *(qtextSMTP / "\" %d32-126) DQUOTE.
absl::Status PathParser::ParseQuotedString() {
  Accept('"');
  while (true) {
    if (AtEnd()) {
      return absl::InvalidArgumentError(
          "the quoted local part has no closing '\"'");
    }
    const unsigned char c = Peek();
    if (c == '"') {
      ++pos_;
      return absl::OkStatus();
    }
    if (c == '\\') {
      ++pos_;
      if (AtEnd() || Peek() < 32 || Peek() > 126) {
        return Unexpected("quoted local part after '\\'");
      }
      ++pos_;
    } else if (IsAsciiQtext(c)) {
      ++pos_;
    } else if (c < 0x80 || !AcceptUtf8()) {
      return Unexpected("quoted local part");
    }
  }
}

absl::Status PathParser::ParseDomain() {
  const size_t start = pos_;
  absl::Status status = (!AtEnd() && Peek() == '[') ? ParseAddressLiteral()
                                                    : ParseDomainName("domain");
  if (!status.ok()) return status;
  path_.domain = std::string(input_.substr(start, pos_ - start));
  if (path_.domain.size() > kMaxDomainLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the domain is longer than ", kMaxDomainLength, " octets"));
  }
  return absl::OkStatus();
}

// Domain = sub-domain *("." sub-domain), where a sub-domain is letters,
// digits and '-' that neither starts nor ends with '-', or a U-label
// (RFC 6531).
absl::Status PathParser::ParseDomainName(std::string_view where) {
  while (true) {
    const size_t label_start = pos_;
    while (!AtEnd()) {
      if (IsLetDig(Peek()) || Peek() == '-') {
        ++pos_;
      } else if (Peek() < 0x80 || !AcceptUtf8()) {
        break;
      }
    }
    const std::string_view label =
        input_.substr(label_start, pos_ - label_start);
    if (label.empty()) return Unexpected(where);
    if (label.front() == '-' || label.back() == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "a label in the ", ToAbsl(where), " starts or ends with '-'"));
    }
    if (label.size() > kMaxLabelLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("a label in the ", ToAbsl(where), " is longer than ",
                       kMaxLabelLength, " octets"));
    }
    if (!Accept('.')) return absl::OkStatus();
  }
}

// address-literal = "[" (IPv4 / "IPv6:" IPv6 / tag ":" dcontent) "]".
absl::Status PathParser::ParseAddressLiteral() {
  Accept('[');
  const size_t start = pos_;
  while (!AtEnd() && IsDcontent(Peek())) ++pos_;
  const std::string_view content = input_.substr(start, pos_ - start);
  if (!Accept(']')) return Unexpected("address literal, expected ']'");
  constexpr std::string_view kIpv6Tag = "IPv6:";
  bool valid = false;
  if (absl::StartsWithIgnoreCase(ToAbsl(content), ToAbsl(kIpv6Tag))) {
    valid = IsIpv6Literal(content.substr(kIpv6Tag.size()));
  } else if (content.find(':') != std::string_view::npos) {
    valid = IsGeneralLiteral(content);
  } else {
    valid = IsIpv4Literal(content);
  }
  if (!valid) {
    return absl::InvalidArgumentError(
        "the address literal is not an IPv4 address, an IPv6 address or a "
        "tagged address");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Path> ConsumePath(std::string_view* input, PathKind kind) {
  PathParser parser(*input, kind);
  absl::StatusOr<Path> path = parser.Parse();
  if (path.ok()) input->remove_prefix(parser.consumed());
  return path;
}

absl::StatusOr<Path> ParsePath(std::string_view input, PathKind kind) {
  absl::StatusOr<Path> path = ConsumePath(&input, kind);
  if (path.ok() && !input.empty()) {
    return absl::InvalidArgumentError("unexpected text after the path");
  }
  return path;
}

}  // namespace ferry::smtp
