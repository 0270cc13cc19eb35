#include "engine/metrics/destination_connections.h"

#include "gtest/gtest.h"

namespace ferry::metrics {
namespace {

TEST(DestinationConnectionsTest, CountsPerDestination) {
  DestinationConnections connections;
  connections.Opened("example.net");
  connections.Opened("example.net");
  connections.Opened("example.org");
  std::map<std::string, int64_t> totals;
  connections.AddTo(&totals);
  EXPECT_EQ(totals["example.net"], 2);
  EXPECT_EQ(totals["example.org"], 1);
}

TEST(DestinationConnectionsTest, ClosedToZeroIsDropped) {
  DestinationConnections connections;
  connections.Opened("example.net");
  connections.Opened("example.org");
  connections.Closed("example.net");
  std::map<std::string, int64_t> totals;
  connections.AddTo(&totals);
  EXPECT_EQ(totals.count("example.net"), 0u);
  EXPECT_EQ(totals.size(), 1u);
}

TEST(DestinationConnectionsTest, TwoWorkersAdd) {
  DestinationConnections first, second;
  first.Opened("example.net");
  second.Opened("example.net");
  std::map<std::string, int64_t> totals;
  first.AddTo(&totals);
  second.AddTo(&totals);
  EXPECT_EQ(totals["example.net"], 2);
}

TEST(DestinationConnectionsTest, UnmatchedCloseIsIgnored) {
  DestinationConnections connections;
  connections.Closed("example.net");
  std::map<std::string, int64_t> totals;
  connections.AddTo(&totals);
  EXPECT_TRUE(totals.empty());
}

}  // namespace
}  // namespace ferry::metrics
