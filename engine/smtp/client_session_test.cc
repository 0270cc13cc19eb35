#include "engine/smtp/client_session.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

constexpr char kFullEhlo[] =
    "250-mx.example.net greets relay.example.com\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 1000000\r\n"
    "250-8BITMIME\r\n"
    "250-SMTPUTF8\r\n"
    "250-CHUNKING\r\n"
    "250-DSN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250 STARTTLS\r\n";
constexpr char kPlainEhlo[] = "250-mx.example.net\r\n250 HELP\r\n";

ClientOptions Options() {
  ClientOptions options;
  options.helo_name = "relay.example.com";
  return options;
}

OutboundMessage Message(std::vector<std::string> recipients) {
  OutboundMessage message;
  message.sender = "alice@example.com";
  message.recipients = std::move(recipients);
  message.size = 1234;
  return message;
}

// Returns a session that has read the greeting and `ehlo_reply`.
ClientSession ReadySession(const char* ehlo_reply) {
  ClientSession session(Options());
  session.Receive("220 mx.example.net ESMTP\r\n");
  session.TakeOutput();
  session.Receive(ehlo_reply);
  return session;
}

TEST(ClientSessionTest, MultiLineGreetingThenEhlo) {
  ClientSession session(Options());
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kGreeting);
  session.Receive("220-a\r\n220-b\r\n");
  EXPECT_EQ(session.TakeOutput(), "");
  session.Receive("220 ready\r\n");
  EXPECT_EQ(session.TakeOutput(), "EHLO relay.example.com\r\n");
  EXPECT_EQ(session.state(), ClientState::kEhlo);
}

TEST(ClientSessionTest, EhloCapabilitiesParsed) {
  ClientSession session = ReadySession(kFullEhlo);
  ASSERT_TRUE(session.ready());
  const Capabilities& caps = session.capabilities();
  EXPECT_TRUE(caps.esmtp);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.size);
  EXPECT_EQ(caps.max_size, 1000000u);
  EXPECT_TRUE(caps.eight_bit_mime);
  EXPECT_TRUE(caps.smtputf8);
  EXPECT_TRUE(caps.chunking);
  EXPECT_TRUE(caps.dsn);
  EXPECT_TRUE(caps.enhanced_status_codes);
  EXPECT_TRUE(caps.starttls);
}

TEST(ClientSessionTest, EhloLineStartingWithDigits) {
  ClientSession session = ReadySession(
      "250-mx.example.net\r\n250-234 text starting with digits\r\n"
      "250 PIPELINING\r\n");
  EXPECT_TRUE(session.ready());
  EXPECT_TRUE(session.capabilities().pipelining);
}

TEST(ClientSessionTest, BareEhloReplyHasNoExtensions) {
  ClientSession session = ReadySession("250\r\n");
  EXPECT_TRUE(session.ready());
  EXPECT_TRUE(session.capabilities().esmtp);
  EXPECT_FALSE(session.capabilities().pipelining);
  EXPECT_FALSE(session.capabilities().size);
}

TEST(ClientSessionTest, SizeWithoutLimit) {
  ClientSession session = ReadySession("250-mx\r\n250 SIZE\r\n");
  EXPECT_TRUE(session.capabilities().size);
  EXPECT_EQ(session.capabilities().max_size, 0u);
}

TEST(ClientSessionTest, EhloRejectedFallsBackToHelo) {
  ClientSession session(Options());
  session.Receive("220 old.example.net\r\n");
  session.TakeOutput();
  session.Receive("502 5.5.1 command not implemented\r\n");
  EXPECT_EQ(session.TakeOutput(), "HELO relay.example.com\r\n");
  EXPECT_FALSE(session.ready());
  session.Receive("250 old.example.net\r\n");
  EXPECT_TRUE(session.ready());
  EXPECT_FALSE(session.capabilities().esmtp);
  EXPECT_FALSE(session.capabilities().pipelining);
}

TEST(ClientSessionTest, HeloRejectedSendsQuit) {
  ClientSession session(Options());
  session.Receive("220 old.example.net\r\n");
  session.Receive("500 no\r\n");
  session.TakeOutput();
  session.Receive("550 go away\r\n");
  EXPECT_EQ(session.TakeOutput(), "QUIT\r\n");
  EXPECT_EQ(session.error().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(session.failure_reply().code, 550);
}

TEST(ClientSessionTest, GreetingRejectedSendsQuit) {
  ClientSession session(Options());
  session.Receive("554 5.3.2 no service\r\n");
  EXPECT_EQ(session.TakeOutput(), "QUIT\r\n");
  EXPECT_FALSE(session.ready());
  EXPECT_EQ(session.error().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(session.failure_reply().code, 554);
  EXPECT_EQ(session.failure_reply().enhanced, "5.3.2");
  session.Receive("221 bye\r\n");
  EXPECT_TRUE(session.closed());
}

TEST(ClientSessionTest, Greeting421ClosesAtOnce) {
  ClientSession session(Options());
  session.Receive("421 4.3.2 too busy\r\n");
  EXPECT_TRUE(session.closed());
  EXPECT_EQ(session.TakeOutput(), "");
  EXPECT_EQ(session.failure_reply().code, 421);
}

TEST(ClientSessionTest, TenThousandLineEhloIsProtocolError) {
  ClientSession session(Options());
  session.Receive("220 mx\r\n");
  std::string ehlo;
  for (int i = 0; i < 10000; ++i) ehlo += "250-X-LINE\r\n";
  ehlo += "250 END\r\n";
  session.Receive(ehlo);
  EXPECT_TRUE(session.closed());
  EXPECT_FALSE(session.ready());
  EXPECT_EQ(session.error().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(session.failure_reply().enhanced, "4.5.0");
}

TEST(ClientSessionTest, PipelinedTransactionDelivers) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"bob@example.net", "carol@example.net"}));
  EXPECT_FALSE(session.ready());
  EXPECT_EQ(session.TakeOutput(),
            "MAIL FROM:<alice@example.com> SIZE=1234\r\n"
            "RCPT TO:<bob@example.net>\r\n"
            "RCPT TO:<carol@example.net>\r\n"
            "DATA\r\n");
  session.Receive("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n");
  EXPECT_EQ(session.TakeOutput(), "");
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kDataInitiation);
  EXPECT_FALSE(session.wants_body());
  session.Receive("354 go ahead\r\n");
  EXPECT_TRUE(session.wants_body());
  session.BodySent();
  EXPECT_EQ(session.TakeOutput(), ".\r\n");
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kDataTermination);
  session.Receive("250 2.0.0 queued as X1\r\n");
  ASSERT_TRUE(session.has_result());
  const MessageResult result = session.TakeResult();
  ASSERT_EQ(result.recipients.size(), 2u);
  for (const RecipientResult& r : result.recipients) {
    EXPECT_EQ(r.reply.code, 250);
    EXPECT_EQ(r.reply.enhanced, "2.0.0");
    EXPECT_FALSE(r.local);
  }
  EXPECT_FALSE(result.connection_failed);
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, PartialRecipientFailure) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(
      Message({"ok@example.net", "gone@example.net", "later@example.net"}));
  session.TakeOutput();
  session.Receive(
      "250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n450 4.2.0 try later\r\n");
  EXPECT_EQ(session.TakeOutput(), "");
  session.Receive("354 go\r\n");
  session.BodySent();
  EXPECT_EQ(session.TakeOutput(), ".\r\n");
  session.Receive("250 queued\r\n");
  const MessageResult result = session.TakeResult();
  ASSERT_EQ(result.recipients.size(), 3u);
  EXPECT_EQ(result.recipients[0].reply.code, 250);
  EXPECT_EQ(result.recipients[1].reply.code, 550);
  EXPECT_EQ(result.recipients[1].reply.enhanced, "5.1.1");
  EXPECT_EQ(result.recipients[1].reply.lines[0], "no such user");
  EXPECT_EQ(result.recipients[2].reply.code, 450);
  EXPECT_EQ(result.recipients[2].reply.enhanced, "4.2.0");
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, AllRecipientsFailSendsNoBody) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  session.TakeOutput();
  session.Receive("250 ok\r\n550 5.1.1 no\r\n550 5.1.1 no\r\n");
  EXPECT_EQ(session.TakeOutput(), "");
  EXPECT_FALSE(session.has_result());
  session.Receive("554 5.5.1 no valid recipients\r\n");
  EXPECT_EQ(session.TakeOutput(), "RSET\r\n");
  EXPECT_FALSE(session.wants_body());
  EXPECT_FALSE(session.has_result());
  session.Receive("250 reset\r\n");
  ASSERT_TRUE(session.has_result());
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 550);
  EXPECT_EQ(result.recipients[1].reply.code, 550);
  EXPECT_TRUE(session.ready());
  EXPECT_EQ(session.TakeOutput(), "");
}

TEST(ClientSessionTest, WithoutPipeliningOneCommandAtATime) {
  ClientSession session = ReadySession(kPlainEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  EXPECT_EQ(session.TakeOutput(), "MAIL FROM:<alice@example.com>\r\n");
  session.Receive("250 ok\r\n");
  EXPECT_EQ(session.TakeOutput(), "RCPT TO:<a@example.net>\r\n");
  session.Receive("550 no\r\n");
  EXPECT_EQ(session.TakeOutput(), "RCPT TO:<b@example.net>\r\n");
  session.Receive("250 ok\r\n");
  EXPECT_EQ(session.TakeOutput(), "DATA\r\n");
  session.Receive("354 go\r\n");
  session.BodySent();
  session.TakeOutput();
  session.Receive("250 done\r\n");
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 550);
  EXPECT_EQ(result.recipients[1].reply.code, 250);
}

TEST(ClientSessionTest, MailRejectedWithoutPipelining) {
  ClientSession session = ReadySession(kPlainEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  session.TakeOutput();
  session.Receive("553 5.1.8 bad sender\r\n");
  EXPECT_EQ(session.TakeOutput(), "");
  ASSERT_TRUE(session.has_result());
  const MessageResult result = session.TakeResult();
  for (const RecipientResult& r : result.recipients) {
    EXPECT_EQ(r.reply.code, 553);
    EXPECT_EQ(r.reply.enhanced, "5.1.8");
    EXPECT_FALSE(r.local);
  }
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, MailRejectedWithPipelining) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  session.TakeOutput();
  session.Receive("451 4.3.0 try later\r\n503 5.5.1 need MAIL\r\n");
  EXPECT_FALSE(session.has_result());
  session.Receive("503 5.5.1 need MAIL\r\n");
  EXPECT_FALSE(session.has_result());
  // The reply to the pipelined DATA; with MAIL rejected, no RSET follows.
  session.Receive("503 5.5.1 need MAIL\r\n");
  EXPECT_EQ(session.TakeOutput(), "");
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 451);
  EXPECT_EQ(result.recipients[1].reply.code, 451);
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, NullSenderExactly) {
  ClientSession session = ReadySession(kPlainEhlo);
  OutboundMessage message = Message({"a@example.net"});
  message.sender = "";
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(), "MAIL FROM:<>\r\n");
}

TEST(ClientSessionTest, EightBitMimeSentWhenNeeded) {
  ClientSession session = ReadySession(kFullEhlo);
  OutboundMessage message = Message({"a@example.net"});
  message.needs_8bitmime = true;
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(),
            "MAIL FROM:<alice@example.com> SIZE=1234 BODY=8BITMIME\r\n"
            "RCPT TO:<a@example.net>\r\n"
            "DATA\r\n");
}

TEST(ClientSessionTest, EightBitMimeNotSentUnneeded) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  EXPECT_EQ(session.TakeOutput().find("BODY="), std::string::npos);
}

TEST(ClientSessionTest, EightBitWithoutExtensionFails) {
  ClientSession session = ReadySession(kPlainEhlo);
  OutboundMessage message = Message({"a@example.net", "b@example.net"});
  message.needs_8bitmime = true;
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(), "");
  ASSERT_TRUE(session.has_result());
  const MessageResult result = session.TakeResult();
  for (const RecipientResult& r : result.recipients) {
    EXPECT_TRUE(r.reply.permanent());
    EXPECT_EQ(r.reply.enhanced, "5.6.3");
    EXPECT_TRUE(r.local);
  }
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, SmtpUtf8SentWhenNeeded) {
  ClientSession session = ReadySession(kFullEhlo);
  OutboundMessage message = Message({"a@example.net"});
  message.needs_smtputf8 = true;
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(),
            "MAIL FROM:<alice@example.com> SIZE=1234 SMTPUTF8\r\n"
            "RCPT TO:<a@example.net>\r\n"
            "DATA\r\n");
}

TEST(ClientSessionTest, SmtpUtf8WithoutExtensionFails) {
  ClientSession session = ReadySession(kPlainEhlo);
  OutboundMessage message = Message({"a@example.net"});
  message.needs_smtputf8 = true;
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(), "");
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.recipients[0].reply.permanent());
  EXPECT_EQ(result.recipients[0].reply.enhanced, "5.6.7");
  EXPECT_TRUE(result.recipients[0].local);
}

TEST(ClientSessionTest, OverSizeLimitFails) {
  ClientSession session = ReadySession(kFullEhlo);
  OutboundMessage message = Message({"a@example.net"});
  message.size = 2000000;
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(), "");
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 552);
  EXPECT_EQ(result.recipients[0].reply.enhanced, "5.3.4");
  EXPECT_TRUE(result.recipients[0].local);
}

TEST(ClientSessionTest, DsnParametersWhenOffered) {
  ClientSession session = ReadySession(kFullEhlo);
  OutboundMessage message = Message({"a@example.net", "b@example.net"});
  message.envid = "QQ314159";
  message.ret = "HDRS";
  message.dsn = {{"SUCCESS,FAILURE", "rfc822;a@example.net"}, {"NEVER", ""}};
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(),
            "MAIL FROM:<alice@example.com> SIZE=1234 RET=HDRS "
            "ENVID=QQ314159\r\n"
            "RCPT TO:<a@example.net> NOTIFY=SUCCESS,FAILURE "
            "ORCPT=rfc822;a@example.net\r\n"
            "RCPT TO:<b@example.net> NOTIFY=NEVER\r\n"
            "DATA\r\n");
}

TEST(ClientSessionTest, DsnParametersOmittedWhenNotOffered) {
  ClientSession session = ReadySession(kPlainEhlo);
  OutboundMessage message = Message({"a@example.net"});
  message.envid = "QQ314159";
  message.ret = "FULL";
  message.dsn = {{"NEVER", "rfc822;a@example.net"}};
  session.StartMessage(message);
  EXPECT_EQ(session.TakeOutput(), "MAIL FROM:<alice@example.com>\r\n");
  session.Receive("250 ok\r\n");
  EXPECT_EQ(session.TakeOutput(), "RCPT TO:<a@example.net>\r\n");
}

TEST(ClientSessionTest, DataRejectedGivesDataReply) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  session.TakeOutput();
  session.Receive("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n");
  session.TakeOutput();
  session.Receive("554 5.5.1 no valid recipients\r\n");
  EXPECT_EQ(session.TakeOutput(), "RSET\r\n");
  EXPECT_FALSE(session.wants_body());
  session.Receive("250 ok\r\n");
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 554);
  EXPECT_EQ(result.recipients[1].reply.code, 550);
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, PipelinedDataAcceptedWithoutRecipients) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.TakeOutput();
  session.Receive("250 ok\r\n550 5.1.1 no\r\n354 go\r\n");
  // With no recipient accepted, no body is sent: the empty message ends
  // at once.
  EXPECT_FALSE(session.wants_body());
  EXPECT_EQ(session.TakeOutput(), ".\r\n");
  EXPECT_FALSE(session.has_result());
  session.Receive("554 5.5.1 no valid recipients\r\n");
  ASSERT_TRUE(session.has_result());
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 550);
  EXPECT_EQ(result.recipients[0].reply.enhanced, "5.1.1");
  EXPECT_TRUE(session.ready());
}

TEST(ClientSessionTest, FinalRejectionNeedsNoRset) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.TakeOutput();
  session.Receive("250 ok\r\n250 ok\r\n354 go\r\n");
  session.BodySent();
  session.TakeOutput();
  session.Receive("552 5.3.4 too big\r\n");
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 552);
  EXPECT_TRUE(session.ready());
  EXPECT_EQ(session.TakeOutput(), "");
}

TEST(ClientSessionTest, ServiceClosingMidTransaction) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  session.TakeOutput();
  session.Receive("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n");
  session.TakeOutput();
  session.Receive("421 4.3.2 shutting down\r\n");
  EXPECT_TRUE(session.closed());
  EXPECT_EQ(session.TakeOutput(), "");
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.connection_failed);
  EXPECT_EQ(result.recipients[0].reply.code, 421);
  EXPECT_TRUE(result.recipients[0].reply.transient());
  EXPECT_FALSE(result.recipients[0].local);
  EXPECT_EQ(result.recipients[1].reply.code, 550);
  EXPECT_EQ(session.error().code(), absl::StatusCode::kUnavailable);
}

TEST(ClientSessionTest, ServiceClosingAmongRcptReplies) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(
      Message({"a@example.net", "b@example.net", "c@example.net"}));
  session.TakeOutput();
  session.Receive("250 ok\r\n250 ok\r\n421 4.7.0 bye\r\n250 ok\r\n");
  EXPECT_TRUE(session.closed());
  const MessageResult result = session.TakeResult();
  for (const RecipientResult& r : result.recipients) {
    EXPECT_EQ(r.reply.code, 421);
  }
}

TEST(ClientSessionTest, ServiceClosingAfterDot) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.Receive("250 ok\r\n250 ok\r\n354 go\r\n");
  session.BodySent();
  session.Receive("421 4.4.2 timeout\r\n");
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.recipients[0].reply.transient());
  EXPECT_TRUE(session.closed());
}

TEST(ClientSessionTest, LostConnectionAfterDotDefers) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net", "b@example.net"}));
  session.Receive("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n354 go\r\n");
  session.BodySent();
  session.ConnectionLost("connection closed by the next hop");
  EXPECT_TRUE(session.closed());
  ASSERT_TRUE(session.has_result());
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.connection_failed);
  EXPECT_EQ(result.recipients[0].reply.code, 451);
  EXPECT_EQ(result.recipients[0].reply.enhanced, "4.4.2");
  EXPECT_TRUE(result.recipients[0].local);
  EXPECT_EQ(result.recipients[1].reply.code, 550);
  EXPECT_FALSE(result.recipients[1].local);
  EXPECT_EQ(session.error().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(session.failure_reply().enhanced, "4.4.2");
}

TEST(ClientSessionTest, TimeoutWaitingFor354Defers) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.Receive("250 ok\r\n250 ok\r\n");
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kDataInitiation);
  session.ConnectionLost("timed out");
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.recipients[0].reply.transient());
  EXPECT_TRUE(result.recipients[0].local);
}

TEST(ClientSessionTest, TwoMessagesOnOneConnection) {
  ClientSession session = ReadySession(kFullEhlo);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(session.ready());
    session.StartMessage(Message({"a@example.net"}));
    EXPECT_EQ(session.TakeOutput(),
              "MAIL FROM:<alice@example.com> SIZE=1234\r\n"
              "RCPT TO:<a@example.net>\r\n"
              "DATA\r\n");
    session.Receive("250 ok\r\n250 ok\r\n354 go\r\n");
    session.BodySent();
    EXPECT_EQ(session.TakeOutput(), ".\r\n");
    session.Receive("250 queued\r\n");
    EXPECT_EQ(session.TakeResult().recipients[0].reply.code, 250);
  }
  session.Quit();
  EXPECT_EQ(session.TakeOutput(), "QUIT\r\n");
  session.Receive("221 bye\r\n");
  EXPECT_TRUE(session.closed());
  EXPECT_TRUE(session.error().ok());
}

TEST(ClientSessionTest, RepliesSplitByteByByte) {
  ClientSession session(Options());
  auto feed = [&session](const std::string& bytes) {
    for (char c : bytes) session.Receive(std::string(1, c));
  };
  feed("220-a\r\n220 b\r\n");
  feed(kFullEhlo);
  ASSERT_TRUE(session.ready());
  session.StartMessage(Message({"a@example.net"}));
  feed("250 ok\r\n250 ok\r\n354 go\r\n");
  ASSERT_TRUE(session.wants_body());
  session.BodySent();
  feed("250 2.0.0 queued\r\n");
  EXPECT_EQ(session.TakeResult().recipients[0].reply.enhanced, "2.0.0");
}

TEST(ClientSessionTest, UnexpectedReplyWhenIdle) {
  ClientSession session = ReadySession(kFullEhlo);
  session.Receive("250 surprise\r\n");
  EXPECT_TRUE(session.closed());
  EXPECT_EQ(session.error().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientSessionTest, IdleServiceClosing) {
  ClientSession session = ReadySession(kFullEhlo);
  session.Receive("421 4.4.2 idle timeout\r\n");
  EXPECT_TRUE(session.closed());
  EXPECT_FALSE(session.has_result());
}

TEST(ClientSessionTest, IntermediateReplyToRcptIsProtocolError) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.Receive("250 ok\r\n354 odd\r\n");
  EXPECT_TRUE(session.closed());
  const MessageResult result = session.TakeResult();
  EXPECT_EQ(result.recipients[0].reply.code, 451);
  EXPECT_EQ(result.recipients[0].reply.enhanced, "4.5.0");
  EXPECT_TRUE(result.recipients[0].local);
}

TEST(ClientSessionTest, MalformedReplyDefersRecipients) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.Receive("250 ok\r\n250 ok\r\n354 go\r\n");
  session.BodySent();
  session.Receive("25O typo\r\n");
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.recipients[0].reply.transient());
  EXPECT_TRUE(result.recipients[0].local);
  EXPECT_EQ(session.error().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientSessionTest, QuitMidTransactionDefers) {
  ClientSession session = ReadySession(kFullEhlo);
  session.StartMessage(Message({"a@example.net"}));
  session.Quit();
  EXPECT_TRUE(session.closed());
  const MessageResult result = session.TakeResult();
  EXPECT_TRUE(result.recipients[0].reply.transient());
  EXPECT_TRUE(result.recipients[0].local);
}

TEST(ClientSessionTest, ClosedAfterQuitWithoutReply) {
  ClientSession session = ReadySession(kFullEhlo);
  session.Quit();
  session.ConnectionLost("connection closed by the next hop");
  EXPECT_TRUE(session.closed());
  EXPECT_TRUE(session.error().ok());
}

TEST(ClientSessionTest, WaitingForFollowsState) {
  ClientSession session = ReadySession(kFullEhlo);
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kNothing);
  session.StartMessage(Message({"a@example.net"}));
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kCommandReply);
  session.Receive("250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(session.waiting_for(), ClientSession::Waiting::kNothing);
}

}  // namespace
}  // namespace ferry::smtp
