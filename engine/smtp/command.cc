#include "engine/smtp/command.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ferry::smtp {
namespace {

constexpr size_t kMaxEnvidLength = 100;  // RFC 3461, ENVID
constexpr size_t kMaxOrcptLength = 500;  // RFC 3461, ORCPT
constexpr size_t kMaxNumberDigits = 20;  // enough for any uint64_t

// The system Abseil is built with its own string_view type, so std ones are
// converted at the call.
absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::string ToUpper(std::string_view s) {
  std::string upper(s);
  for (char& c : upper) c = absl::ascii_toupper(static_cast<unsigned char>(c));
  return upper;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool ConsumePrefixIgnoreCase(std::string_view* s, std::string_view prefix) {
  if (s->size() < prefix.size()) return false;
  if (!EqualsIgnoreCase(s->substr(0, prefix.size()), prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

Reply InvalidArguments(std::string_view text) {
  return MakeReply(501, "5.5.4", std::string(text));
}

Reply SizeExceeded() {
  return MakeReply(552, "5.3.4",
                   "Message size exceeds fixed maximum message size");
}

ParsedCommand Fail(Verb verb, Reply reply) {
  ParsedCommand result;
  result.command.verb = verb;
  result.error = std::move(reply);
  return result;
}

ParsedCommand Succeed(Command command) {
  ParsedCommand result;
  result.command = std::move(command);
  return result;
}

// Parses 1*DIGIT into *value. Returns false if `text` is not all digits;
// sets *overflow when the number does not fit in 64 bits.
bool ParseNumber(std::string_view text, uint64_t* value, bool* overflow) {
  *value = 0;
  *overflow = false;
  if (text.empty()) return false;
  for (const char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    const uint64_t digit = c - '0';
    if (*value > (UINT64_MAX - digit) / 10) *overflow = true;
    if (!*overflow) *value = *value * 10 + digit;
  }
  return true;
}

// xtext of RFC 3461: printable ASCII except '+' and '=', with
// "+XX" (upper-case hex) standing for any octet.
bool IsXtext(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (c == '+') {
      if (i + 2 >= text.size()) return false;
      for (size_t j = i + 1; j <= i + 2; ++j) {
        const char h = text[j];
        if (!absl::ascii_isdigit(h) && (h < 'A' || h > 'F')) return false;
      }
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

// ---- ESMTP parameters (RFC 5321 section 4.1.2) ----

// One "esmtp-keyword [= esmtp-value]" with its keyword in upper case.
struct Parameter {
  std::string keyword;
  std::string_view value;
  bool has_value = false;
};

bool IsKeyword(std::string_view text) {
  if (text.empty() || !absl::ascii_isalnum(text.front())) return false;
  for (const char c : text) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

// esmtp-value: printable ASCII except '=', plus the non-ASCII octets that
// RFC 6531 allows.
bool IsValueOctet(unsigned char c) {
  return (c >= 33 && c <= 126 && c != '=') || c >= 0x80;
}

// Splits one space-separated token into *parameter. Returns the reply
// that rejects a malformed token.
std::optional<Reply> SplitParameter(std::string_view token,
                                    Parameter* parameter) {
  const size_t equals = token.find('=');
  const std::string_view keyword = token.substr(0, equals);
  if (!IsKeyword(keyword)) {
    return InvalidArguments("Invalid parameter keyword");
  }
  parameter->keyword = ToUpper(keyword);
  parameter->has_value = equals != std::string_view::npos;
  if (!parameter->has_value) return std::nullopt;
  parameter->value = token.substr(equals + 1);
  if (parameter->value.empty()) {
    return InvalidArguments(
        absl::StrCat("Empty value for parameter ", parameter->keyword));
  }
  for (const char c : parameter->value) {
    if (!IsValueOctet(c)) {
      return InvalidArguments(absl::StrCat(
          "Invalid character in the value of parameter ", parameter->keyword));
    }
  }
  return std::nullopt;
}

std::optional<Reply> RequireValue(const Parameter& parameter) {
  if (parameter.has_value) return std::nullopt;
  return InvalidArguments(
      absl::StrCat("Parameter ", parameter.keyword, " requires a value"));
}

std::optional<Reply> ParseSize(const Parameter& parameter,
                               const CommandLimits& limits,
                               MailParameters* mail) {
  if (auto error = RequireValue(parameter)) return error;
  uint64_t size = 0;
  bool overflow = false;
  if (!ParseNumber(parameter.value, &size, &overflow)) {
    return InvalidArguments("SIZE must be a number of octets");
  }
  if (overflow || size > limits.max_message_size) return SizeExceeded();
  mail->size = size;
  return std::nullopt;
}

std::optional<Reply> ParseBody(const Parameter& parameter, const CommandLimits&,
                               MailParameters* mail) {
  if (auto error = RequireValue(parameter)) return error;
  if (EqualsIgnoreCase(parameter.value, "8BITMIME")) {
    mail->body_8bitmime = true;
  } else if (!EqualsIgnoreCase(parameter.value, "7BIT")) {
    return InvalidArguments("BODY must be 7BIT or 8BITMIME");
  }
  return std::nullopt;
}

std::optional<Reply> ParseSmtputf8(const Parameter& parameter,
                                   const CommandLimits&, MailParameters* mail) {
  if (parameter.has_value) return InvalidArguments("SMTPUTF8 takes no value");
  mail->smtputf8 = true;
  return std::nullopt;
}

std::optional<Reply> ParseRet(const Parameter& parameter, const CommandLimits&,
                              MailParameters* mail) {
  if (auto error = RequireValue(parameter)) return error;
  mail->ret = ToUpper(parameter.value);
  if (mail->ret != "FULL" && mail->ret != "HDRS") {
    return InvalidArguments("RET must be FULL or HDRS");
  }
  return std::nullopt;
}

std::optional<Reply> ParseEnvid(const Parameter& parameter,
                                const CommandLimits&, MailParameters* mail) {
  if (auto error = RequireValue(parameter)) return error;
  if (parameter.value.size() > kMaxEnvidLength || !IsXtext(parameter.value)) {
    return InvalidArguments("ENVID must be xtext of at most 100 characters");
  }
  mail->envid = std::string(parameter.value);
  return std::nullopt;
}

std::optional<Reply> ParseNotify(const Parameter& parameter,
                                 RcptParameters* rcpt) {
  if (auto error = RequireValue(parameter)) return error;
  const std::string value = ToUpper(parameter.value);
  bool never = false;
  int conditions = 0;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    const std::string_view item =
        std::string_view(value).substr(start, comma - start);
    if (item == "NEVER") {
      never = true;
    } else if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY") {
      return InvalidArguments(
          "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
    }
    ++conditions;
    start = comma + 1;
  }
  if (never && conditions > 1) {
    return InvalidArguments("NOTIFY=NEVER cannot be combined with others");
  }
  rcpt->notify = value;
  return std::nullopt;
}

// ORCPT = addr-type ";" xtext. The value is kept as sent, for the DSN.
std::optional<Reply> ParseOrcpt(const Parameter& parameter,
                                RcptParameters* rcpt) {
  if (auto error = RequireValue(parameter)) return error;
  const size_t semicolon = parameter.value.find(';');
  const bool valid = semicolon != std::string_view::npos &&
                     IsKeyword(parameter.value.substr(0, semicolon)) &&
                     semicolon + 1 < parameter.value.size() &&
                     parameter.value.size() <= kMaxOrcptLength;
  if (!valid) return InvalidArguments("ORCPT must be addr-type;address");
  rcpt->orcpt = std::string(parameter.value);
  return std::nullopt;
}

std::optional<Reply> Unsupported(const Parameter& parameter) {
  return MakeReply(555, "5.5.4",
                   absl::StrCat("Unsupported parameter ", parameter.keyword));
}

using MailParameterParser = std::optional<Reply> (*)(const Parameter&,
                                                     const CommandLimits&,
                                                     MailParameters*);

struct MailKeyword {
  std::string_view keyword;
  MailParameterParser parse;
};

constexpr MailKeyword kMailKeywords[] = {
    {"SIZE", ParseSize}, {"BODY", ParseBody},   {"SMTPUTF8", ParseSmtputf8},
    {"RET", ParseRet},   {"ENVID", ParseEnvid},
};

std::optional<Reply> ApplyMailParameter(const Parameter& parameter,
                                        const CommandLimits& limits,
                                        Command* command) {
  for (const MailKeyword& entry : kMailKeywords) {
    if (parameter.keyword == entry.keyword) {
      return entry.parse(parameter, limits, &command->mail);
    }
  }
  return Unsupported(parameter);
}

std::optional<Reply> ApplyRcptParameter(const Parameter& parameter,
                                        const CommandLimits&,
                                        Command* command) {
  if (parameter.keyword == "NOTIFY") {
    return ParseNotify(parameter, &command->rcpt);
  }
  if (parameter.keyword == "ORCPT") {
    return ParseOrcpt(parameter, &command->rcpt);
  }
  return Unsupported(parameter);
}

using ParameterApplier = std::optional<Reply> (*)(const Parameter&,
                                                  const CommandLimits&,
                                                  Command*);

// Parses the space-separated parameters in `text`, left to right, stopping
// at the first problem.
std::optional<Reply> ParseParameters(std::string_view text,
                                     const CommandLimits& limits,
                                     ParameterApplier apply, Command* command) {
  std::vector<std::string> seen;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view token = text.substr(0, space);
    text = space == std::string_view::npos ? "" : text.substr(space + 1);
    if (token.empty()) continue;  // tolerate repeated spaces
    Parameter parameter;
    if (auto error = SplitParameter(token, &parameter)) return error;
    for (const std::string& keyword : seen) {
      if (keyword == parameter.keyword) {
        return InvalidArguments(
            absl::StrCat("Duplicate parameter ", parameter.keyword));
      }
    }
    seen.push_back(parameter.keyword);
    if (auto error = apply(parameter, limits, command)) return error;
  }
  return std::nullopt;
}

// ---- Verbs ----

// "MAIL FROM:" and "RCPT TO:" take the path right after the colon (RFC 5321
// section 4.1.1.2). One space there is tolerated, as common MTAs do.
ParsedCommand ParsePathCommand(Verb verb, std::string_view args,
                               const CommandLimits& limits) {
  const bool mail = verb == Verb::kMail;
  if (!ConsumePrefixIgnoreCase(&args, mail ? "FROM:" : "TO:")) {
    return Fail(verb, InvalidArguments(mail ? "Syntax: MAIL FROM:<address>"
                                            : "Syntax: RCPT TO:<address>"));
  }
  if (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  Command command;
  command.verb = verb;
  absl::StatusOr<Path> path = ConsumePath(
      &args, mail ? PathKind::kReversePath : PathKind::kForwardPath);
  if (path.ok() && !args.empty() && args.front() != ' ') {
    path = absl::InvalidArgumentError("unexpected text after the path");
  }
  if (!path.ok()) {
    return Fail(verb,
                MakeReply(501, mail ? "5.1.7" : "5.1.3",
                          absl::StrCat(mail ? "Invalid sender address: "
                                            : "Invalid recipient address: ",
                                       path.status().message())));
  }
  command.path = *std::move(path);
  const ParameterApplier apply = mail ? ApplyMailParameter : ApplyRcptParameter;
  if (auto error = ParseParameters(args, limits, apply, &command)) {
    return Fail(verb, *std::move(error));
  }
  return Succeed(std::move(command));
}

// EHLO and HELO take a domain or an address literal. Any single word of
// visible characters is accepted, because clients often send names that
// are not valid domains, and the word only ends up in the Received field.
ParsedCommand ParseGreeting(Verb verb, std::string_view args,
                            const CommandLimits&) {
  args = TrimSpaces(args);
  const std::string_view name = verb == Verb::kEhlo ? "EHLO" : "HELO";
  if (args.empty()) {
    return Fail(verb, InvalidArguments(
                          absl::StrCat("Syntax: ", ToAbsl(name), " domain")));
  }
  for (const char c : args) {
    const unsigned char octet = c;
    if (octet <= ' ' || octet == 0x7F) {
      return Fail(verb, InvalidArguments(absl::StrCat(
                            "Invalid ", ToAbsl(name),
                            " domain: it contains a space or control "
                            "character")));
    }
  }
  Command command;
  command.verb = verb;
  command.argument = std::string(args);
  return Succeed(std::move(command));
}

// BDAT chunk-size [SP "LAST"] (RFC 3030).
ParsedCommand ParseBdat(Verb verb, std::string_view args,
                        const CommandLimits&) {
  args = TrimSpaces(args);
  const size_t space = args.find(' ');
  const std::string_view size_text = args.substr(0, space);
  const std::string_view marker =
      space == std::string_view::npos ? "" : TrimSpaces(args.substr(space));
  Command command;
  command.verb = verb;
  bool overflow = false;
  const bool number = size_text.size() <= kMaxNumberDigits &&
                      ParseNumber(size_text, &command.chunk_size, &overflow);
  command.last_chunk = EqualsIgnoreCase(marker, "LAST");
  if (!number || overflow || (!marker.empty() && !command.last_chunk)) {
    return Fail(verb, InvalidArguments("Syntax: BDAT octets [LAST]"));
  }
  return Succeed(std::move(command));
}

ParsedCommand ParseNoArgument(Verb verb, std::string_view args,
                              const CommandLimits&) {
  if (!TrimSpaces(args).empty()) {
    return Fail(verb, InvalidArguments("This command takes no arguments"));
  }
  Command command;
  command.verb = verb;
  return Succeed(std::move(command));
}

ParsedCommand ParseOptionalArgument(Verb verb, std::string_view args,
                                    const CommandLimits&) {
  Command command;
  command.verb = verb;
  command.argument = std::string(TrimSpaces(args));
  return Succeed(std::move(command));
}

ParsedCommand ParseVrfy(Verb verb, std::string_view args,
                        const CommandLimits& limits) {
  if (TrimSpaces(args).empty()) {
    return Fail(verb, InvalidArguments("Syntax: VRFY address"));
  }
  return ParseOptionalArgument(verb, args, limits);
}

ParsedCommand ParseEtrn(Verb verb, std::string_view args,
                        const CommandLimits&) {
  Command command;
  command.verb = verb;
  if (std::optional<Reply> error = ParseEtrnArgument(args, &command.etrn)) {
    return Fail(verb, *std::move(error));
  }
  return Succeed(std::move(command));
}

using VerbParser = ParsedCommand (*)(Verb, std::string_view,
                                     const CommandLimits&);

struct VerbEntry {
  std::string_view name;
  Verb verb;
  VerbParser parse;
};

constexpr VerbEntry kVerbs[] = {
    {"EHLO", Verb::kEhlo, ParseGreeting},
    {"HELO", Verb::kHelo, ParseGreeting},
    {"MAIL", Verb::kMail, ParsePathCommand},
    {"RCPT", Verb::kRcpt, ParsePathCommand},
    {"DATA", Verb::kData, ParseNoArgument},
    {"BDAT", Verb::kBdat, ParseBdat},
    {"RSET", Verb::kRset, ParseNoArgument},
    {"NOOP", Verb::kNoop, ParseOptionalArgument},
    {"QUIT", Verb::kQuit, ParseNoArgument},
    {"VRFY", Verb::kVrfy, ParseVrfy},
    {"HELP", Verb::kHelp, ParseOptionalArgument},
    {"ETRN", Verb::kEtrn, ParseEtrn},
};

}  // namespace

ParsedCommand ParseCommand(std::string_view line, const CommandLimits& limits) {
  if (TrimSpaces(line).empty()) {
    return Fail(Verb::kUnknown, MakeReply(500, "5.5.2", "Empty command line"));
  }
  const size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view args =
      space == std::string_view::npos ? "" : line.substr(space + 1);
  for (const VerbEntry& entry : kVerbs) {
    if (EqualsIgnoreCase(verb, entry.name)) {
      return entry.parse(entry.verb, args, limits);
    }
  }
  return Fail(Verb::kUnknown, MakeReply(500, "5.5.1", "Unknown command"));
}

}  // namespace ferry::smtp
