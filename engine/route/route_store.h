// RouteStore: the routing table at run time, and the one place that changes
// it. It keeps the routes with a version, writes them to a state file
// (<spool_dir>/routes.pb) before a change takes effect, publishes every new
// table through a RouteSnapshot for the workers, and keeps a bounded log of
// recent changes so that a watcher can resume from a version.
//
// Versions: a new state file starts at version 1. Every route that a change
// creates, replaces or deletes adds one, so a change of N routes (a reload
// from the configuration file) adds N. Versions are kept across restarts.
//
// Where routes come from: a new state file takes the configuration file's
// routes. While no change has been made through the admin API, the table
// follows that file: Open() and ReseedFromConfig() replace the table with
// the file's routes. The first Put() or Delete() makes the admin API the
// source. From then on the file's routes are ignored, across restarts,
// until the state file is removed.
//
// Thread-safe: the admin service's threads and the main thread call it at
// once. One mutex guards the state. A change keeps it locked while it
// writes and syncs the state file, so reads wait for that too (one fsync of a
// small file, plus one of the directory). Workers never call the store: they
// read the published table through their own RouteSnapshot::Reader, and mail
// already queued uses the new table because routes are looked up at
// delivery time.
#ifndef FERRY_ENGINE_ROUTE_ROUTE_STORE_H_
#define FERRY_ENGINE_ROUTE_ROUTE_STORE_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/route/route_snapshot.h"
#include "engine/route/route_table.h"
#include "proto/admin.pb.h"
#include "proto/route_state.pb.h"

namespace ferry::route {

class RouteStore {
 public:
  // How many changes the log keeps for WaitEvents().
  static constexpr size_t kDefaultMaxEvents = 10000;

  // Called after a change is published, once per changed domain (the
  // stored, lower-case domain pattern). Runs on the thread that made the
  // change, outside the store's mutex, so it may call the store. Calls for
  // two concurrent changes may interleave.
  using ChangeListener = std::function<void(const std::string& domain)>;

  struct Options {
    // The state file, normally <spool_dir>/routes.pb. Its directory must
    // exist.
    std::string state_path;
    // At least 1.
    size_t max_events = kDefaultMaxEvents;
  };

  enum class ReseedOutcome {
    kApplied,    // the file's routes replaced the table
    kUnchanged,  // the file's routes equal the table
    kIgnored,    // the admin API manages the routes
  };

  struct ReseedResult {
    ReseedOutcome outcome = ReseedOutcome::kUnchanged;
    // The table's version afterwards.
    uint64_t version = 0;
    // Routes created, replaced or deleted.
    size_t changed_routes = 0;
    // One line for the log and the Reload RPC, such as
    // "routes: version 7 (2 changed)".
    std::string summary;
  };

  // Loads the state file, or creates it from `config_routes` (version 1)
  // when it does not exist, and publishes the table to `snapshot`. With a
  // state file that follows the configuration, applies `config_routes` as
  // ReseedFromConfig() does. Errors: InvalidArgument for invalid
  // `config_routes` (messages index them as given), DataLoss for a damaged
  // state file (the message names the file and the fix), Unavailable when
  // the file cannot be read or written.
  // REQUIRES: `snapshot` outlives the store.
  static absl::StatusOr<std::unique_ptr<RouteStore>> Open(
      Options options, const std::vector<Route>& config_routes,
      RouteSnapshot* snapshot);

  RouteStore(const RouteStore&) = delete;
  RouteStore& operator=(const RouteStore&) = delete;

  // Returns every route, sorted by domain, and the version.
  admin::v1::ListRoutesResponse List() const;

  // Returns the route stored for request.domain (compared without regard
  // to case). Errors: InvalidArgument for an empty domain, NotFound.
  absl::StatusOr<admin::v1::GetRouteResponse> Get(
      const admin::v1::GetRouteRequest& request) const;

  // Creates or replaces the route for request.route.domain. Errors:
  // FailedPrecondition when expected_version is not 0 and not the current
  // version; InvalidArgument naming the field and the fix for an invalid
  // route; Unavailable when the state file cannot be written, in which
  // case nothing changed.
  absl::StatusOr<admin::v1::PutRouteResponse> Put(
      const admin::v1::PutRouteRequest& request);

  // Deletes the route for request.domain. Errors as Put(), and NotFound
  // when there is no such route.
  absl::StatusOr<admin::v1::DeleteRouteResponse> Delete(
      const admin::v1::DeleteRouteRequest& request);

  // Returns the events after `after_version`, waiting up to `timeout` for
  // the first one. Returns none when the wait times out or after
  // Shutdown(). Returns a single KIND_SNAPSHOT of the current table when
  // after_version is 0, older than the oldest change the log keeps, or
  // newer than the current version. The last case happens when a client
  // kept a version across a removal of the state file, and a snapshot lets
  // it start again from the table that ferryd now has.
  std::vector<admin::v1::RouteEvent> WaitEvents(uint64_t after_version,
                                                absl::Duration timeout);

  // Replaces the table with `routes` (the configuration file's, in file
  // order), unless the admin API manages the routes. Errors:
  // InvalidArgument for invalid routes, Unavailable when the state file
  // cannot be written. On error the table is unchanged.
  absl::StatusOr<ReseedResult> ReseedFromConfig(
      const std::vector<Route>& routes);

  // Replaces the change listener; an empty function removes it.
  void SetChangeListener(ChangeListener listener);

  // Makes every WaitEvents() call, current and later, return at once with
  // no events, so that streams end when the server stops.
  void Shutdown();

  uint64_t version() const;
  size_t size() const;
  // True while the table follows the configuration file.
  bool follows_config() const;
  // The version of the first change through the admin API; 0 while the
  // table follows the configuration file.
  uint64_t admin_api_since_version() const;

 private:
  using RouteMap = std::map<std::string, admin::v1::Route>;

  RouteStore(Options options, RouteSnapshot* snapshot);

  // Makes `table` the current table, with `events` (kind and domain set)
  // as its changes: numbers the events, fills in the routes of
  // KIND_PUT events, writes the state file, then publishes. On error
  // nothing changes. REQUIRES: mutex_ held, events not empty.
  absl::Status CommitLocked(std::shared_ptr<const RouteTable> table,
                            std::vector<admin::v1::RouteEvent> events,
                            state::RouteSource source);
  absl::StatusOr<ReseedResult> ReseedLocked(const std::vector<Route>& routes,
                                            std::vector<std::string>* changed);
  absl::Status CheckExpectedVersionLocked(uint64_t expected) const;
  // Returns routes_ without the route for `skip_domain`, as Build() input.
  std::vector<Route> RoutesExceptLocked(const std::string& skip_domain) const;
  admin::v1::RouteEvent SnapshotLocked() const;
  void Notify(const std::vector<std::string>& domains);

  const Options options_;
  RouteSnapshot* const snapshot_;

  // std::mutex rather than absl::Mutex, for the reason given in
  // route_snapshot.h.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_ from here on.
  RouteMap routes_;  // lower-case domain -> normalized route
  uint64_t version_ = 0;
  state::RouteSource source_ = state::ROUTE_SOURCE_CONFIG;
  uint64_t admin_api_since_version_ = 0;
  // Events with versions log_base_ + 1 .. version_, oldest first.
  std::deque<admin::v1::RouteEvent> events_;
  uint64_t log_base_ = 0;
  bool shutdown_ = false;
  ChangeListener listener_;
};

}  // namespace ferry::route

#endif  // FERRY_ENGINE_ROUTE_ROUTE_STORE_H_
