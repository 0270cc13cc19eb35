#include "engine/route/ip_prefix.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ferry::route {
namespace {

constexpr int kIpv4MappedLength = 96;
constexpr int kMaxLength = 128;

// The ::ffff:0:0/96 prefix of IPv4-mapped addresses.
constexpr uint8_t kIpv4MappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};

struct ParsedAddress {
  std::array<uint8_t, 16> bytes{};
  bool ipv4 = false;
};

// Parses an IPv4 or IPv6 address into its IPv6 form. Returns false for
// anything else. inet_pton() needs a NUL-terminated string.
bool ParseAddress(std::string_view text, ParsedAddress* out) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string copy(text);
  in_addr v4;
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    std::copy(std::begin(kIpv4MappedPrefix), std::end(kIpv4MappedPrefix),
              out->bytes.begin());
    std::memcpy(out->bytes.data() + 12, &v4, 4);
    out->ipv4 = true;
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    std::memcpy(out->bytes.data(), &v6, 16);
    out->ipv4 = false;
    return true;
  }
  return false;
}

// Returns `bytes` with every bit after the first `length` bits cleared.
std::array<uint8_t, 16> Masked(const std::array<uint8_t, 16>& bytes,
                               int length) {
  std::array<uint8_t, 16> masked{};
  const int whole = length / 8;
  std::copy(bytes.begin(), bytes.begin() + whole, masked.begin());
  if (length % 8 != 0) {
    masked[whole] =
        bytes[whole] & static_cast<uint8_t>(0xff << (8 - length % 8));
  }
  return masked;
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

bool IsIpv4Mapped(const std::array<uint8_t, 16>& bytes, int length) {
  return length >= kIpv4MappedLength &&
         std::equal(std::begin(kIpv4MappedPrefix), std::end(kIpv4MappedPrefix),
                    bytes.begin());
}

}  // namespace

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  ParsedAddress parsed;
  if (!ParseAddress(address, &parsed)) {
    return absl::InvalidArgumentError(
        "is not an IP address or CIDR prefix. Write an address such as "
        "\"192.0.2.7\" or \"2001:db8::7\", or a network such as "
        "\"192.0.2.0/24\" or \"2001:db8::/32\", without brackets");
  }
  const int max_length = parsed.ipv4 ? 32 : kMaxLength;
  int length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (!AllDigits(digits) || digits.size() > 3 ||
        !absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()),
                          &length) ||
        length > max_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "has an invalid prefix length. Write /0 to /", max_length,
          " after an ", parsed.ipv4 ? "IPv4" : "IPv6", " address"));
    }
  }
  if (parsed.ipv4) length += kIpv4MappedLength;
  const std::array<uint8_t, 16> network = Masked(parsed.bytes, length);
  if (network != parsed.bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "has bits set after the prefix length. Write the network address \"",
        IpPrefix(network, length).ToString(),
        "\", or a single address without a length"));
  }
  return IpPrefix(parsed.bytes, length);
}

bool IpPrefix::Contains(std::string_view address) const {
  ParsedAddress parsed;
  if (!ParseAddress(address, &parsed)) return false;
  return Masked(parsed.bytes, length_) == network_;
}

std::string IpPrefix::ToString() const {
  char text[INET6_ADDRSTRLEN];
  int shown_length = length_;
  if (IsIpv4Mapped(network_, length_)) {
    inet_ntop(AF_INET, network_.data() + 12, text, sizeof(text));
    shown_length -= kIpv4MappedLength;
    if (shown_length == 32) return text;
  } else {
    inet_ntop(AF_INET6, network_.data(), text, sizeof(text));
    if (shown_length == kMaxLength) return text;
  }
  return absl::StrCat(text, "/", shown_length);
}

}  // namespace ferry::route
