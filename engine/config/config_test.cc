#include "engine/config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <istream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace ferry::config {
namespace {

constexpr char kFile[] = "test.textproto";

// Sets HOME to an absolute path and unsets XDG_STATE_HOME for each test, so
// that the default spool_dir is known, and restores both afterwards.
class ConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    Save("HOME", saved_home_);
    Save("XDG_STATE_HOME", saved_state_home_);
    setenv("HOME", "/home/ferry", 1);
    unsetenv("XDG_STATE_HOME");
  }

  void TearDown() override {
    Restore("HOME", saved_home_);
    Restore("XDG_STATE_HOME", saved_state_home_);
  }

 private:
  static void Save(const char* name, std::optional<std::string>& saved) {
    const char* value = std::getenv(name);
    if (value != nullptr) saved = value;
  }

  static void Restore(const char* name,
                      const std::optional<std::string>& saved) {
    if (saved) {
      setenv(name, saved->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }

  std::optional<std::string> saved_home_;
  std::optional<std::string> saved_state_home_;
};

std::string WriteTempFile(const std::string& name, const std::string& text) {
  std::string path = absl::StrCat(testing::TempDir(), "/", name);
  std::ofstream(path) << text;
  return path;
}

std::string LocalHostname() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

// ---- Valid files ----

struct ValidCase {
  const char* name;
  const char* text;
};

TEST_F(ConfigTest, AcceptsValidFiles) {
  const ValidCase cases[] = {
      {"empty file", ""},
      {"comments only", "# nothing set\n\n"},
      {"minimal relay",
       "hostname: \"relay.example.net\"\n"
       "smtp_listen: \"127.0.0.1:2525\"\n"
       "spool_dir: \"/tmp/x/spool\"\n"
       "workers: 1\n"
       "route { domain: \"example.net\" next_hop { host: \"127.0.0.1\" "
       "port: 2526 } }\n"
       "delivery { initial_backoff: \"1s\" max_backoff: \"2s\" "
       "queue_lifetime: \"30s\" }\n"},
      {"IPv6 everywhere",
       "smtp_listen: \"[::1]:2525\"\n"
       "route { domain: \"example.net\" next_hop { host: \"::1\" } }\n"},
      {"listen list syntax",
       "smtp_listen: [\"127.0.0.1:2525\", \"[::1]:2525\", \"0.0.0.0:25\"]\n"},
      {"wildcard and recipients",
       "route {\n"
       "  domain: \"*.Example.NET\"\n"
       "  next_hop { host: \"mail-1.example.net\" port: 65535 }\n"
       "  recipient: \"postmaster\"\n"
       "  recipient: \"bob@example.net\"\n"
       "}\n"},
      {"zero where zero is valid",
       "workers: 0\n"
       "bare_line_ending: BARE_LINE_ENDING_NORMALIZE\n"
       "route { domain: \"example.net\" next_hop { host: \"a.example.net\" "
       "priority: 0 } }\n"},
      {"smallest limits",
       "limits { max_message_size: 1 max_recipients: 1 max_commands: 1 "
       "max_errors: 1 max_command_line: 512 max_received_headers: 1 "
       "max_connections: 1 max_connections_per_address: 1 }\n"
       "segment_size: 1048576\n"
       "delivery { initial_backoff: \"1s\" max_backoff: \"1s\" "
       "queue_lifetime: \"2s\" max_connections_per_destination: 1 "
       "max_messages_per_connection: 1 }\n"},
      {"same host on two ports",
       "route { domain: \"example.net\"\n"
       "  next_hop { host: \"a.example.net\" port: 2525 }\n"
       "  next_hop { host: \"a.example.net\" port: 2526 } }\n"},
      {"reject bare line endings",
       "bare_line_ending: BARE_LINE_ENDING_REJECT\n"},
  };
  for (const ValidCase& c : cases) {
    absl::StatusOr<Config> config = ParseConfigText(c.text, kFile);
    EXPECT_TRUE(config.ok()) << c.name << ": " << config.status();
  }
}

TEST_F(ConfigTest, ExampleFileIsValid) {
  absl::StatusOr<Config> config =
      LoadConfigFile("deploy/ferry.example.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hostname(), "relay.example.net");
  ASSERT_EQ(config->smtp_listen_size(), 1);
  EXPECT_EQ(config->smtp_listen(0), "127.0.0.1:2525");
  ASSERT_EQ(config->route_size(), 4);
  EXPECT_EQ(config->route(0).domain(), "example.net");
  EXPECT_EQ(config->route(0).next_hop(0).host(), "127.0.0.1");
  EXPECT_EQ(config->route(0).next_hop(0).port(), 2526u);
  EXPECT_EQ(config->route(1).domain().substr(0, 2), "*.");
  ASSERT_EQ(config->route(2).next_hop_size(), 2);
  EXPECT_NE(config->route(2).next_hop(0).priority(),
            config->route(2).next_hop(1).priority());
  EXPECT_GT(config->route(3).recipient_size(), 0);
  EXPECT_EQ(config->metrics_listen(), "127.0.0.1:9925");
}

// Fails when the example leaves out a field of the schema.
TEST_F(ConfigTest, ExampleFileSetsEveryField) {
  std::ifstream file("deploy/ferry.example.textproto");
  ASSERT_TRUE(file.good());
  std::string text;
  for (std::string line; std::getline(file, line);) {
    if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "#")) {
      absl::StrAppend(&text, line, "\n");
    }
  }
  const google::protobuf::Descriptor* types[] = {
      Config::descriptor(),         Route::descriptor(),
      NextHop::descriptor(),        Limits::descriptor(),
      ServerTimeouts::descriptor(), ClientTimeouts::descriptor(),
      Delivery::descriptor(),
  };
  for (const google::protobuf::Descriptor* type : types) {
    for (int i = 0; i < type->field_count(); ++i) {
      std::regex written(
          absl::StrCat("(^|[\\s{])", type->field(i)->name(), " *[:{]"));
      EXPECT_TRUE(std::regex_search(text, written))
          << type->field(i)->full_name();
    }
  }
}

TEST_F(ConfigTest, LoadsFileFromDisk) {
  std::string path = WriteTempFile(
      "load.textproto", "hostname: \"relay.example.net\"\nworkers: 3\n");
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hostname(), "relay.example.net");
  EXPECT_EQ(config->workers(), 3u);
}

// ---- Defaults ----

TEST_F(ConfigTest, EmptyFileGetsDefaults) {
  absl::StatusOr<Config> config = ParseConfigText("", kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hostname(), LocalHostname());
  ASSERT_EQ(config->smtp_listen_size(), 1);
  EXPECT_EQ(config->smtp_listen(0), "127.0.0.1:2525");
  EXPECT_EQ(config->spool_dir(), "/home/ferry/.local/state/ferry/spool");
  EXPECT_EQ(config->workers(), 0u);
  EXPECT_EQ(config->route_size(), 0);
  EXPECT_EQ(config->bare_line_ending(), BARE_LINE_ENDING_NORMALIZE);
  EXPECT_EQ(config->segment_size(), 67108864u);
  EXPECT_EQ(config->spare_segments(), 2u);
}

TEST_F(ConfigTest, ZeroSpareSegmentsStaysZero) {
  absl::StatusOr<Config> config = ParseConfigText("spare_segments: 0\n", kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->spare_segments(), 0u);
}

TEST_F(ConfigTest, EmptyFileGetsLimitDefaults) {
  absl::StatusOr<Config> config = ParseConfigText("", kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  const Limits& limits = config->limits();
  EXPECT_EQ(limits.max_message_size(), 10485760u);
  EXPECT_EQ(limits.max_recipients(), 100u);
  EXPECT_EQ(limits.max_commands(), 10000u);
  EXPECT_EQ(limits.max_errors(), 20u);
  EXPECT_EQ(limits.max_command_line(), 2048u);
  EXPECT_EQ(limits.max_received_headers(), 50u);
  EXPECT_EQ(limits.max_connections(), 10000u);
  EXPECT_EQ(limits.max_connections_per_address(), 50u);
}

TEST_F(ConfigTest, EmptyFileGetsTimeoutDefaults) {
  absl::StatusOr<Config> config = ParseConfigText("", kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server_timeouts().command(), "300s");
  EXPECT_EQ(config->server_timeouts().data_block(), "180s");
  const ClientTimeouts& client = config->client_timeouts();
  EXPECT_EQ(client.connect(), "30s");
  EXPECT_EQ(client.greeting(), "300s");
  EXPECT_EQ(client.command(), "300s");
  EXPECT_EQ(client.data_initiation(), "120s");
  EXPECT_EQ(client.data_block(), "180s");
  EXPECT_EQ(client.data_termination(), "600s");
}

TEST_F(ConfigTest, EmptyFileGetsDeliveryDefaults) {
  absl::StatusOr<Config> config = ParseConfigText("", kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  const Delivery& delivery = config->delivery();
  EXPECT_EQ(delivery.initial_backoff(), "60s");
  EXPECT_EQ(delivery.max_backoff(), "1h");
  EXPECT_EQ(delivery.queue_lifetime(), "5d");
  EXPECT_EQ(delivery.max_connections_per_destination(), 10u);
  EXPECT_EQ(delivery.max_messages_per_connection(), 100u);
  EXPECT_EQ(delivery.connection_idle_time(), "2s");
}

TEST_F(ConfigTest, WrittenValuesOverrideDefaults) {
  absl::StatusOr<Config> config = ParseConfigText(
      "limits { max_recipients: 7 }\ndelivery { max_backoff: \"2h\" }\n",
      kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->limits().max_recipients(), 7u);
  EXPECT_EQ(config->limits().max_errors(), 20u);
  EXPECT_EQ(config->delivery().max_backoff(), "2h");
  EXPECT_EQ(config->delivery().initial_backoff(), "60s");
}

TEST_F(ConfigTest, NextHopPortDefaultsTo25) {
  absl::StatusOr<Config> config = ParseConfigText(
      "route { domain: \"example.net\" next_hop { host: \"a.example.net\" } "
      "}\n",
      kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->route(0).next_hop(0).port(), 25u);
}

TEST_F(ConfigTest, SpoolDirDefaultPrefersXdgStateHome) {
  setenv("XDG_STATE_HOME", "/state", 1);
  EXPECT_EQ(DefaultConfig().spool_dir(), "/state/ferry/spool");
}

TEST_F(ConfigTest, SpoolDirDefaultIgnoresRelativeXdgStateHome) {
  setenv("XDG_STATE_HOME", "relative", 1);
  EXPECT_EQ(DefaultConfig().spool_dir(),
            "/home/ferry/.local/state/ferry/spool");
}

TEST_F(ConfigTest, SpoolDirWithoutHomeIsAnError) {
  unsetenv("HOME");
  EXPECT_EQ(DefaultConfig().spool_dir(), "");
  absl::StatusOr<Config> config = ParseConfigText("", kFile);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("spool_dir: is empty"),
            std::string::npos)
      << config.status();
}

TEST_F(ConfigTest, ApplyDefaultsKeepsSetValues) {
  Config config;
  config.set_hostname("relay.example.net");
  config.mutable_limits()->set_max_recipients(5);
  config.add_route()->add_next_hop()->set_port(2526);
  ApplyDefaults(&config);
  EXPECT_EQ(config.hostname(), "relay.example.net");
  EXPECT_EQ(config.limits().max_recipients(), 5u);
  EXPECT_EQ(config.limits().max_commands(), 10000u);
  EXPECT_EQ(config.route(0).next_hop(0).port(), 2526u);
}

TEST_F(ConfigTest, DefaultConfigIsValid) {
  EXPECT_TRUE(ValidateConfig(DefaultConfig()).ok());
}

// Returns "Message.field" -> the literal after "Default" in that field's
// comment in proto/config.proto, such as "100" or "\"300s\"". Defaults
// that are not literals ("the machine's host name") are left out.
std::map<std::string, std::string> ReadProtoCommentDefaults(
    std::istream& proto) {
  const std::regex message_start("^message (\\w+) \\{");
  const std::regex field_line("^  [\\w. ]+ (\\w+) = \\d+;");
  const std::regex default_literal("Default:?\\s+(\\d+|\"[^\"$]*\")[ .:]");
  std::map<std::string, std::string> defaults;
  std::string message_name;
  std::string comment;
  for (std::string line; std::getline(proto, line);) {
    std::smatch match;
    if (absl::StartsWith(line, "  //")) {
      absl::StrAppend(&comment, line.substr(4), " ");
      continue;
    }
    if (std::regex_search(line, match, message_start)) {
      message_name = match[1];
    } else if (std::regex_search(line, match, field_line)) {
      std::smatch literal;
      if (std::regex_search(comment, literal, default_literal)) {
        defaults[absl::StrCat(message_name, ".", match[1].str())] = literal[1];
      }
    }
    comment.clear();
  }
  return defaults;
}

TEST_F(ConfigTest, DefaultsMatchProtoComments) {
  std::ifstream proto("proto/config.proto");
  ASSERT_TRUE(proto.good());
  std::map<std::string, std::string> documented =
      ReadProtoCommentDefaults(proto);
  // Every scalar field with a literal default: 9 in Limits, 2 in
  // ServerTimeouts, 6 in ClientTimeouts, 5 in Delivery, port and priority
  // in NextHop, workers, segment_size, spare_segments and metrics_listen
  // in Config, tcp_listen in Admin.
  EXPECT_EQ(documented.size(), 29u);

  Config sample;
  sample.add_route()->add_next_hop();
  ApplyDefaults(&sample);
  const std::map<std::string, const google::protobuf::Message*> messages = {
      {"Config", &sample},
      {"NextHop", &sample.route(0).next_hop(0)},
      {"Limits", &sample.limits()},
      {"ServerTimeouts", &sample.server_timeouts()},
      {"ClientTimeouts", &sample.client_timeouts()},
      {"Delivery", &sample.delivery()},
      {"Admin", &sample.admin()},
  };
  for (const auto& [name, literal] : documented) {
    std::vector<std::string> parts = absl::StrSplit(name, '.');
    ASSERT_EQ(messages.count(parts[0]), 1u) << name;
    const google::protobuf::Message* message = messages.at(parts[0]);
    const google::protobuf::FieldDescriptor* field =
        message->GetDescriptor()->FindFieldByName(parts[1]);
    ASSERT_NE(field, nullptr) << name;
    std::string value;
    google::protobuf::TextFormat::PrintFieldValueToString(*message, field, -1,
                                                          &value);
    EXPECT_EQ(value, literal) << name;
  }
}

// ---- Validation errors ----

struct ErrorCase {
  const char* name;
  const char* text;
  const char* position;  // "LINE:COL" of the reported field
  const char* path;
  const char* message_part;
};

const ErrorCase kErrorCases[] = {
    // hostname
    {"hostname with underscore", "hostname: \"bad_host\"\n", "1:1", "hostname",
     "\"bad_host\" is not a valid host name because it contains"},
    {"hostname with trailing dot",
     "workers: 1\nhostname: \"relay.example.net.\"\n", "2:1", "hostname",
     "ends with a dot"},
    {"hostname written empty", "hostname: \"\"\n", "1:1", "hostname",
     "\"\" is not a valid value. Remove the line to use the default"},
    // smtp_listen
    {"listen on host name", "hostname: \"a\"\nsmtp_listen: \"localhost:25\"\n",
     "2:1", "smtp_listen[0]", "\"localhost\" is not an IP address"},
    {"listen port out of range", "smtp_listen: \"127.0.0.1:65536\"\n", "1:1",
     "smtp_listen[0]", "port \"65536\" is invalid"},
    {"listen second of list", "smtp_listen: [\"127.0.0.1:25\", \"::1:25\"]\n",
     "1:1", "smtp_listen[1]", "needs brackets"},
    {"listen address repeated",
     "smtp_listen: \"[::1]:25\"\nsmtp_listen: \"127.0.0.1:25\"\n"
     "smtp_listen: \"[0::1]:25\"\n",
     "3:1", "smtp_listen[2]", "repeats smtp_listen[0]"},
    // metrics_listen
    {"metrics listen on host name", "metrics_listen: \"localhost:9925\"\n",
     "1:1", "metrics_listen", "\"localhost\" is not an IP address"},
    {"metrics listen on smtp port", "metrics_listen: \"127.0.0.1:2525\"\n",
     "1:1", "metrics_listen", "is also smtp_listen[0]"},
    // spool_dir, workers
    {"relative spool dir", "\n  spool_dir: \"spool\"\n", "2:3", "spool_dir",
     "\"spool\" is a relative path"},
    {"too many workers", "workers: 5000\n", "1:1", "workers",
     "5000 is more than the maximum of 1024"},
    // route domains
    {"route without domain",
     "route {\n  next_hop { host: \"a.example.net\" }\n}\n", "1:1",
     "route[0].domain", "is missing"},
    {"route for every domain",
     "route {\n  domain: \"*\"\n  next_hop { host: \"a.example.net\" }\n}\n",
     "2:3", "route[0].domain", "open relay"},
    {"wildcard inside domain",
     "route {\n  domain: \"a.*.net\"\n  next_hop { host: \"a.example.net\" "
     "}\n}\n",
     "2:3", "route[0].domain", "'*' that is not the whole first label"},
    {"domain with underscore",
     "route { domain: \"exa_mple.net\" next_hop { host: \"a.example.net\" } "
     "}\n",
     "1:9", "route[0].domain", "not a valid domain because it contains '_'"},
    {"domain with empty label",
     "route { domain: \"example..net\" next_hop { host: \"a.example.net\" } "
     "}\n",
     "1:9", "route[0].domain", "empty label"},
    {"domain label too long",
     "route { domain: "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.net\" "
     "next_hop { host: \"a.example.net\" } }\n",
     "1:9", "route[0].domain", "longer than 63 characters"},
    {"domain label ends with hyphen",
     "route { domain: \"example-.net\" next_hop { host: \"a.example.net\" } "
     "}\n",
     "1:9", "route[0].domain", "starts or ends with a hyphen"},
    {"domain repeated in other case",
     "route { domain: \"example.net\" next_hop { host: \"a.example.net\" } }\n"
     "route { domain: \"x.example\" next_hop { host: \"a.example.net\" } }\n"
     "route { domain: \"Example.NET\" next_hop { host: \"b.example.net\" } }\n",
     "3:9", "route[2].domain", "repeats the domain of route[0] (line 1)"},
    // next hops
    {"route without next hop", "\nroute { domain: \"example.net\" }\n", "2:1",
     "route[0].next_hop", "is missing. Add at least one next_hop"},
    {"next hop without host",
     "route {\n  domain: \"example.net\"\n  next_hop { port: 2526 }\n}\n",
     "3:3", "route[0].next_hop[0].host", "is missing"},
    {"next hop host with port",
     "route {\n  domain: \"example.net\"\n"
     "  next_hop { host: \"mail.example.net:2526\" }\n}\n",
     "3:14", "route[0].next_hop[0].host", "includes a port"},
    {"next hop host in brackets",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"[::1]\" }\n}\n",
     "3:14", "route[0].next_hop[0].host", "has brackets"},
    {"next hop host with space",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a b\" }\n}\n",
     "3:14", "route[0].next_hop[0].host",
     "not a valid host name or IP address because it contains ' '"},
    {"next hop port out of range",
     "route { domain: \"a.example\" next_hop { host: \"h.example\" } }\n"
     "route { domain: \"b.example\" next_hop { host: \"h.example\" } }\n"
     "route {\n"
     "  domain: \"c.example\"\n"
     "  next_hop {\n"
     "    host: \"h.example\"\n"
     "    port: 70000\n"
     "  }\n"
     "}\n",
     "7:5", "route[2].next_hop[0].port",
     "70000 is out of range. Use a TCP port from 1 to 65535."},
    {"next hop port written zero",
     "route {\n  domain: \"example.net\"\n"
     "  next_hop { host: \"a.example.net\" port: 0 }\n}\n",
     "3:36", "route[0].next_hop[0].port",
     "0 is not a valid value. Remove the line to use the default (25)."},
    {"next hop repeated",
     "route {\n  domain: \"example.net\"\n"
     "  next_hop { host: \"a.example.net\" }\n"
     "  next_hop { host: \"A.example.net\" port: 25 }\n}\n",
     "4:3", "route[0].next_hop[1]", "repeats next_hop[0]"},
    // recipients
    {"recipient empty",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  recipient: \"\"\n}\n",
     "4:3", "route[0].recipient[0]", "is empty"},
    {"recipient with angle brackets",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  recipient: \"bob\"\n  recipient: \"<bob@example.net>\"\n}\n",
     "5:3", "route[0].recipient[1]", "contains '<'"},
    {"recipient with space",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  recipient: \"bob smith\"\n}\n",
     "4:3", "route[0].recipient[0]", "contains ' '"},
    {"recipient without domain",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  recipient: \"bob@\"\n}\n",
     "4:3", "route[0].recipient[0]", "empty local part or domain"},
    // ETRN clients
    {"etrn client host name",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  etrn_client: \"192.0.2.7\"\n  etrn_client: \"mail.example.net\"\n}\n",
     "5:3", "route[0].etrn_client[1]",
     "\"mail.example.net\" is not an IP address or CIDR prefix"},
    {"etrn client length too long",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  etrn_client: \"192.0.2.0/33\"\n}\n",
     "4:3", "route[0].etrn_client[0]", "Write /0 to /32 after an IPv4"},
    {"etrn client with host bits",
     "route {\n  domain: \"example.net\"\n  next_hop { host: \"a.example\" }\n"
     "  etrn_client: \"2001:db8::1/32\"\n}\n",
     "4:3", "route[0].etrn_client[0]", "network address \"2001:db8::/32\""},
    // limits
    {"command line below RFC minimum", "limits {\n  max_command_line: 100\n}\n",
     "2:3", "limits.max_command_line",
     "100 is less than the minimum of 512 that RFC 5321"},
    {"max recipients written zero", "limits {\n  max_recipients: 0\n}\n", "2:3",
     "limits.max_recipients",
     "0 is not a valid value. Remove the line to use the default (100)."},
    {"max message size written zero", "limits { max_message_size: 0 }\n",
     "1:10", "limits.max_message_size", "use the default (10485760)"},
    {"max message size above spool record",
     "limits { max_message_size: 1073741824 max_receiving_bytes: "
     "1073741824 }\n",
     "1:10",
     "limits.max_message_size", "one spool record can hold"},
    {"receiving bytes below message size",
     "limits {\n  max_message_size: 2000000\n  max_receiving_bytes: 1000000\n}\n",
     "3:3", "limits.max_receiving_bytes",
     "1000000 is less than limits.max_message_size (2000000)"},
    {"per-address limit above total",
     "limits {\n  max_connections: 10\n  max_connections_per_address: 11\n}\n",
     "3:3", "limits.max_connections_per_address",
     "11 is more than limits.max_connections (10)"},
    // durations
    {"timeout with unknown unit", "server_timeouts { command: \"5x\" }\n",
     "1:19", "server_timeouts.command",
     "invalid duration \"5x\": 'x' is not a unit"},
    {"timeout zero", "client_timeouts {\n  connect: \"0s\"\n}\n", "2:3",
     "client_timeouts.connect", "\"0s\" is not positive"},
    {"timeout written empty", "client_timeouts {\n  greeting: \"\"\n}\n", "2:3",
     "client_timeouts.greeting", "use the default (\"300s\")"},
    {"timeout with fraction",
     "client_timeouts {\n  data_termination: \"1.5m\"\n}\n", "2:3",
     "client_timeouts.data_termination", "fractions are not supported"},
    {"backoff initial above max",
     "delivery {\n  initial_backoff: \"2h\"\n  max_backoff: \"1h\"\n}\n", "2:3",
     "delivery.initial_backoff",
     "\"2h\" is longer than delivery.max_backoff (\"1h\")"},
    {"queue lifetime below initial backoff",
     "delivery {\n  queue_lifetime: \"30s\"\n}\n", "2:3",
     "delivery.queue_lifetime",
     "\"30s\" is not longer than delivery.initial_backoff (\"60s\")"},
    {"connection idle time above five minutes",
     "delivery {\n  connection_idle_time: \"6m\"\n}\n", "2:3",
     "delivery.connection_idle_time",
     "\"6m\" is longer than the maximum of \"300s\""},
    {"connection idle time negative",
     "delivery {\n  connection_idle_time: \"-1s\"\n}\n", "2:3",
     "delivery.connection_idle_time", "invalid duration \"-1s\""},
    {"destination connections written zero",
     "delivery {\n  max_connections_per_destination: 0\n}\n", "2:3",
     "delivery.max_connections_per_destination", "use the default (10)"},
    // spool and input
    {"segment below one MiB", "segment_size: 1000\n", "1:1", "segment_size",
     "1000 is less than the minimum of 1048576"},
    {"segment written zero", "segment_size: 0\n", "1:1", "segment_size",
     "use the default (67108864)"},
    {"too many spare segments", "spare_segments: 65\n", "1:1", "spare_segments",
     "65 is more than the maximum of 64"},
    {"unknown bare line ending number", "bare_line_ending: 7\n", "1:1",
     "bare_line_ending", "7 is not a known value"},
};

TEST_F(ConfigTest, ReportsEachValidationError) {
  for (const ErrorCase& c : kErrorCases) {
    absl::StatusOr<Config> config = ParseConfigText(c.text, kFile);
    ASSERT_FALSE(config.ok()) << c.name << " was accepted";
    std::string message(config.status().message());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name;
    std::string prefix =
        absl::StrCat(kFile, ":", c.position, ": ", c.path, ": ");
    EXPECT_NE(message.find(prefix), std::string::npos)
        << c.name << ": expected \"" << prefix << "\" in:\n"
        << message;
    EXPECT_NE(message.find(c.message_part), std::string::npos)
        << c.name << ": expected \"" << c.message_part << "\" in:\n"
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos)
        << c.name << ": expected one error, got:\n"
        << message;
  }
}

TEST_F(ConfigTest, ReportsAllErrorsOnePerLine) {
  absl::StatusOr<Config> config = ParseConfigText(
      "workers: 5000\n"
      "route { domain: \"*\" next_hop { host: \"a.example\" port: 70000 } }\n",
      kFile);
  ASSERT_FALSE(config.ok());
  std::vector<std::string> lines =
      absl::StrSplit(config.status().message(), '\n');
  ASSERT_EQ(lines.size(), 3u) << config.status();
  EXPECT_TRUE(absl::StartsWith(lines[0], "test.textproto:1:1: workers: "));
  EXPECT_TRUE(
      absl::StartsWith(lines[1], "test.textproto:2:9: route[0].domain: "));
  EXPECT_TRUE(absl::StartsWith(
      lines[2], "test.textproto:2:50: route[0].next_hop[0].port: "));
}

TEST_F(ConfigTest, SortsErrorsByPosition) {
  absl::StatusOr<Config> config = ParseConfigText(
      "segment_size: 1000\nlimits { max_recipients: 0 }\n", kFile);
  ASSERT_FALSE(config.ok());
  std::vector<std::string> lines =
      absl::StrSplit(config.status().message(), '\n');
  ASSERT_EQ(lines.size(), 2u) << config.status();
  EXPECT_TRUE(absl::StartsWith(lines[0], "test.textproto:1:1: segment_size"));
  EXPECT_TRUE(
      absl::StartsWith(lines[1], "test.textproto:2:10: limits.max_recipients"));
}

// ---- Syntax errors ----

struct SyntaxCase {
  const char* name;
  const char* text;
  const char* expected;
};

TEST_F(ConfigTest, ReportsSyntaxErrorsWithPosition) {
  const SyntaxCase cases[] = {
      {"unknown field", "hostname: \"a\"\nfoo: 1\n",
       "test.textproto:2:1: unknown field \"foo\" in ferry.config.Config"},
      {"misspelled nested field", "limits {\n  max_recipient: 5\n}\n",
       "test.textproto:2:3: unknown field \"max_recipient\" in "
       "ferry.config.Limits. Did you mean \"max_recipients\"?"},
      {"unclosed message", "route {\n  domain: \"example.net\"\n",
       "test.textproto:3:1: Expected identifier"},
      {"string for number", "workers: \"two\"\n",
       "test.textproto:1:10: Expected integer"},
      {"unknown enum name", "bare_line_ending: STRIP\n",
       "test.textproto:1:19: Unknown enumeration value of \"STRIP\""},
      {"unknown field after a tab", "\tfoo : 1\n",
       "test.textproto:1:9: unknown field \"foo\""},
      {"singular field twice", "hostname: \"a\"\nhostname: \"b\"\n",
       "test.textproto:2:"},
      {"negative port",
       "route { domain: \"example.net\" next_hop { host: \"a\" port: -1 } }\n",
       "test.textproto:1:"},
  };
  for (const SyntaxCase& c : cases) {
    absl::StatusOr<Config> config = ParseConfigText(c.text, kFile);
    ASSERT_FALSE(config.ok()) << c.name << " was accepted";
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name;
    EXPECT_TRUE(absl::StartsWith(config.status().message(), c.expected))
        << c.name << ": expected \"" << c.expected << "\" at the start of:\n"
        << config.status().message();
  }
}

TEST_F(ConfigTest, UnknownFieldWithoutCloseNameHasNoSuggestion) {
  absl::StatusOr<Config> config = ParseConfigText("colour: 1\n", kFile);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "test.textproto:1:1: unknown field \"colour\" in "
            "ferry.config.Config");
}

// ---- Files that cannot be read ----

TEST_F(ConfigTest, MissingFileNamesPathAndError) {
  std::string path = absl::StrCat(testing::TempDir(), "/missing.textproto");
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find(path), std::string::npos)
      << config.status();
  EXPECT_NE(config.status().message().find("No such file or directory"),
            std::string::npos)
      << config.status();
}

TEST_F(ConfigTest, DirectoryNamesPathAndError) {
  std::string path = testing::TempDir();
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(path), std::string::npos)
      << config.status();
  EXPECT_NE(config.status().message().find("Is a directory"), std::string::npos)
      << config.status();
}

TEST_F(ConfigTest, ErrorsInFileNameItsPath) {
  std::string path = WriteTempFile("bad.textproto", "\nworkers: 5000\n");
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::StartsWith(config.status().message(),
                               absl::StrCat(path, ":2:1: workers: ")))
      << config.status();
}

// ---- Settings ----

TEST_F(ConfigTest, ResolveSettingsParsesDurations) {
  absl::StatusOr<Config> config = ParseConfigText(
      "server_timeouts { command: \"5m\" }\n"
      "delivery { initial_backoff: \"30s\" max_backoff: \"1h30m\" "
      "connection_idle_time: \"0s\" }\n",
      kFile);
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<Settings> settings = ResolveSettings(*config);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->server_command_timeout, absl::Minutes(5));
  EXPECT_EQ(settings->server_data_block_timeout, absl::Seconds(180));
  EXPECT_EQ(settings->client_connect_timeout, absl::Seconds(30));
  EXPECT_EQ(settings->client_greeting_timeout, absl::Seconds(300));
  EXPECT_EQ(settings->client_command_timeout, absl::Seconds(300));
  EXPECT_EQ(settings->client_data_initiation_timeout, absl::Seconds(120));
  EXPECT_EQ(settings->client_data_block_timeout, absl::Seconds(180));
  EXPECT_EQ(settings->client_data_termination_timeout, absl::Seconds(600));
  EXPECT_EQ(settings->initial_backoff, absl::Seconds(30));
  EXPECT_EQ(settings->max_backoff, absl::Minutes(90));
  EXPECT_EQ(settings->queue_lifetime, absl::Hours(5 * 24));
  EXPECT_EQ(settings->connection_idle_time, absl::ZeroDuration());
}

TEST_F(ConfigTest, ResolveSettingsParsesListenAddresses) {
  Config config;
  config.add_smtp_listen("127.0.0.1:2525");
  config.add_smtp_listen("[::1]:25");
  absl::StatusOr<Settings> settings = ResolveSettings(config);
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_EQ(settings->smtp_listen.size(), 2u);
  EXPECT_EQ(settings->smtp_listen[0].ToString(), "127.0.0.1:2525");
  EXPECT_EQ(settings->smtp_listen[1].family(), AF_INET6);
  EXPECT_EQ(settings->smtp_listen[1].port, 25);
}

TEST_F(ConfigTest, ResolveSettingsResolvesWorkers) {
  Config config;
  absl::StatusOr<Settings> per_cpu = ResolveSettings(config);
  ASSERT_TRUE(per_cpu.ok()) << per_cpu.status();
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(per_cpu->workers, cpus > 0 ? cpus : 1);
  config.set_workers(3);
  absl::StatusOr<Settings> three = ResolveSettings(config);
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->workers, 3);
}

TEST_F(ConfigTest, ResolveSettingsAppliesDefaults) {
  absl::StatusOr<Settings> settings = ResolveSettings(Config());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->config.limits().max_recipients(), 100u);
  ASSERT_EQ(settings->smtp_listen.size(), 1u);
  EXPECT_EQ(settings->smtp_listen[0].ToString(), "127.0.0.1:2525");
}

TEST_F(ConfigTest, ResolveSettingsNamesPathWithoutFile) {
  Config config;
  Route* route = config.add_route();
  route->set_domain("example.net");
  route->add_next_hop()->set_host("a.example.net");
  route->mutable_next_hop(0)->set_port(70000);
  absl::StatusOr<Settings> settings = ResolveSettings(config);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().message(),
            "route[0].next_hop[0].port: 70000 is out of range. Use a TCP port "
            "from 1 to 65535.");
}

TEST_F(ConfigTest, ValidateConfigReportsZeroLimit) {
  Config config = DefaultConfig();
  config.mutable_limits()->set_max_recipients(0);
  absl::Status status = ValidateConfig(config);
  EXPECT_EQ(status.message(),
            "limits.max_recipients: 0 is less than the minimum of 1.");
}

TEST_F(ConfigTest, FormatConfigRoundTrips) {
  absl::StatusOr<Config> config =
      LoadConfigFile("deploy/ferry.example.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  std::string text = FormatConfig(*config);
  absl::StatusOr<Config> reparsed = ParseConfigText(text, "formatted");
  ASSERT_TRUE(reparsed.ok()) << reparsed.status() << "\n" << text;
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*config, *reparsed))
      << text;
}

}  // namespace
}  // namespace ferry::config
