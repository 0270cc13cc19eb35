#include "engine/smtp/etrn.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace ferry::smtp {
namespace {

struct ValidCase {
  std::string_view argument;
  EtrnNode::Kind kind;
  std::string_view name;
  std::string_view text;
};

class EtrnParseTest : public testing::TestWithParam<ValidCase> {};

TEST_P(EtrnParseTest, ParsesNode) {
  const ValidCase& c = GetParam();
  EtrnNode node;
  const std::optional<Reply> error = ParseEtrnArgument(c.argument, &node);
  ASSERT_FALSE(error.has_value()) << c.argument << ": " << error->Summary();
  EXPECT_EQ(node.kind, c.kind) << c.argument;
  EXPECT_EQ(node.name, c.name) << c.argument;
  EXPECT_EQ(node.text, c.text) << c.argument;
}

INSTANTIATE_TEST_SUITE_P(
    Arguments, EtrnParseTest,
    testing::Values(
        ValidCase{"example.net", EtrnNode::Kind::kDomain, "example.net",
                  "example.net"},
        ValidCase{"  Example.NET ", EtrnNode::Kind::kDomain, "example.net",
                  "Example.NET"},
        ValidCase{"localhost", EtrnNode::Kind::kDomain, "localhost",
                  "localhost"},
        ValidCase{"@example.net", EtrnNode::Kind::kSubdomains, "example.net",
                  "@example.net"},
        ValidCase{"@Mail-1.Example.net", EtrnNode::Kind::kSubdomains,
                  "mail-1.example.net", "@Mail-1.Example.net"},
        ValidCase{"#queue1", EtrnNode::Kind::kQueueName, "queue1", "#queue1"}));

class EtrnParseErrorTest : public testing::TestWithParam<std::string> {};

TEST_P(EtrnParseErrorTest, RejectsWith501) {
  EtrnNode node;
  const std::optional<Reply> error = ParseEtrnArgument(GetParam(), &node);
  ASSERT_TRUE(error.has_value()) << GetParam();
  EXPECT_EQ(error->code, 501) << GetParam();
  EXPECT_EQ(error->enhanced, "5.5.4") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Arguments, EtrnParseErrorTest,
    testing::Values(
        "", "   ", "@", "#", "example.net.", ".example.net", "exa mple.net",
        "example..net", "-example.net", "example-.net", "exa_mple.net",
        "[192.0.2.1]", "bob@example.net", "@@example.net", "@#example.net",
        "#two words", std::string(64, 'a') + ".net",
        std::string(250, 'a').insert(60, ".").insert(120, ".").insert(180,
                                                                      ".") +
            ".net",
        "caf\xc3\xa9.example"));

// Records each request and answers with a set result.
class FakeStarter : public QueueStarter {
 public:
  explicit FakeStarter(Result result) : result_(result) {}
  Result StartQueue(const EtrnNode& node, std::string_view client_ip) override {
    nodes.push_back(node.name);
    clients.push_back(std::string(client_ip));
    return result_;
  }
  std::vector<std::string> nodes;
  std::vector<std::string> clients;

 private:
  Result result_;
};

EtrnNode Node(std::string_view argument) {
  EtrnNode node;
  EXPECT_FALSE(ParseEtrnArgument(argument, &node).has_value()) << argument;
  return node;
}

TEST(EtrnReplyTest, StartedIs250) {
  FakeStarter starter(QueueStarter::Result::kStarted);
  const Reply reply = StartEtrnQueue(Node("Example.net"), starter, "192.0.2.7");
  EXPECT_EQ(reply.Format(),
            "250 2.0.0 Queuing for node Example.net started\r\n");
  EXPECT_EQ(starter.nodes, std::vector<std::string>{"example.net"});
  EXPECT_EQ(starter.clients, std::vector<std::string>{"192.0.2.7"});
}

TEST(EtrnReplyTest, NotAllowedIs459) {
  FakeStarter starter(QueueStarter::Result::kNotAllowed);
  const Reply reply =
      StartEtrnQueue(Node("@example.net"), starter, "192.0.2.7");
  EXPECT_EQ(reply.code, 459);
  EXPECT_EQ(reply.enhanced, "4.7.1");
  EXPECT_EQ(reply.lines[0].rfind("Node @example.net not allowed: ", 0), 0u)
      << reply.lines[0];
}

TEST(EtrnReplyTest, UnavailableIs458) {
  FakeStarter starter(QueueStarter::Result::kUnavailable);
  const Reply reply = StartEtrnQueue(Node("example.net"), starter, "192.0.2.7");
  EXPECT_EQ(reply.Format(),
            "458 4.3.0 Unable to queue messages for node example.net\r\n");
}

TEST(EtrnReplyTest, QueueNameIs458WithoutAsking) {
  FakeStarter starter(QueueStarter::Result::kStarted);
  const Reply reply = StartEtrnQueue(Node("#outbound"), starter, "192.0.2.7");
  EXPECT_EQ(reply.code, 458);
  EXPECT_EQ(reply.enhanced, "4.3.0");
  EXPECT_TRUE(starter.nodes.empty());
}

}  // namespace
}  // namespace ferry::smtp
