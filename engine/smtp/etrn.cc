#include "engine/smtp/etrn.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace ferry::smtp {
namespace {

constexpr size_t kMaxDomainLength = 253;
constexpr size_t kMaxLabelLength = 63;

Reply InvalidArgument(std::string_view text) {
  return MakeReply(501, "5.5.4", std::string(text));
}

bool ValidLabel(absl::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

bool ValidDomain(absl::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomainLength) return false;
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (!ValidLabel(label)) return false;
  }
  return true;
}

// A queue name: one word of visible ASCII characters.
bool ValidQueueName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxDomainLength) return false;
  for (char c : name) {
    const unsigned char octet = static_cast<unsigned char>(c);
    if (octet <= ' ' || octet >= 0x7f) return false;
  }
  return true;
}

}  // namespace

std::optional<Reply> ParseEtrnArgument(std::string_view argument,
                                       EtrnNode* node) {
  absl::string_view text = absl::StripAsciiWhitespace(
      absl::string_view(argument.data(), argument.size()));
  if (text.empty()) return InvalidArgument("Syntax: ETRN domain");
  EtrnNode parsed;
  parsed.text = std::string(text);
  absl::string_view name = text;
  if (text.front() == '#') {
    parsed.kind = EtrnNode::Kind::kQueueName;
    name.remove_prefix(1);
    if (!ValidQueueName(name)) {
      return InvalidArgument("Invalid queue name in ETRN");
    }
    parsed.name = std::string(name);
    *node = std::move(parsed);
    return std::nullopt;
  }
  if (text.front() == '@') {
    parsed.kind = EtrnNode::Kind::kSubdomains;
    name.remove_prefix(1);
  }
  if (!ValidDomain(name)) {
    return InvalidArgument(
        "Invalid domain in ETRN; give a domain name such as example.net");
  }
  parsed.name = absl::AsciiStrToLower(name);
  *node = std::move(parsed);
  return std::nullopt;
}

Reply StartEtrnQueue(const EtrnNode& node, QueueStarter& starter,
                     std::string_view client_ip) {
  const std::string text = node.text;
  if (node.kind == EtrnNode::Kind::kQueueName) {
    return MakeReply(458, "4.3.0",
                     absl::StrCat("Unable to queue messages for node ", text,
                                  ": this server has no named queues"));
  }
  switch (starter.StartQueue(node, client_ip)) {
    case QueueStarter::Result::kStarted:
      return MakeReply(250, "2.0.0",
                       absl::StrCat("Queuing for node ", text, " started"));
    case QueueStarter::Result::kNotAllowed:
      return MakeReply(459, "4.7.1",
                       absl::StrCat("Node ", text,
                                    " not allowed: your address may not "
                                    "start its queue"));
    case QueueStarter::Result::kUnavailable:
      break;
  }
  return MakeReply(458, "4.3.0",
                   absl::StrCat("Unable to queue messages for node ", text));
}

}  // namespace ferry::smtp
