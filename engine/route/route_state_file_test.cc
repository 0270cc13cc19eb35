#include "engine/route/route_state_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

using ::testing::HasSubstr;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/route_state_XXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr);
  return pattern;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
}

state::RouteState SampleState() {
  state::RouteState route_state;
  route_state.set_version(7);
  route_state.set_source(state::ROUTE_SOURCE_ADMIN_API);
  route_state.set_admin_api_since_version(5);
  admin::v1::Route* route = route_state.add_route();
  route->set_domain("example.net");
  route->add_next_hop()->set_host("mx.example.net");
  return route_state;
}

class RouteStateFileTest : public ::testing::Test {
 protected:
  std::string dir_ = MakeTempDir();
  std::string path_ = dir_ + "/routes.pb";
};

TEST_F(RouteStateFileTest, WriteThenReadRoundTrips) {
  ASSERT_TRUE(WriteRouteStateFile(path_, SampleState()).ok());
  absl::StatusOr<state::RouteState> read = ReadRouteStateFile(path_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->SerializeAsString(), SampleState().SerializeAsString());
  EXPECT_NE(access((path_ + ".tmp").c_str(), F_OK), 0);
}

TEST_F(RouteStateFileTest, WriteReplacesOldFile) {
  ASSERT_TRUE(WriteRouteStateFile(path_, SampleState()).ok());
  state::RouteState newer = SampleState();
  newer.set_version(8);
  ASSERT_TRUE(WriteRouteStateFile(path_, newer).ok());
  absl::StatusOr<state::RouteState> read = ReadRouteStateFile(path_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), 8u);
}

TEST_F(RouteStateFileTest, MissingFileIsNotFound) {
  absl::StatusOr<state::RouteState> read = ReadRouteStateFile(path_);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RouteStateFileTest, FlippedBitIsDataLoss) {
  ASSERT_TRUE(WriteRouteStateFile(path_, SampleState()).ok());
  std::string bytes = ReadFile(path_);
  // Inside the route's host name, so that the framing still parses.
  const size_t host = bytes.find("mx.example.net");
  ASSERT_NE(host, std::string::npos);
  bytes[host] ^= 0x01;
  WriteFile(path_, bytes);
  absl::StatusOr<state::RouteState> read = ReadRouteStateFile(path_);
  ASSERT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr(path_));
  EXPECT_THAT(read.status().message(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(read.status().message(), HasSubstr("remove it"));
}

TEST_F(RouteStateFileTest, TruncatedFileIsDataLoss) {
  ASSERT_TRUE(WriteRouteStateFile(path_, SampleState()).ok());
  std::string bytes = ReadFile(path_);
  WriteFile(path_, bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(ReadRouteStateFile(path_).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(RouteStateFileTest, EmptyFileIsDataLoss) {
  WriteFile(path_, "");
  absl::StatusOr<state::RouteState> read = ReadRouteStateFile(path_);
  ASSERT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("version 0"));
}

TEST_F(RouteStateFileTest, TextFileIsDataLoss) {
  WriteFile(path_, "route { domain: \"example.net\" }\n");
  EXPECT_EQ(ReadRouteStateFile(path_).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(RouteStateFileTest, WriteIntoMissingDirectoryFails) {
  absl::Status status =
      WriteRouteStateFile(dir_ + "/missing/routes.pb", SampleState());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("missing/routes.pb.tmp"));
}

}  // namespace
}  // namespace ferry::route
