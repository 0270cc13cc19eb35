#include "engine/route/route_store.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/route/route_state_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

namespace v1 = ::ferry::admin::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/route_store_XXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr);
  return pattern;
}

Route ConfigRoute(std::string domain, uint32_t port) {
  Route route;
  route.domain = std::move(domain);
  route.next_hops.push_back(NextHop{.host = "127.0.0.1", .port = port});
  return route;
}

v1::Route ApiRoute(const std::string& domain, const std::string& host,
                   uint32_t port) {
  v1::Route route;
  route.set_domain(domain);
  v1::NextHop* hop = route.add_next_hop();
  hop->set_host(host);
  hop->set_port(port);
  return route;
}

v1::PutRouteRequest PutRequest(v1::Route route, uint64_t expected = 0) {
  v1::PutRouteRequest request;
  *request.mutable_route() = std::move(route);
  request.set_expected_version(expected);
  return request;
}

v1::DeleteRouteRequest DeleteRequest(const std::string& domain,
                                     uint64_t expected = 0) {
  v1::DeleteRouteRequest request;
  request.set_domain(domain);
  request.set_expected_version(expected);
  return request;
}

v1::GetRouteRequest GetRequest(const std::string& domain) {
  v1::GetRouteRequest request;
  request.set_domain(domain);
  return request;
}

std::vector<std::string> Domains(const v1::ListRoutesResponse& list) {
  std::vector<std::string> domains;
  for (const v1::Route& route : list.route()) domains.push_back(route.domain());
  return domains;
}

// The port of the first next hop of the published route for `domain`, or 0.
uint32_t PublishedPort(const RouteSnapshot& snapshot,
                       const std::string& domain) {
  const Route* route = snapshot.Load()->Find(domain);
  return route == nullptr ? 0 : route->next_hops[0].port;
}

class RouteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<RouteStore> MustOpen(const std::vector<Route>& config,
                                       size_t max_events = 100) {
    absl::StatusOr<std::unique_ptr<RouteStore>> store =
        Open(config, max_events);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  absl::StatusOr<std::unique_ptr<RouteStore>> Open(
      const std::vector<Route>& config, size_t max_events = 100) {
    return RouteStore::Open(
        RouteStore::Options{.state_path = path_, .max_events = max_events},
        config, &snapshot_);
  }

  std::string dir_ = MakeTempDir();
  std::string path_ = dir_ + "/routes.pb";
  RouteSnapshot snapshot_;
};

// ---- Open ----

TEST_F(RouteStoreTest, FirstOpenSeedsFromConfig) {
  auto store = MustOpen({ConfigRoute("Example.NET", 2526)});
  EXPECT_EQ(store->version(), 1u);
  EXPECT_TRUE(store->follows_config());
  EXPECT_THAT(Domains(store->List()), ElementsAre("example.net"));
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2526u);
  absl::StatusOr<state::RouteState> saved = ReadRouteStateFile(path_);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->version(), 1u);
  EXPECT_EQ(saved->source(), state::ROUTE_SOURCE_CONFIG);
  ASSERT_EQ(saved->route_size(), 1);
  EXPECT_EQ(saved->route(0).domain(), "example.net");
}

TEST_F(RouteStoreTest, FirstOpenWithoutRoutes) {
  auto store = MustOpen({});
  EXPECT_EQ(store->version(), 1u);
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(RouteStoreTest, OpenRejectsInvalidConfigRoutes) {
  absl::StatusOr<std::unique_ptr<RouteStore>> store =
      Open({ConfigRoute("a.example", 25), ConfigRoute("bad_domain", 25)});
  ASSERT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("route[1] \"bad_domain\""));
}

TEST_F(RouteStoreTest, ReopenKeepsApiRoutesOverConfig) {
  {
    auto store = MustOpen({ConfigRoute("example.net", 2526)});
    ASSERT_TRUE(
        store->Put(PutRequest(ApiRoute("example.org", "h", 2600))).ok());
  }
  auto store = MustOpen({ConfigRoute("example.com", 2700)});
  EXPECT_FALSE(store->follows_config());
  EXPECT_EQ(store->version(), 2u);
  EXPECT_EQ(store->admin_api_since_version(), 2u);
  EXPECT_THAT(Domains(store->List()),
              ElementsAre("example.net", "example.org"));
  EXPECT_EQ(PublishedPort(snapshot_, "example.org"), 2600u);
  EXPECT_EQ(PublishedPort(snapshot_, "example.com"), 0u);
}

TEST_F(RouteStoreTest, ReopenFollowsChangedConfig) {
  MustOpen({ConfigRoute("example.net", 2526), ConfigRoute("a.example", 25)});
  auto store = MustOpen(
      {ConfigRoute("example.net", 2527), ConfigRoute("b.example", 25)});
  EXPECT_TRUE(store->follows_config());
  // One put for example.net, one for b.example, one delete for a.example.
  EXPECT_EQ(store->version(), 4u);
  EXPECT_THAT(Domains(store->List()), ElementsAre("b.example", "example.net"));
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2527u);
}

TEST_F(RouteStoreTest, ReopenWithSameConfigKeepsVersion) {
  MustOpen({ConfigRoute("example.net", 2526)});
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  EXPECT_EQ(store->version(), 1u);
}

TEST_F(RouteStoreTest, DamagedStateFileFailsOpen) {
  MustOpen({ConfigRoute("example.net", 2526)});
  {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    file << "not a state file at all";
  }
  absl::StatusOr<std::unique_ptr<RouteStore>> store =
      Open({ConfigRoute("example.net", 2526)});
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_THAT(store.status().message(), HasSubstr("remove it"));
}

TEST_F(RouteStoreTest, StateFileWithInvalidRouteFailsOpen) {
  state::RouteState bad;
  bad.set_version(3);
  bad.set_source(state::ROUTE_SOURCE_ADMIN_API);
  *bad.add_route() = ApiRoute("example.net", "bad host", 25);
  ASSERT_TRUE(WriteRouteStateFile(path_, bad).ok());
  absl::StatusOr<std::unique_ptr<RouteStore>> store = Open({});
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr("contains an invalid route"));
  EXPECT_THAT(store.status().message(), HasSubstr("Remove the file"));
}

// ---- Put, Get, Delete ----

TEST_F(RouteStoreTest, PutCreatesAndPublishes) {
  auto store = MustOpen({});
  absl::StatusOr<v1::PutRouteResponse> put =
      store->Put(PutRequest(ApiRoute("Example.NET", "MX.Example.NET", 0)));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_TRUE(put->created());
  EXPECT_EQ(put->version(), 2u);
  EXPECT_FALSE(store->follows_config());
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 25u);
  absl::StatusOr<v1::GetRouteResponse> got =
      store->Get(GetRequest("EXAMPLE.net"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->version(), 2u);
  EXPECT_EQ(got->route().domain(), "example.net");
  EXPECT_EQ(got->route().next_hop(0).host(), "mx.example.net");
  EXPECT_EQ(got->route().next_hop(0).port(), 25u);
}

TEST_F(RouteStoreTest, PutReplacesRoute) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<v1::PutRouteResponse> put =
      store->Put(PutRequest(ApiRoute("example.net", "127.0.0.1", 2999)));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_FALSE(put->created());
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2999u);
}

TEST_F(RouteStoreTest, PutKeepsEtrnClients) {
  auto store = MustOpen({});
  v1::Route route = ApiRoute("example.net", "127.0.0.1", 2526);
  route.add_etrn_client("192.0.2.0/24");
  ASSERT_TRUE(store->Put(PutRequest(route)).ok());
  EXPECT_TRUE(snapshot_.Load()->AllowsEtrn("example.net", "192.0.2.9"));
  EXPECT_THAT(store->Get(GetRequest("example.net"))->route().etrn_client(),
              ElementsAre("192.0.2.0/24"));
}

TEST_F(RouteStoreTest, PutRejectsInvalidRoute) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<v1::PutRouteResponse> put =
      store->Put(PutRequest(ApiRoute("example.net", "mail.example.net:25", 0)));
  ASSERT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(put.status().message(),
              HasSubstr("route \"example.net\": next_hop[0] host "
                        "\"mail.example.net:25\""));
  EXPECT_EQ(store->version(), 1u);
  EXPECT_TRUE(store->follows_config());
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2526u);
}

TEST_F(RouteStoreTest, PutRejectsRouteWithoutNextHop) {
  auto store = MustOpen({});
  v1::Route route;
  route.set_domain("example.net");
  absl::StatusOr<v1::PutRouteResponse> put = store->Put(PutRequest(route));
  ASSERT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(put.status().message(), HasSubstr("no next hop"));
}

TEST_F(RouteStoreTest, ExpectedVersionMustMatch) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<v1::PutRouteResponse> stale =
      store->Put(PutRequest(ApiRoute("example.org", "h", 25), 7));
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(),
              HasSubstr("at version 1, not the expected version 7"));
  EXPECT_TRUE(store->Put(PutRequest(ApiRoute("example.org", "h", 25), 1)).ok());
  EXPECT_EQ(store->Delete(DeleteRequest("example.org", 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->Delete(DeleteRequest("example.org", 2)).ok());
}

TEST_F(RouteStoreTest, DeleteRemovesRoute) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<v1::DeleteRouteResponse> deleted =
      store->Delete(DeleteRequest("EXAMPLE.NET"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->version(), 2u);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(snapshot_.Load()->Find("example.net"), nullptr);
  EXPECT_EQ(store->Get(GetRequest("example.net")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RouteStoreTest, DeleteUnknownIsNotFound) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<v1::DeleteRouteResponse> deleted =
      store->Delete(DeleteRequest("example.org"));
  ASSERT_EQ(deleted.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(deleted.status().message(), HasSubstr("\"example.org\""));
  EXPECT_EQ(store->version(), 1u);
  EXPECT_TRUE(store->follows_config());
}

TEST_F(RouteStoreTest, EmptyDomainIsInvalid) {
  auto store = MustOpen({});
  EXPECT_EQ(store->Get(GetRequest("")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Delete(DeleteRequest("")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RouteStoreTest, FailedWriteChangesNothing) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  // Without its directory the state file cannot be replaced.
  ASSERT_EQ(unlink(path_.c_str()), 0);
  ASSERT_EQ(rmdir(dir_.c_str()), 0);
  absl::StatusOr<v1::PutRouteResponse> put =
      store->Put(PutRequest(ApiRoute("example.net", "127.0.0.1", 2999)));
  ASSERT_EQ(put.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(put.status().message(), HasSubstr("routes.pb.tmp"));
  EXPECT_EQ(store->version(), 1u);
  EXPECT_TRUE(store->follows_config());
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2526u);
  EXPECT_EQ(store->List().route(0).next_hop(0).port(), 2526u);
}

TEST_F(RouteStoreTest, ListenerSeesPublishedTable) {
  auto store = MustOpen({});
  std::vector<std::string> seen;
  store->SetChangeListener([&](const std::string& domain) {
    seen.push_back(
        absl::StrCat(domain, ":", PublishedPort(snapshot_, "example.net")));
  });
  ASSERT_TRUE(store->Put(PutRequest(ApiRoute("Example.net", "h", 2600))).ok());
  ASSERT_TRUE(store->Delete(DeleteRequest("example.net")).ok());
  EXPECT_THAT(seen, ElementsAre("example.net:2600", "example.net:0"));
}

// ---- ReseedFromConfig ----

TEST_F(RouteStoreTest, ReseedAppliesWhileConfigManaged) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  std::vector<std::string> seen;
  store->SetChangeListener(
      [&](const std::string& domain) { seen.push_back(domain); });
  absl::StatusOr<RouteStore::ReseedResult> result = store->ReseedFromConfig(
      {ConfigRoute("example.net", 2527), ConfigRoute("example.org", 25)});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, RouteStore::ReseedOutcome::kApplied);
  EXPECT_EQ(result->changed_routes, 2u);
  EXPECT_EQ(result->version, 3u);
  EXPECT_EQ(result->summary, "routes: version 3 (2 changed)");
  EXPECT_TRUE(store->follows_config());
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2527u);
  EXPECT_THAT(seen, ElementsAre("example.net", "example.org"));
}

TEST_F(RouteStoreTest, ReseedWithSameRoutesIsUnchanged) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<RouteStore::ReseedResult> result =
      store->ReseedFromConfig({ConfigRoute("EXAMPLE.net", 2526)});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, RouteStore::ReseedOutcome::kUnchanged);
  EXPECT_EQ(result->summary, "routes: unchanged at version 1");
  EXPECT_EQ(store->version(), 1u);
}

TEST_F(RouteStoreTest, ReseedIgnoredOnceApiManaged) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  ASSERT_TRUE(store->Put(PutRequest(ApiRoute("example.org", "h", 25))).ok());
  ASSERT_TRUE(store->Delete(DeleteRequest("example.org")).ok());
  absl::StatusOr<RouteStore::ReseedResult> result =
      store->ReseedFromConfig({ConfigRoute("example.com", 25)});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, RouteStore::ReseedOutcome::kIgnored);
  EXPECT_EQ(result->summary,
            "routes: managed through the admin API since version 2; the "
            "file's routes are ignored");
  EXPECT_EQ(store->version(), 3u);
  EXPECT_THAT(Domains(store->List()), ElementsAre("example.net"));
}

TEST_F(RouteStoreTest, ReseedRejectsInvalidRoutes) {
  auto store = MustOpen({ConfigRoute("example.net", 2526)});
  absl::StatusOr<RouteStore::ReseedResult> result = store->ReseedFromConfig(
      {ConfigRoute("example.net", 2527), ConfigRoute("EXAMPLE.net", 25)});
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("route[1]"));
  EXPECT_EQ(store->version(), 1u);
  EXPECT_EQ(PublishedPort(snapshot_, "example.net"), 2526u);
}

// ---- WaitEvents ----

TEST_F(RouteStoreTest, WaitFromZeroReturnsSnapshot) {
  auto store =
      MustOpen({ConfigRoute("b.example", 25), ConfigRoute("a.example", 25)});
  std::vector<v1::RouteEvent> events =
      store->WaitEvents(0, absl::ZeroDuration());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::RouteEvent::KIND_SNAPSHOT);
  EXPECT_EQ(events[0].version(), 1u);
  ASSERT_EQ(events[0].table_size(), 2);
  EXPECT_EQ(events[0].table(0).domain(), "a.example");
}

TEST_F(RouteStoreTest, WaitAtCurrentVersionTimesOut) {
  auto store = MustOpen({});
  const absl::Time start = absl::Now();
  EXPECT_TRUE(store->WaitEvents(1, absl::Milliseconds(50)).empty());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
}

TEST_F(RouteStoreTest, WaitReturnsChangesInOrder) {
  auto store = MustOpen({});
  ASSERT_TRUE(store->Put(PutRequest(ApiRoute("a.example", "h", 25))).ok());
  ASSERT_TRUE(store->Put(PutRequest(ApiRoute("b.example", "h", 26))).ok());
  ASSERT_TRUE(store->Delete(DeleteRequest("a.example")).ok());
  std::vector<v1::RouteEvent> events =
      store->WaitEvents(2, absl::ZeroDuration());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind(), v1::RouteEvent::KIND_PUT);
  EXPECT_EQ(events[0].version(), 3u);
  EXPECT_EQ(events[0].domain(), "b.example");
  EXPECT_EQ(events[0].route().next_hop(0).port(), 26u);
  EXPECT_EQ(events[1].kind(), v1::RouteEvent::KIND_DELETE);
  EXPECT_EQ(events[1].version(), 4u);
  EXPECT_EQ(events[1].domain(), "a.example");
  EXPECT_FALSE(events[1].has_route());
}

TEST_F(RouteStoreTest, WaitPastKeptLogReturnsSnapshot) {
  auto store = MustOpen({}, /*max_events=*/2);
  for (int i = 0; i < 4; ++i) {
    const std::string domain = absl::StrCat("d", i, ".example");
    ASSERT_TRUE(store->Put(PutRequest(ApiRoute(domain, "h", 25))).ok());
  }
  // Versions 2..5 were made; the log keeps 4 and 5.
  std::vector<v1::RouteEvent> kept = store->WaitEvents(3, absl::ZeroDuration());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].version(), 4u);
  std::vector<v1::RouteEvent> lost = store->WaitEvents(2, absl::ZeroDuration());
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].kind(), v1::RouteEvent::KIND_SNAPSHOT);
  EXPECT_EQ(lost[0].version(), 5u);
  EXPECT_EQ(lost[0].table_size(), 4);
}

TEST_F(RouteStoreTest, WaitAfterRestartNeedsSnapshot) {
  {
    auto store = MustOpen({});
    ASSERT_TRUE(store->Put(PutRequest(ApiRoute("a.example", "h", 25))).ok());
  }
  auto store = MustOpen({});
  // Version 2 is current: resumable. Version 1 was before the restart.
  EXPECT_TRUE(store->WaitEvents(2, absl::ZeroDuration()).empty());
  std::vector<v1::RouteEvent> events =
      store->WaitEvents(1, absl::ZeroDuration());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::RouteEvent::KIND_SNAPSHOT);
}

TEST_F(RouteStoreTest, WaitFromFutureVersionReturnsSnapshot) {
  auto store = MustOpen({ConfigRoute("example.net", 25)});
  std::vector<v1::RouteEvent> events = store->WaitEvents(99, absl::Seconds(10));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::RouteEvent::KIND_SNAPSHOT);
  EXPECT_EQ(events[0].version(), 1u);
}

TEST_F(RouteStoreTest, WaitWakesOnChange) {
  auto store = MustOpen({});
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    EXPECT_TRUE(store->Put(PutRequest(ApiRoute("a.example", "h", 25))).ok());
  });
  const absl::Time start = absl::Now();
  std::vector<v1::RouteEvent> events = store->WaitEvents(1, absl::Seconds(30));
  writer.join();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].domain(), "a.example");
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(RouteStoreTest, ShutdownWakesWaiters) {
  auto store = MustOpen({});
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(20));
    store->Shutdown();
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(store->WaitEvents(1, absl::Seconds(30)).empty());
  stopper.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(store->WaitEvents(0, absl::Seconds(30)).empty());
}

// Writers on several threads get distinct versions, and a watcher that
// follows them sees every version once, in order.
TEST_F(RouteStoreTest, ConcurrentPutsGetDistinctVersions) {
  constexpr int kThreads = 4;
  constexpr int kPutsPerThread = 25;
  auto store = MustOpen({});
  std::atomic<bool> done{false};
  std::vector<uint64_t> watched;
  std::thread watcher([&] {
    uint64_t after = 1;
    while (after < 1 + kThreads * kPutsPerThread) {
      for (const v1::RouteEvent& event :
           store->WaitEvents(after, absl::Seconds(5))) {
        watched.push_back(event.version());
        after = event.version();
      }
      if (done.load() && store->version() == after) break;
    }
  });
  std::vector<std::thread> writers;
  std::vector<std::vector<uint64_t>> versions(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPutsPerThread; ++i) {
        absl::StatusOr<v1::PutRouteResponse> put = store->Put(PutRequest(
            ApiRoute(absl::StrCat("d", t, "-", i, ".example"), "h", 25)));
        if (put.ok()) versions[t].push_back(put->version());
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  done.store(true);
  watcher.join();
  std::set<uint64_t> all;
  for (const auto& list : versions) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPutsPerThread));
  EXPECT_EQ(store->version(), 1u + kThreads * kPutsPerThread);
  ASSERT_EQ(watched.size(), static_cast<size_t>(kThreads * kPutsPerThread));
  for (size_t i = 0; i < watched.size(); ++i) EXPECT_EQ(watched[i], i + 2);
}

}  // namespace
}  // namespace ferry::route
