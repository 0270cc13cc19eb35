#include "engine/smtp/server_session.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/smtp/dot_stuffer.h"
#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

constexpr size_t kWhole = SIZE_MAX;
constexpr uint64_t kMaxSize = 1048576;

// Routes example.com and example.net, where "nobody..." is unknown.
class TestPolicy : public RecipientPolicy {
 public:
  Verdict Check(const Path& recipient) const override {
    const std::string domain = absl::AsciiStrToLower(recipient.domain);
    if (domain != "example.net" && domain != "example.com") {
      return Verdict::kNoRoute;
    }
    if (absl::StartsWith(recipient.local_part, "nobody")) {
      return Verdict::kUnknownRecipient;
    }
    return Verdict::kAccept;
  }
};

ServerSessionOptions TestOptions() {
  ServerSessionOptions options;
  options.hostname = "relay.example";
  options.max_message_size = kMaxSize;
  return options;
}

// Returns "CODE ENHANCED" (or "CODE" when there is no enhanced code) for the
// last line of every reply in `output`.
std::vector<std::string> ReplyCodes(absl::string_view output) {
  std::vector<std::string> codes;
  for (absl::string_view line : absl::StrSplit(output, "\r\n")) {
    if (line.size() < 3 || (line.size() > 3 && line[3] != ' ')) continue;
    std::string code(line.substr(0, 3));
    const absl::string_view text = line.size() > 4 ? line.substr(4) : "";
    const absl::string_view word = text.substr(0, text.find(' '));
    if (word.size() >= 5 && absl::ascii_isdigit(word[0]) && word[1] == '.') {
      absl::StrAppend(&code, " ", word);
    }
    codes.push_back(code);
  }
  return codes;
}

// Drives a session the way the engine does: recv() into ReadBuffer(), then
// Commit(). It spools each finished message at once while auto-store is on.
class Client {
 public:
  explicit Client(const ServerSessionOptions& options = TestOptions())
      : session_(options, policy_, "192.0.2.1") {
    greeting_ = session_.TakeOutput();
  }

  // Sends `bytes` in reads of at most `piece` octets. Returns false if the
  // session stopped reading before all of them went in.
  bool Send(absl::string_view bytes, size_t piece = kWhole) {
    while (!bytes.empty()) {
      StoreFinished();
      if (session_.closing()) return false;
      const auto [buffer, size] = session_.ReadBuffer();
      max_read_size_ = std::max(max_read_size_, size);
      if (size == 0) return false;
      const size_t n = std::min({size, piece, bytes.size()});
      std::memcpy(buffer, bytes.data(), n);
      session_.Commit(n);
      bytes.remove_prefix(n);
    }
    StoreFinished();
    return true;
  }

  // Returns the reply codes queued since the last call.
  std::vector<std::string> Replies() {
    const std::string output = session_.TakeOutput();
    output_ += output;
    return ReplyCodes(output);
  }

  ServerSession& session() { return session_; }
  const std::string& greeting() const { return greeting_; }
  // Everything taken by Replies() so far.
  const std::string& output() const { return output_; }
  std::vector<Transaction>& messages() { return messages_; }
  size_t max_read_size() const { return max_read_size_; }
  void set_auto_store(bool auto_store) { auto_store_ = auto_store; }

 private:
  void StoreFinished() {
    while (auto_store_ && session_.has_message()) {
      messages_.push_back(session_.TakeMessage());
      session_.MessageStored(absl::StrCat("Q", messages_.size()));
    }
  }

  TestPolicy policy_;
  ServerSession session_;
  std::string greeting_;
  std::string output_;
  std::vector<Transaction> messages_;
  size_t max_read_size_ = 0;
  bool auto_store_ = true;
};

using Codes = std::vector<std::string>;

constexpr absl::string_view kEnvelope =
    "EHLO client.example\r\n"
    "MAIL FROM:<alice@example.com>\r\n"
    "RCPT TO:<bob@example.net>\r\n";

// ---- Transcripts, each fed in one write and in small pieces ----

struct Transcript {
  std::string name;
  std::string input;
  Codes replies;
  size_t messages;
};

std::vector<Transcript> Transcripts() {
  const std::string envelope(kEnvelope);
  std::vector<Transcript> cases = {
      {"OneMessage",
       envelope + "DATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"},
       1},
      {"DataPipelinedBefore354",
       envelope + "DATA\r\nhello\r\n.\r\nNOOP\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "250 2.0.0"},
       1},
      {"EmptyMessage",
       envelope + "DATA\r\n.\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0"},
       1},
      {"TwoMessagesOneSession",
       envelope + "DATA\r\na\r\n.\r\nMAIL FROM:<>\r\n" +
           "RCPT TO:<bob@example.net>\r\nDATA\r\nb\r\n.\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "250 2.1.0",
        "250 2.1.5", "354", "250 2.0.0"},
       2},
      {"Helo",
       "HELO client.example\r\nMAIL FROM:<a@example.com>\r\n",
       {"250", "250 2.1.0"},
       0},
      {"MailBeforeEhlo", "MAIL FROM:<a@example.com>\r\n", {"503 5.5.1"}, 0},
      {"OtherCommands",
       "EHLO c.example\r\nNOOP\r\nNOOP x\r\nRSET\r\nVRFY bob\r\nHELP\r\n"
       "XYZZY\r\nQUIT\r\n",
       {"250", "250 2.0.0", "250 2.0.0", "250 2.0.0", "252 2.5.0", "214 2.0.0",
        "500 5.5.1", "221 2.0.0"},
       0},
      {"InputAfterQuitIgnored",
       "EHLO c.example\r\nQUIT\r\nNOOP\r\nNOOP\r\n",
       {"250", "221 2.0.0"},
       0},
      {"MailTwiceKeepsFirst",
       "EHLO c.example\r\nMAIL FROM:<alice@example.com>\r\n"
       "MAIL FROM:<mallory@example.com>\r\nRCPT TO:<bob@example.net>\r\n"
       "DATA\r\nx\r\n.\r\n",
       {"250", "250 2.1.0", "503 5.5.1", "250 2.1.5", "354", "250 2.0.0"},
       1},
      {"RcptBeforeMail",
       "EHLO c.example\r\nRCPT TO:<bob@example.net>\r\n",
       {"250", "503 5.5.1"},
       0},
      {"DataBeforeRcptReadsCommands",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nDATA\r\n"
       "Subject: x\r\n\r\nhello\r\n.\r\nNOOP\r\n",
       {"250", "250 2.1.0", "503 5.5.1", "500 5.5.1", "500 5.5.2", "500 5.5.1",
        "500 5.5.1", "250 2.0.0"},
       0},
      {"DataWithoutMail",
       "EHLO c.example\r\nDATA\r\n",
       {"250", "503 5.5.1"},
       0},
      {"EhloResetsTransaction",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nEHLO c.example\r\n"
       "RCPT TO:<bob@example.net>\r\nMAIL FROM:<a@example.com>\r\n",
       {"250", "250 2.1.0", "250", "503 5.5.1", "250 2.1.0"},
       0},
      {"RsetResetsTransaction",
       envelope + "RSET\r\nDATA\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1"},
       0},
      {"PipelinedOneReplyPerCommand",
       "EHLO c.example\r\nMAIL FROM:<alice@example.com>\r\n"
       "RCPT TO:<bad-syntax\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n",
       {"250", "250 2.1.0", "501 5.1.3", "250 2.1.5", "354"},
       0},
      {"RecipientNoRoute",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
       "RCPT TO:<bob@example.org>\r\n",
       {"250", "250 2.1.0", "550 5.7.1"},
       0},
      {"RecipientUnknown",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
       "RCPT TO:<nobody@example.net>\r\n",
       {"250", "250 2.1.0", "550 5.1.1"},
       0},
      {"NullSenderAccepted",
       "EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.net>\r\n",
       {"250", "250 2.1.0", "250 2.1.5"},
       0},
      {"NullRecipientRejected",
       "EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\n",
       {"250", "250 2.1.0", "501 5.1.3"},
       0},
      {"ShellCharactersRejected",
       "EHLO c.example\r\nMAIL FROM:<;touch /tmp/x;>\r\nNOOP\r\n",
       {"250", "501 5.1.7", "250 2.0.0"},
       0},
      {"UnterminatedQuoteRejected",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
       "RCPT TO:<\"unterminated@example.net>\r\n",
       {"250", "250 2.1.0", "501 5.1.3"},
       0},
      {"SourceRouteWithSpaceRejected",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
       "RCPT TO:<@hop1.example.com bob@example.net>\r\n",
       {"250", "250 2.1.0", "501 5.1.3"},
       0},
      {"Utf8SenderNeedsSmtputf8",
       "EHLO c.example\r\nMAIL FROM:<j\xC3\xB6rg@example.com>\r\n"
       "MAIL FROM:<j\xC3\xB6rg@example.com> SMTPUTF8\r\n"
       "RCPT TO:<b\xC3\xB6@example.net>\r\n",
       {"250", "553 5.6.7", "250 2.1.0", "250 2.1.5"},
       0},
      {"Utf8RecipientNeedsSmtputf8",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
       "RCPT TO:<b\xC3\xB6@example.net>\r\n",
       {"250", "250 2.1.0", "553 5.6.7"},
       0},
      {"MailSizeOverLimit",
       "EHLO c.example\r\nMAIL FROM:<a@example.com> SIZE=2000000\r\n"
       "MAIL FROM:<a@example.com> SIZE=1048576\r\n",
       {"250", "552 5.3.4", "250 2.1.0"},
       0},
      {"LongEhloRejected",
       "EHLO " + std::string(10000, 'a') + "\r\nNOOP\r\n",
       {"500 5.5.2", "250 2.0.0"},
       0},
      {"BareLfEndsCommand", "EHLO c.example\nNOOP\n", {"250", "250 2.0.0"}, 0},
      {"BdatMessage",
       envelope + "BDAT 7\r\nSubjectBDAT 9 LAST\r\n: x\r\n\r\nhi",
       {"250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0"},
       1},
      {"BdatEmptyLast",
       envelope + "BDAT 4\r\nhi\r\nBDAT 0 LAST\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0"},
       1},
      {"BdatWithoutMailConsumesOctets",
       "EHLO c.example\r\nBDAT 10\r\nQUIT\r\nQUIT\r\nNOOP\r\n",
       {"250", "503 5.5.1", "500 5.5.2", "250 2.0.0"},
       0},
      {"BdatWithoutRcptConsumesOctets",
       "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nBDAT 6 LAST\r\n"
       "QUIT\r\nNOOP\r\n",
       {"250", "250 2.1.0", "503 5.5.1", "250 2.0.0"},
       0},
      {"BdatBadSyntaxReadsCommands",
       envelope + "BDAT x\r\nNOOP\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "501 5.5.4", "250 2.0.0"},
       0},
      {"DataAfterBdatRejected",
       envelope + "BDAT 3\r\nabcDATA\r\nBDAT 2 LAST\r\nde",
       {"250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1", "250 2.0.0"},
       1},
      {"RcptAfterBdatRejected",
       envelope + "BDAT 3\r\nabcRCPT TO:<carol@example.net>\r\n",
       {"250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1"},
       0},
      {"LineAtLimitAccepted",
       "NOOP " + std::string(2048 - 7, 'x') + "\r\nNOOP " +
           std::string(2048 - 6, 'x') + "\r\nNOOP\r\n",
       {"250 2.0.0", "500 5.5.2", "250 2.0.0"},
       0},
  };
  for (absl::string_view parameters :
       {"SIZE=", "=x", "X-FOO=a=b", "BODY=8BITMIME BODY=7BIT", "SIZE=abc"}) {
    cases.push_back({"",
                     absl::StrCat("EHLO c.example\r\nMAIL FROM:<alice@",
                                  "example.com> ", parameters, "\r\nNOOP\r\n"),
                     {"250", "501 5.5.4", "250 2.0.0"},
                     0});
  }
  cases.push_back({"UnknownParameter",
                   "EHLO c.example\r\nMAIL FROM:<alice@example.com> FOO\r\n"
                   "NOOP\r\n",
                   {"250", "555 5.5.4", "250 2.0.0"},
                   0});
  cases.push_back({"SizeOverflow",
                   "EHLO c.example\r\nMAIL FROM:<alice@example.com> "
                   "SIZE=99999999999999999999999\r\nNOOP\r\n",
                   {"250", "552 5.3.4", "250 2.0.0"},
                   0});
  int parameter_case = 0;
  for (Transcript& c : cases) {
    if (c.name.empty()) c.name = absl::StrCat("BadParameter", ++parameter_case);
  }
  return cases;
}

class TranscriptTest
    : public testing::TestWithParam<std::tuple<Transcript, size_t>> {};

TEST_P(TranscriptTest, RepliesInOrder) {
  const auto& [transcript, piece] = GetParam();
  Client client;
  client.Send(transcript.input, piece);
  EXPECT_EQ(client.Replies(), transcript.replies);
  EXPECT_EQ(client.messages().size(), transcript.messages);
}

INSTANTIATE_TEST_SUITE_P(
    Sessions, TranscriptTest,
    testing::Combine(testing::ValuesIn(Transcripts()),
                     testing::Values(kWhole, 1, 7)),
    [](const testing::TestParamInfo<TranscriptTest::ParamType>& info) {
      const size_t piece = std::get<1>(info.param);
      return absl::StrCat(
          std::get<0>(info.param).name, "_",
          piece == kWhole ? "OneWrite" : absl::StrCat("Pieces", piece));
    });

// ---- Greeting, EHLO and replies ----

TEST(ServerSessionTest, GreetingNamesHost) {
  Client client;
  EXPECT_EQ(client.greeting(), "220 relay.example ESMTP ferry\r\n");
}

TEST(ServerSessionTest, EhloListsExtensions) {
  Client client;
  client.Send("EHLO client.example\r\n");
  client.Replies();
  EXPECT_EQ(client.output(),
            "250-relay.example\r\n"
            "250-PIPELINING\r\n"
            "250-SIZE 1048576\r\n"
            "250-8BITMIME\r\n"
            "250-SMTPUTF8\r\n"
            "250-ENHANCEDSTATUSCODES\r\n"
            "250-CHUNKING\r\n"
            "250 HELP\r\n");
}

// ---- ETRN ----

// Starts every node except "denied.example", and records the requests.
class TestStarter : public QueueStarter {
 public:
  Result StartQueue(const EtrnNode& node, std::string_view client_ip) override {
    requests.push_back(node.name + " " + std::string(client_ip));
    return node.name == "denied.example" ? Result::kNotAllowed
                                         : Result::kStarted;
  }
  std::vector<std::string> requests;
};

TEST(ServerSessionTest, EhloOffersEtrnWithStarter) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send("EHLO client.example\r\n");
  client.Replies();
  EXPECT_TRUE(absl::StrContains(client.output(), "250-HELP\r\n250 ETRN\r\n"))
      << client.output();
}

TEST(ServerSessionTest, EtrnWithoutStarterIs502) {
  Client client;
  client.Send("EHLO client.example\r\nETRN example.net\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250", "502 5.5.1"}));
}

TEST(ServerSessionTest, EtrnStartsQueue) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send(
      "EHLO client.example\r\nETRN example.net\r\n"
      "ETRN @Example.com\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.0.0", "250 2.0.0"}));
  EXPECT_TRUE(absl::StrContains(
      client.output(), "250 2.0.0 Queuing for node @Example.com started\r\n"))
      << client.output();
  EXPECT_EQ(starter.requests,
            (std::vector<std::string>{"example.net 192.0.2.1",
                                      "example.com 192.0.2.1"}));
}

TEST(ServerSessionTest, EtrnNotAllowedIs459) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send("HELO client.example\r\nETRN denied.example\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250", "459 4.7.1"}));
}

TEST(ServerSessionTest, EtrnQueueNameIs458) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send("EHLO client.example\r\nETRN #slow\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250", "458 4.3.0"}));
  EXPECT_TRUE(starter.requests.empty());
}

TEST(ServerSessionTest, EtrnSyntaxErrorsAre501) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send(
      "EHLO client.example\r\nETRN\r\nETRN bad..name\r\n"
      "ETRN a b\r\n");
  EXPECT_EQ(client.Replies(),
            (Codes{"250", "501 5.5.4", "501 5.5.4", "501 5.5.4"}));
  EXPECT_TRUE(starter.requests.empty());
}

TEST(ServerSessionTest, EtrnBeforeGreetingIs503) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send("ETRN example.net\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"503 5.5.1"}));
  EXPECT_TRUE(starter.requests.empty());
}

TEST(ServerSessionTest, EtrnInsideTransactionIs503) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.Send(std::string(kEnvelope) + "ETRN example.net\r\nRSET\r\n" +
              "ETRN example.net\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.1.0", "250 2.1.5",
                                     "503 5.5.1", "250 2.0.0", "250 2.0.0"}));
  EXPECT_EQ(starter.requests.size(), 1u);
}

TEST(ServerSessionTest, EtrnPipelinedAfterDataWaitsForMessage) {
  TestStarter starter;
  Client client;
  client.session().SetQueueStarter(&starter);
  client.set_auto_store(false);
  client.Send(std::string(kEnvelope) +
              "DATA\r\nx\r\n.\r\nETRN example.net\r\n");
  EXPECT_TRUE(starter.requests.empty());
  client.session().TakeMessage();
  client.session().MessageStored("Q1");
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.1.0", "250 2.1.5", "354",
                                     "250 2.0.0", "250 2.0.0"}));
  EXPECT_EQ(starter.requests.size(), 1u);
}

TEST(ServerSessionTest, QueuedReplyNamesQueueId) {
  Client client;
  client.Send(std::string(kEnvelope) + "DATA\r\nx\r\n.\r\n");
  client.Replies();
  EXPECT_TRUE(absl::EndsWith(client.output(), "250 2.0.0 Ok: queued as Q1\r\n"))
      << client.output();
}

TEST(ServerSessionTest, RelayDeniedNamesRecipient) {
  Client client;
  client.Send(
      "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
      "RCPT TO:<bob@example.org>\r\n");
  client.Replies();
  EXPECT_TRUE(absl::EndsWith(client.output(),
                             "550 5.7.1 <bob@example.org>: Relay access "
                             "denied\r\n"))
      << client.output();
}

TEST(ServerSessionTest, QuitClosesSession) {
  Client client;
  client.Send("QUIT\r\n");
  EXPECT_TRUE(client.session().closing());
  EXPECT_EQ(client.session().ReadBuffer().second, 0u);
}

// ---- Transaction contents ----

// Sends one message with the given MAIL and RCPT lines and returns it.
Transaction SendOne(absl::string_view mail, absl::string_view rcpt,
                    absl::string_view content = "x\r\n") {
  Client client;
  const std::string input =
      absl::StrCat("EHLO client.example\r\n", mail, "\r\n", rcpt,
                   "\r\nDATA\r\n", content, ".\r\n");
  client.Send(input);
  const Codes replies = client.Replies();
  EXPECT_EQ(replies.back(), "250 2.0.0") << input;
  if (client.messages().size() != 1) {
    ADD_FAILURE() << "no message for " << input;
    return Transaction();
  }
  return std::move(client.messages()[0]);
}

TEST(ServerSessionTest, TransactionHoldsEnvelope) {
  const Transaction t = SendOne(
      "MAIL FROM:<alice@example.com> BODY=8BITMIME RET=HDRS ENVID=e1",
      "RCPT TO:<bob@example.net> NOTIFY=FAILURE ORCPT=rfc822;bob@example.net",
      "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(t.client_ip, "192.0.2.1");
  EXPECT_EQ(t.helo, "client.example");
  EXPECT_TRUE(t.esmtp);
  EXPECT_EQ(t.sender, "alice@example.com");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].address, "bob@example.net");
  EXPECT_EQ(t.recipients[0].notify, "FAILURE");
  EXPECT_EQ(t.recipients[0].orcpt, "rfc822;bob@example.net");
  EXPECT_TRUE(t.body_8bitmime);
  EXPECT_FALSE(t.smtputf8);
  EXPECT_EQ(t.ret, "HDRS");
  EXPECT_EQ(t.envid, "e1");
  EXPECT_EQ(t.body.ToString(), "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(t.size, 20u);
}

TEST(ServerSessionTest, HeloTransactionNotEsmtp) {
  Client client;
  client.Send(
      "HELO c.example\r\nMAIL FROM:<a@example.com>\r\n"
      "RCPT TO:<b@example.net>\r\nDATA\r\nx\r\n.\r\n");
  ASSERT_EQ(client.messages().size(), 1u);
  EXPECT_FALSE(client.messages()[0].esmtp);
  EXPECT_EQ(client.messages()[0].helo, "c.example");
}

TEST(ServerSessionTest, NullSenderIsEmpty) {
  const Transaction t = SendOne("MAIL FROM:<>", "RCPT TO:<bob@example.net>");
  EXPECT_EQ(t.sender, "");
}

TEST(ServerSessionTest, QuotedSenderKeptExactly) {
  const Transaction t = SendOne("MAIL FROM:<\"odd user\"@example.com>",
                                "RCPT TO:<bob@example.net>");
  EXPECT_EQ(t.sender, "\"odd user\"@example.com");
}

TEST(ServerSessionTest, MixedCaseKeptExactly) {
  const Transaction t =
      SendOne("mail from:<Alice.Smith@Example.COM> body=8bitmime",
              "rcpt to:<Bob@Example.NET>");
  EXPECT_EQ(t.sender, "Alice.Smith@Example.COM");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].address, "Bob@Example.NET");
  EXPECT_TRUE(t.body_8bitmime);
}

TEST(ServerSessionTest, RecipientsKeptExactly) {
  for (absl::string_view address :
       {"\"foo@example.org> ORCPT=rfc822;x@example.org\"@example.net",
        "a+caf_=x=y@example.net", "SRS0=ab/c=12=example.com=alice@example.net",
        "\"a\\\"b\"@example.net"}) {
    const Transaction t = SendOne("MAIL FROM:<a@example.com>",
                                  absl::StrCat("RCPT TO:<", address, ">"));
    ASSERT_EQ(t.recipients.size(), 1u) << address;
    EXPECT_EQ(t.recipients[0].address, address);
    EXPECT_EQ(t.recipients[0].orcpt, "") << address;
  }
}

TEST(ServerSessionTest, SourceRoutesRemoved) {
  const Transaction t =
      SendOne("MAIL FROM:<@hop1.example.com:alice@example.com>",
              "RCPT TO:<@hop1.example.com,@hop2.example.org:bob@example.net>");
  EXPECT_EQ(t.sender, "alice@example.com");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].address, "bob@example.net");
}

TEST(ServerSessionTest, EightBitContentFlagged) {
  const Transaction t = SendOne("MAIL FROM:<a@example.com>",
                                "RCPT TO:<b@example.net>", "caf\xC3\xA9\r\n");
  EXPECT_TRUE(t.body_8bitmime);
}

TEST(ServerSessionTest, SevenBitContentNotFlagged) {
  const Transaction t =
      SendOne("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.net>");
  EXPECT_FALSE(t.body_8bitmime);
}

TEST(ServerSessionTest, Smtputf8Recorded) {
  const Transaction t = SendOne("MAIL FROM:<a@example.com> SMTPUTF8",
                                "RCPT TO:<b\xC3\xB6@example.net>");
  EXPECT_TRUE(t.smtputf8);
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].address, "b\xC3\xB6@example.net");
}

TEST(ServerSessionTest, DuplicateRecipientStoredOnce) {
  Client client;
  client.Send(std::string(kEnvelope) +
              "RCPT TO:<bob@example.net>\r\nDATA\r\nx\r\n.\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.1.0", "250 2.1.5",
                                     "250 2.1.5", "354", "250 2.0.0"}));
  ASSERT_EQ(client.messages().size(), 1u);
  EXPECT_EQ(client.messages()[0].recipients.size(), 1u);
}

TEST(ServerSessionTest, RejectedRecipientsLeftOut) {
  Client client;
  client.Send(
      "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n"
      "RCPT TO:<bob@example.net>\r\nRCPT TO:<x@example.org>\r\n"
      "RCPT TO:<nobody@example.net>\r\nRCPT TO:<carol@example.com>\r\n"
      "DATA\r\nx\r\n.\r\n");
  ASSERT_EQ(client.messages().size(), 1u);
  const std::vector<Recipient>& recipients = client.messages()[0].recipients;
  ASSERT_EQ(recipients.size(), 2u);
  EXPECT_EQ(recipients[0].address, "bob@example.net");
  EXPECT_EQ(recipients[1].address, "carol@example.com");
}

TEST(ServerSessionTest, RecipientLimitGives452) {
  Client client;
  std::string input = "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n";
  for (int i = 0; i < 150; ++i) {
    absl::StrAppend(&input, "RCPT TO:<user", i, "@example.net>\r\n");
  }
  absl::StrAppend(&input, "DATA\r\nx\r\n.\r\n");
  client.Send(input);
  const Codes replies = client.Replies();
  ASSERT_EQ(replies.size(), 2u + 150u + 2u);
  EXPECT_EQ(std::count(replies.begin(), replies.end(), "250 2.1.5"), 100);
  EXPECT_EQ(std::count(replies.begin(), replies.end(), "452 4.5.3"), 50);
  EXPECT_EQ(replies[102], "452 4.5.3");
  EXPECT_EQ(replies.back(), "250 2.0.0");
  ASSERT_EQ(client.messages().size(), 1u);
  EXPECT_EQ(client.messages()[0].recipients.size(), 100u);
}

// ---- End of data and dot transparency ----

std::string SmugglingPayload(absl::string_view fake_end) {
  return absl::StrCat("Subject: first\r\n\r\nhello", fake_end,
                      "MAIL FROM:<ceo@example.com>\r\n"
                      "RCPT TO:<bob@example.net>\r\n"
                      "DATA\r\n"
                      "Subject: forged\r\n\r\nx\r\n.\r\n");
}

// True if every line of `body` ends in CRLF, with no bare CR or LF, and no
// line is a lone "." (the transfer form that MessageBody promises).
bool IsTransferForm(const std::string& body) {
  if (!body.empty() && !absl::EndsWith(body, "\r\n")) return false;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' && (i + 1 == body.size() || body[i + 1] != '\n')) {
      return false;
    }
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) return false;
  }
  return !absl::StartsWith(body, ".\r\n") &&
         !absl::StrContains(body, "\r\n.\r\n");
}

class SmugglingTest
    : public testing::TestWithParam<std::tuple<std::string, size_t>> {};

TEST_P(SmugglingTest, NormalizeQueuesOneMessage) {
  const auto& [fake_end, piece] = GetParam();
  ServerSessionOptions options = TestOptions();
  options.bare_line_ending = BareLineEnding::kNormalize;
  Client client(options);
  client.Send(std::string(kEnvelope) + "DATA\r\n", piece);
  client.Send(SmugglingPayload(fake_end), piece);
  client.Send("QUIT\r\n", piece);
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.1.0", "250 2.1.5", "354",
                                     "250 2.0.0", "221 2.0.0"}));
  ASSERT_EQ(client.messages().size(), 1u);
  const std::string body = client.messages()[0].body.ToString();
  EXPECT_TRUE(absl::StrContains(body, "\r\nMAIL FROM:<ceo@example.com>\r\n"))
      << body;
  EXPECT_TRUE(absl::StrContains(body, "Subject: forged")) << body;
  EXPECT_TRUE(IsTransferForm(body)) << body;
}

TEST_P(SmugglingTest, RejectPolicyQueuesNothing) {
  const auto& [fake_end, piece] = GetParam();
  ServerSessionOptions options = TestOptions();
  options.bare_line_ending = BareLineEnding::kReject;
  Client client(options);
  client.Send(std::string(kEnvelope) + "DATA\r\n", piece);
  client.Send(SmugglingPayload(fake_end), piece);
  client.Send("RSET\r\n", piece);
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.1.0", "250 2.1.5", "354",
                                     "550 5.6.0", "250 2.0.0"}));
  EXPECT_TRUE(client.messages().empty());
}

INSTANTIATE_TEST_SUITE_P(
    FakeEnds, SmugglingTest,
    testing::Combine(testing::Values("\n.\n", "\n.\r\n", "\r\n.\n"),
                     testing::Values(kWhole, 1)),
    [](const testing::TestParamInfo<SmugglingTest::ParamType>& info) {
      std::string name;
      for (const char c : std::get<0>(info.param)) {
        name += c == '\r' ? "Cr" : c == '\n' ? "Lf" : "Dot";
      }
      const bool whole = std::get<1>(info.param) == kWhole;
      return absl::StrCat(name, whole ? "_OneWrite" : "_Pieces1");
    });

TEST(ServerSessionTest, BareLfNormalizedToCrlf) {
  const Transaction t = SendOne("MAIL FROM:<a@example.com>",
                                "RCPT TO:<b@example.net>", "a\nb\rc\r\n");
  EXPECT_EQ(t.body.ToString(), "a\r\nb\r\nc\r\n");
}

TEST(ServerSessionTest, DotLinesStayStuffed) {
  const Transaction t =
      SendOne("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.net>",
              "Subject: dots\r\n\r\n..\r\n...two\r\n\r\n..\r\nend\r\n");
  const std::string body = t.body.ToString();
  EXPECT_EQ(body, "Subject: dots\r\n\r\n..\r\n...two\r\n\r\n..\r\nend\r\n");
  EXPECT_EQ(DotUnstuff(body),
            "Subject: dots\r\n\r\n.\r\n..two\r\n\r\n.\r\nend\r\n");
}

TEST(ServerSessionTest, BdatDotLinesGetStuffed) {
  Client client;
  const std::string content = "Subject: dots\r\n\r\n.\r\n..two\r\n";
  client.Send(
      absl::StrCat(kEnvelope, "BDAT ", content.size(), " LAST\r\n", content));
  ASSERT_EQ(client.messages().size(), 1u);
  EXPECT_EQ(client.messages()[0].body.ToString(),
            "Subject: dots\r\n\r\n..\r\n...two\r\n");
  EXPECT_EQ(client.messages()[0].size, content.size());
}

TEST(ServerSessionTest, BdatUnterminatedLastLineEnded) {
  Client client;
  client.Send(absl::StrCat(kEnvelope, "BDAT 5 LAST\r\nhello"));
  ASSERT_EQ(client.messages().size(), 1u);
  EXPECT_EQ(client.messages()[0].body.ToString(), "hello\r\n");
}

TEST(ServerSessionTest, DataManyDotLinesRelayedWhole) {
  std::string content;
  for (int i = 0; i < 200000; ++i) content += "..\r\n";
  for (const size_t piece : {kWhole, size_t{65536}, size_t{4093}}) {
    Client client;
    client.Send(absl::StrCat(kEnvelope, "DATA\r\n", content, ".\r\n"), piece);
    ASSERT_EQ(client.messages().size(), 1u) << piece;
    const Transaction& t = client.messages()[0];
    EXPECT_EQ(t.body.size(), content.size()) << piece;
    EXPECT_TRUE(t.body.ToString() == content) << piece;
    EXPECT_EQ(t.size, 3u * 200000u) << piece;
  }
}

TEST(ServerSessionTest, BdatManyDotLinesRelayedWhole) {
  std::string content;
  for (int i = 0; i < 200000; ++i) content += "..\r\n";
  std::string expected;
  for (int i = 0; i < 200000; ++i) expected += "...\r\n";
  // Chunks of 99999 octets, so that chunk ends fall inside lines.
  std::string input(kEnvelope);
  for (size_t offset = 0; offset < content.size(); offset += 99999) {
    const size_t n = std::min<size_t>(99999, content.size() - offset);
    const bool last = offset + n == content.size();
    absl::StrAppend(&input, "BDAT ", n, last ? " LAST" : "", "\r\n",
                    content.substr(offset, n));
  }
  for (const size_t piece : {kWhole, size_t{65536}, size_t{4093}}) {
    Client client;
    client.Send(input, piece);
    const Codes replies = client.Replies();
    EXPECT_EQ(std::count(replies.begin(), replies.end(), "250 2.0.0"), 9)
        << piece;
    ASSERT_EQ(client.messages().size(), 1u) << piece;
    const Transaction& t = client.messages()[0];
    EXPECT_TRUE(t.body.ToString() == expected) << piece;
    EXPECT_EQ(t.size, content.size()) << piece;
  }
}

// ---- Content checks ----

TEST(ServerSessionTest, OversizedDataReadToEnd) {
  Client client;
  std::string content;
  const std::string line = std::string(998, 'x') + "\r\n";
  while (content.size() < 3 * 1024 * 1024) content += line;
  client.Send(absl::StrCat(kEnvelope, "DATA\r\n"));
  client.Replies();
  client.Send(content, 65536);
  EXPECT_TRUE(client.Replies().empty());  // no reply before the end of data
  EXPECT_EQ(client.session().phase(), ServerSession::Phase::kData);
  client.Send(".\r\nRSET\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"552 5.3.4", "250 2.0.0"}));
  EXPECT_TRUE(client.messages().empty());
}

TEST(ServerSessionTest, OversizedBdatRejectsLaterChunks) {
  Client client;
  const std::string chunk(600000, 'x');
  client.Send(
      absl::StrCat(kEnvelope, "BDAT 600000\r\n", chunk, "BDAT 600000\r\n",
                   chunk, "BDAT 3 LAST\r\nabc", "NOOP\r\n"),
      65536);
  EXPECT_EQ(client.Replies(),
            (Codes{"250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "552 5.3.4",
                   "503 5.5.1", "250 2.0.0"}));
  EXPECT_TRUE(client.messages().empty());
}

TEST(ServerSessionTest, BdatReadBufferBounded) {
  Client client;
  client.Send(absl::StrCat(kEnvelope, "BDAT 1000000 LAST\r\n"));
  client.Send(std::string(1000000, 'x'), 65536);
  EXPECT_LE(client.max_read_size(), 65536u);
  EXPECT_EQ(client.messages().size(), 1u);
}

std::string ReceivedFields(int count) {
  std::string fields;
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&fields, "Received: from hop", i, ".example\r\n");
  }
  return fields;
}

TEST(ServerSessionTest, MailLoopRejected) {
  Client client;
  client.Send(absl::StrCat(kEnvelope, "DATA\r\n", ReceivedFields(50),
                           "\r\nx\r\n.\r\n"));
  EXPECT_EQ(client.Replies().back(), "554 5.4.6");
  EXPECT_TRUE(client.messages().empty());
}

TEST(ServerSessionTest, ReceivedBelowLimitAccepted) {
  Client client;
  client.Send(absl::StrCat(kEnvelope, "DATA\r\n", ReceivedFields(49),
                           "\r\nx\r\n.\r\n"));
  EXPECT_EQ(client.Replies().back(), "250 2.0.0");
  EXPECT_EQ(client.messages().size(), 1u);
}

TEST(ServerSessionTest, BdatMailLoopRejected) {
  Client client;
  const std::string content = ReceivedFields(50) + "\r\nx\r\n";
  client.Send(
      absl::StrCat(kEnvelope, "BDAT ", content.size(), " LAST\r\n", content));
  EXPECT_EQ(client.Replies().back(), "554 5.4.6");
  EXPECT_TRUE(client.messages().empty());
}

TEST(ServerSessionTest, BdatBareLfRejectedUnderRejectPolicy) {
  ServerSessionOptions options = TestOptions();
  options.bare_line_ending = BareLineEnding::kReject;
  Client client(options);
  client.Send(absl::StrCat(kEnvelope, "BDAT 5 LAST\r\na\n.\nb"));
  EXPECT_EQ(client.Replies().back(), "550 5.6.0");
  EXPECT_TRUE(client.messages().empty());
}

TEST(ServerSessionTest, ContentRejectionReportsReason) {
  struct Case {
    std::string name;
    BareLineEnding bare_line_ending;
    std::string input;
    ContentRejection reason;
  };
  const std::string big(kMaxSize + 10, 'x');
  const std::vector<Case> cases = {
      {"DataTooLarge", BareLineEnding::kNormalize,
       absl::StrCat(kEnvelope, "DATA\r\n", big, "\r\n.\r\n"),
       ContentRejection::kTooLarge},
      {"BdatTooLarge", BareLineEnding::kNormalize,
       absl::StrCat(kEnvelope, "BDAT ", big.size(), " LAST\r\n", big),
       ContentRejection::kTooLarge},
      {"MailLoop", BareLineEnding::kNormalize,
       absl::StrCat(kEnvelope, "DATA\r\n", ReceivedFields(50),
                    "\r\nx\r\n.\r\n"),
       ContentRejection::kMailLoop},
      {"BareLf", BareLineEnding::kReject,
       absl::StrCat(kEnvelope, "BDAT 5 LAST\r\na\n.\nb"),
       ContentRejection::kBareLineEnding},
  };
  for (const Case& c : cases) {
    ServerSessionOptions options = TestOptions();
    options.bare_line_ending = c.bare_line_ending;
    Client client(options);
    std::vector<ContentRejection> reasons;
    client.session().set_on_content_rejected(
        [&reasons](ContentRejection reason) { reasons.push_back(reason); });
    client.Send(c.input, 65536);
    ASSERT_EQ(reasons.size(), 1u) << c.name;
    EXPECT_EQ(reasons[0], c.reason) << c.name;
    EXPECT_TRUE(client.messages().empty()) << c.name;
  }
}

TEST(ServerSessionTest, AcceptedMessageReportsNoRejection) {
  Client client;
  int rejections = 0;
  client.session().set_on_content_rejected(
      [&rejections](ContentRejection) { ++rejections; });
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n.\r\n"));
  EXPECT_EQ(client.messages().size(), 1u);
  EXPECT_EQ(rejections, 0);
}

TEST(ServerSessionTest, BdatBareLfNormalized) {
  Client client;
  client.Send(absl::StrCat(kEnvelope, "BDAT 6 LAST\r\na\n.\nb\r"));
  ASSERT_EQ(client.messages().size(), 1u);
  EXPECT_EQ(client.messages()[0].body.ToString(), "a\r\n..\r\nb\r\n");
}

// ---- Line limits ----

TEST(ServerSessionTest, EndlessLineBoundedThenClosed) {
  ServerSessionOptions options = TestOptions();
  options.max_message_size = 10485760;
  Client client(options);
  const std::string piece(65536, 'a');
  int pieces = 0;
  while (pieces < 1600 && client.Send(piece, 65536)) ++pieces;
  EXPECT_LE(client.max_read_size(), 2048u);
  EXPECT_TRUE(client.session().closing());
  EXPECT_GE(pieces, 160);  // 10 MiB were read before the 421
  EXPECT_EQ(client.Replies(), (Codes{"500 5.5.2", "421 4.7.0"}));
}

TEST(ServerSessionTest, HundredMegabyteLineDiscarded) {
  ServerSessionOptions options = TestOptions();
  options.max_message_size = 256u * 1024 * 1024;
  Client client(options);
  const std::string piece(65536, 'a');
  for (int i = 0; i < 1600; ++i) ASSERT_TRUE(client.Send(piece, 65536));
  EXPECT_LE(client.max_read_size(), 2048u);
  client.Send("\r\nNOOP\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"500 5.5.2", "250 2.0.0"}));
  EXPECT_FALSE(client.session().closing());
}

TEST(ServerSessionTest, SmallLineLimitRaisedTo512) {
  ServerSessionOptions options = TestOptions();
  options.max_command_line = 100;
  Client client(options);
  client.Send("NOOP " + std::string(500, 'x') + "\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250 2.0.0"}));
}

// ---- Session limits ----

TEST(ServerSessionTest, TooManyErrorsCloses) {
  Client client;
  std::string input;
  for (int i = 0; i < 30; ++i) input += "XYZZY\r\n";
  client.Send(input);
  const Codes replies = client.Replies();
  ASSERT_EQ(replies.size(), 22u);
  EXPECT_EQ(replies[20], "500 5.5.1");
  EXPECT_EQ(replies[21], "421 4.7.0");
  EXPECT_TRUE(client.session().closing());
}

TEST(ServerSessionTest, TransientRepliesNotCountedAsErrors) {
  Client client;
  std::string input = "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n";
  for (int i = 0; i < 130; ++i) {
    absl::StrAppend(&input, "RCPT TO:<u", i, "@example.net>\r\n");
  }
  client.Send(input);
  EXPECT_FALSE(client.session().closing());
}

TEST(ServerSessionTest, TooManyCommandsCloses) {
  ServerSessionOptions options = TestOptions();
  options.max_commands = 5;
  Client client(options);
  client.Send("NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250 2.0.0", "250 2.0.0", "250 2.0.0",
                                     "250 2.0.0", "250 2.0.0", "421 4.7.0"}));
  EXPECT_TRUE(client.session().closing());
}

// ---- Spool results ----

TEST(ServerSessionTest, InputWaitsForSpoolAnswer) {
  Client client;
  client.set_auto_store(false);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n.\r\nMAIL FROM:<c@",
                           "example.com>\r\nNOOP\r\n"));
  EXPECT_EQ(client.Replies(), (Codes{"250", "250 2.1.0", "250 2.1.5", "354"}));
  ASSERT_TRUE(client.session().has_message());
  const Transaction t = client.session().TakeMessage();
  EXPECT_EQ(t.body.ToString(), "x\r\n");
  EXPECT_FALSE(client.session().has_message());
  client.Send("RSET\r\n");  // buffered too
  EXPECT_TRUE(client.Replies().empty());
  client.session().MessageStored("ABC");
  EXPECT_EQ(client.Replies(),
            (Codes{"250 2.0.0", "250 2.1.0", "250 2.0.0", "250 2.0.0"}));
}

TEST(ServerSessionTest, FullBufferStopsReading) {
  Client client;
  client.set_auto_store(false);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n.\r\n"));
  EXPECT_FALSE(client.Send(std::string(5000, 'n')));
  EXPECT_EQ(client.session().ReadBuffer().second, 0u);
  client.session().TakeMessage();
  client.session().MessageStored("ABC");
  EXPECT_GT(client.session().ReadBuffer().second, 0u);
}

TEST(ServerSessionTest, SpoolFullGives452) {
  Client client;
  client.set_auto_store(false);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n.\r\n"));
  client.Replies();
  client.session().TakeMessage();
  client.session().MessageFailed(absl::ResourceExhaustedError("no space"));
  EXPECT_EQ(client.Replies(), (Codes{"452 4.3.1"}));
}

TEST(ServerSessionTest, SpoolErrorGives451) {
  Client client;
  client.set_auto_store(false);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n.\r\n"));
  client.Replies();
  client.session().TakeMessage();
  client.session().MessageFailed(absl::InternalError("read-only"));
  EXPECT_EQ(client.Replies(), (Codes{"451 4.3.0"}));
}

TEST(ServerSessionTest, FailedMessageEndsTransaction) {
  Client client;
  client.set_auto_store(false);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n.\r\n"));
  client.session().TakeMessage();
  client.session().MessageFailed(absl::InternalError("read-only"));
  client.Replies();
  client.Send("RCPT TO:<bob@example.net>\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"503 5.5.1"}));
}

TEST(ServerSessionTest, LateAnswerIgnored) {
  Client client;
  client.Send("NOOP\r\n");
  client.Replies();
  client.session().MessageStored("ABC");
  EXPECT_TRUE(client.Replies().empty());
}

// ---- Timeouts and shutdown ----

TEST(ServerSessionTest, PhaseFollowsInput) {
  Client client;
  EXPECT_EQ(client.session().phase(), ServerSession::Phase::kCommand);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\n"));
  EXPECT_EQ(client.session().phase(), ServerSession::Phase::kData);
  client.Send(".\r\nBDAT 10\r\n");
  EXPECT_EQ(client.session().phase(), ServerSession::Phase::kData);
  client.Send("0123456789");
  EXPECT_EQ(client.session().phase(), ServerSession::Phase::kCommand);
}

TEST(ServerSessionTest, TimeoutGives421) {
  Client client;
  client.session().TimedOut();
  EXPECT_EQ(client.Replies(), (Codes{"421 4.4.2"}));
  EXPECT_TRUE(client.session().closing());
}

TEST(ServerSessionTest, IdleShutdownClosesNow) {
  Client client;
  client.Send("EHLO c.example\r\n");
  client.Replies();
  client.session().ShuttingDown();
  EXPECT_EQ(client.Replies(), (Codes{"421 4.3.2"}));
  EXPECT_TRUE(client.session().closing());
}

TEST(ServerSessionTest, ShutdownWaitsForMessage) {
  Client client;
  client.set_auto_store(false);
  client.Send(absl::StrCat(kEnvelope, "DATA\r\nx\r\n"));
  client.Replies();
  client.session().ShuttingDown();
  EXPECT_FALSE(client.session().closing());
  client.Send(".\r\n");
  EXPECT_FALSE(client.session().closing());
  client.session().TakeMessage();
  client.session().MessageStored("ABC");
  EXPECT_EQ(client.Replies(), (Codes{"250 2.0.0", "421 4.3.2"}));
  EXPECT_TRUE(client.session().closing());
}

TEST(ServerSessionTest, ShutdownAfterRset) {
  Client client;
  client.Send("EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n");
  client.Replies();
  client.session().ShuttingDown();
  EXPECT_FALSE(client.session().closing());
  client.Send("RSET\r\nNOOP\r\n");
  EXPECT_EQ(client.Replies(), (Codes{"250 2.0.0", "421 4.3.2"}));
  EXPECT_TRUE(client.session().closing());
}

}  // namespace
}  // namespace ferry::smtp
