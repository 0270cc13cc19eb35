#include "engine/delivery/outcome.h"

#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ferry::delivery {
namespace {

const absl::Time kArrival = absl::FromUnixSeconds(1700000000);
const absl::Duration kLifetime = absl::Hours(24 * 5);

// An attempt `age` after arrival.
AttemptTiming At(absl::Duration age) {
  return AttemptTiming{kArrival, kArrival + age, kLifetime};
}

smtp::Reply MakeReply(int code, std::string enhanced,
                      std::vector<std::string> lines) {
  smtp::Reply reply;
  reply.code = code;
  reply.enhanced = std::move(enhanced);
  reply.lines = std::move(lines);
  return reply;
}

struct ReplyCase {
  std::string name;
  smtp::Reply reply;
  ReplySource source;
  DeliveryState state;
  std::string status;
  std::string diagnostic;
};

TEST(ClassifyReply, FollowsReplyClass) {
  const ReplySource kRemote = ReplySource::kNextHop;
  const std::vector<ReplyCase> cases = {
      {"Ok", MakeReply(250, "2.0.0", {"ok"}), kRemote,
       DeliveryState::kDelivered, "2.0.0", "250 2.0.0 ok"},
      {"OkWithoutEnhanced", MakeReply(250, "", {"ok"}), kRemote,
       DeliveryState::kDelivered, "2.0.0", "250 ok"},
      {"WillForward", MakeReply(251, "2.1.5", {"forwarded"}), kRemote,
       DeliveryState::kDelivered, "2.1.5", "251 2.1.5 forwarded"},
      {"Greylisted", MakeReply(450, "4.2.0", {"try later"}), kRemote,
       DeliveryState::kDeferred, "4.2.0", "450 4.2.0 try later"},
      {"ServiceClosing", MakeReply(421, "", {"closing"}), kRemote,
       DeliveryState::kDeferred, "4.0.0", "421 closing"},
      {"NoSuchUser", MakeReply(550, "5.1.1", {"no such user"}), kRemote,
       DeliveryState::kBounced, "5.1.1", "550 5.1.1 no such user"},
      {"PermanentWithoutEnhanced", MakeReply(554, "", {"no"}), kRemote,
       DeliveryState::kBounced, "5.0.0", "554 no"},
      {"EnhancedClassMismatch", MakeReply(550, "4.1.1", {"odd"}), kRemote,
       DeliveryState::kBounced, "5.0.0", "550 4.1.1 odd"},
      {"IntermediateReply", MakeReply(354, "", {"go ahead"}), kRemote,
       DeliveryState::kDeferred, "4.5.0", "354 go ahead"},
      {"CodeZero", MakeReply(0, "", {}), kRemote, DeliveryState::kDeferred,
       "4.5.0", "0"},
      {"BareCode", MakeReply(250, "", {""}), kRemote, DeliveryState::kDelivered,
       "2.0.0", "250"},
      {"LocalConnectionLost",
       MakeReply(451, "4.4.2", {"lost connection after end of data"}),
       ReplySource::kLocal, DeliveryState::kDeferred, "4.4.2",
       "451 4.4.2 lost connection after end of data"},
      {"LocalNo8BitMime",
       MakeReply(554, "5.6.3", {"next hop does not offer 8BITMIME"}),
       ReplySource::kLocal, DeliveryState::kBounced, "5.6.3",
       "554 5.6.3 next hop does not offer 8BITMIME"},
      {"MultiLine", MakeReply(550, "5.1.1", {"first", "second"}), kRemote,
       DeliveryState::kBounced, "5.1.1", "550 5.1.1 first second"},
      {"ControlCharacters",
       MakeReply(550, "5.7.1", {"evil\r\nX-Injected: yes\ttab"}), kRemote,
       DeliveryState::kBounced, "5.7.1", "550 5.7.1 evil  X-Injected: yes tab"},
  };
  for (const ReplyCase& test : cases) {
    SCOPED_TRACE(test.name);
    const Outcome outcome =
        ClassifyReply(test.reply, test.source, At(absl::Minutes(1)));
    EXPECT_EQ(outcome.state, test.state);
    EXPECT_EQ(outcome.status, test.status);
    EXPECT_EQ(outcome.diagnostic, test.diagnostic);
    EXPECT_EQ(outcome.from_next_hop, test.source == ReplySource::kNextHop);
    EXPECT_FALSE(outcome.expired);
  }
}

struct ExpiryCase {
  std::string name;
  int code;
  std::string enhanced;
  absl::Duration age;
  DeliveryState state;
  std::string status;
  bool expired;
};

TEST(ClassifyReply, BouncesDeferralAfterLifetime) {
  const std::vector<ExpiryCase> cases = {
      {"DeferBeforeLifetime", 450, "4.2.0", kLifetime - absl::Seconds(1),
       DeliveryState::kDeferred, "4.2.0", false},
      {"DeferAtLifetime", 450, "4.2.0", kLifetime, DeliveryState::kBounced,
       "5.4.7", true},
      {"DeferPastLifetime", 421, "", kLifetime + absl::Hours(1),
       DeliveryState::kBounced, "5.4.7", true},
      {"BounceKeepsItsStatus", 550, "5.1.1", kLifetime + absl::Hours(1),
       DeliveryState::kBounced, "5.1.1", false},
      {"DeliveryStillCounts", 250, "2.0.0", kLifetime + absl::Hours(1),
       DeliveryState::kDelivered, "2.0.0", false},
  };
  for (const ExpiryCase& test : cases) {
    SCOPED_TRACE(test.name);
    const smtp::Reply reply = MakeReply(test.code, test.enhanced, {"text"});
    const Outcome outcome =
        ClassifyReply(reply, ReplySource::kNextHop, At(test.age));
    EXPECT_EQ(outcome.state, test.state);
    EXPECT_EQ(outcome.status, test.status);
    EXPECT_EQ(outcome.expired, test.expired);
  }
}

TEST(ClassifyReply, ExpiryKeepsLastReply) {
  const Outcome outcome = ClassifyReply(MakeReply(451, "4.3.0", {"queue full"}),
                                        ReplySource::kNextHop, At(kLifetime));
  EXPECT_EQ(outcome.diagnostic, "451 4.3.0 queue full");
  EXPECT_TRUE(outcome.from_next_hop);
}

TEST(ClassifyReply, LongReplyIsTruncated) {
  const std::vector<std::string> lines(1000, std::string(100, 'x'));
  const Outcome outcome =
      ClassifyReply(MakeReply(550, "5.1.1", lines), ReplySource::kNextHop,
                    At(absl::Minutes(1)));
  EXPECT_EQ(outcome.diagnostic.size(), kMaxDiagnosticLength);
  EXPECT_EQ(outcome.diagnostic.substr(0, 12), "550 5.1.1 xx");
}

struct TransportCase {
  std::string name;
  absl::Status error;
  std::string status;
};

TEST(ClassifyTransportError, DefersWithStatusFromCode) {
  const std::vector<TransportCase> cases = {
      {"Refused", absl::ErrnoToStatus(ECONNREFUSED, "connect to 127.0.0.1:25"),
       "4.4.1"},
      {"Reset", absl::ErrnoToStatus(ECONNRESET, "read from 127.0.0.1:25"),
       "4.4.1"},
      {"Unreachable", absl::ErrnoToStatus(EHOSTUNREACH, "connect"), "4.4.1"},
      {"DnsTemporary", absl::UnavailableError("mx.example.net: SERVFAIL"),
       "4.4.1"},
      {"TimedOut", absl::ErrnoToStatus(ETIMEDOUT, "connect"), "4.4.2"},
      {"LinkedTimeout", absl::ErrnoToStatus(ECANCELED, "recv"), "4.4.2"},
      {"BrokenPipe", absl::ErrnoToStatus(EPIPE, "send"), "4.4.2"},
      {"NoSuchDomain",
       absl::NotFoundError("next hop mx.example.net: no such domain"), "4.4.4"},
      {"MalformedReply", absl::DataLossError("reply line without a code"),
       "4.5.0"},
      {"ReplyTooLong", absl::OutOfRangeError("reply over 1000 lines"), "4.5.0"},
      {"BadReplySyntax", absl::InvalidArgumentError("bad reply"), "4.5.0"},
      {"TooManyFiles", absl::ErrnoToStatus(EMFILE, "socket"), "4.3.0"},
      {"Internal", absl::InternalError("bug"), "4.3.0"},
      {"OkStatus", absl::OkStatus(), "4.3.0"},
  };
  for (const TransportCase& test : cases) {
    SCOPED_TRACE(test.name);
    const Outcome outcome =
        ClassifyTransportError(test.error, At(absl::Minutes(1)));
    EXPECT_EQ(outcome.state, DeliveryState::kDeferred);
    EXPECT_EQ(outcome.status, test.status);
    EXPECT_FALSE(outcome.from_next_hop);
    EXPECT_FALSE(outcome.expired);
  }
}

TEST(ClassifyTransportError, DiagnosticIsErrorMessage) {
  const Outcome outcome = ClassifyTransportError(
      absl::UnavailableError("connect to mx.example.net[192.0.2.1]:2525: "
                             "Connection refused"),
      At(absl::Minutes(1)));
  EXPECT_EQ(outcome.diagnostic,
            "connect to mx.example.net[192.0.2.1]:2525: Connection refused");
}

TEST(ClassifyTransportError, EmptyMessageUsesCodeName) {
  const Outcome outcome =
      ClassifyTransportError(absl::UnavailableError(""), At(absl::Minutes(1)));
  EXPECT_EQ(outcome.diagnostic, "UNAVAILABLE");
}

TEST(ClassifyTransportError, BouncesAfterLifetime) {
  const Outcome outcome = ClassifyTransportError(
      absl::UnavailableError("connection refused"), At(kLifetime));
  EXPECT_EQ(outcome.state, DeliveryState::kBounced);
  EXPECT_EQ(outcome.status, "5.4.7");
  EXPECT_TRUE(outcome.expired);
  EXPECT_EQ(outcome.diagnostic, "connection refused");
}

TEST(ClassifyTransportError, TruncatesAtUtf8Boundary) {
  // A two-octet "é" that straddles the limit is dropped whole.
  std::string message(kMaxDiagnosticLength - 1, 'a');
  message += "\xc3\xa9tail";
  const Outcome outcome = ClassifyTransportError(
      absl::UnavailableError(message), At(absl::Minutes(1)));
  EXPECT_EQ(outcome.diagnostic, std::string(kMaxDiagnosticLength - 1, 'a'));
}

TEST(DeliveryStateName, NamesEveryState) {
  EXPECT_EQ(DeliveryStateName(DeliveryState::kDelivered), "delivered");
  EXPECT_EQ(DeliveryStateName(DeliveryState::kDeferred), "deferred");
  EXPECT_EQ(DeliveryStateName(DeliveryState::kBounced), "bounced");
}

TEST(OperatorBounce, NamesOperatorAndKeepsLastReply) {
  const Outcome outcome = OperatorBounce("451 4.4.1 connection refused");
  EXPECT_EQ(outcome.state, DeliveryState::kBounced);
  EXPECT_EQ(outcome.status, "5.0.0");
  EXPECT_EQ(outcome.diagnostic,
            "bounced by the relay operator; last attempt: 451 4.4.1 "
            "connection refused");
  EXPECT_FALSE(outcome.from_next_hop);
  EXPECT_FALSE(outcome.expired);
}

TEST(OperatorBounce, WithoutAttempt) {
  EXPECT_EQ(OperatorBounce("").diagnostic, "bounced by the relay operator");
}

TEST(OperatorBounce, DiagnosticStaysOneBoundedLine) {
  const Outcome outcome =
      OperatorBounce("451 a\r\nX-Injected: yes " + std::string(2000, 'x'));
  EXPECT_EQ(outcome.diagnostic.find('\n'), std::string::npos);
  EXPECT_LE(outcome.diagnostic.size(), kMaxDiagnosticLength);
}

}  // namespace
}  // namespace ferry::delivery
