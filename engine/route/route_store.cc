#include "engine/route/route_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/base/error_quote.h"
#include "engine/base/log.h"
#include "engine/route/route_proto.h"
#include "engine/route/route_state_file.h"
#include "google/protobuf/util/message_differencer.h"

namespace ferry::route {
namespace {

namespace v1 = ::ferry::admin::v1;

// The maximum single wait in WaitEvents(), so that an infinite timeout
// does not overflow the clock arithmetic.
constexpr absl::Duration kMaxWait = absl::Hours(24);

// Returns the table's routes as stored: keyed by their (lower-case) domain.
std::map<std::string, v1::Route> ToRouteMap(const RouteTable& table) {
  std::map<std::string, v1::Route> routes;
  for (const Route* route : table.Routes()) {
    routes.emplace(route->domain, RouteToProto(*route));
  }
  return routes;
}

v1::RouteEvent MakeEvent(v1::RouteEvent::Kind kind, const std::string& domain) {
  v1::RouteEvent event;
  event.set_kind(kind);
  event.set_domain(domain);
  return event;
}

// Returns one KIND_PUT for each route of `after` that is new or different,
// and one KIND_DELETE for each route of `before` that `after` lacks, in
// domain order.
std::vector<v1::RouteEvent> Diff(
    const std::map<std::string, v1::Route>& before,
    const std::map<std::string, v1::Route>& after) {
  std::vector<v1::RouteEvent> events;
  for (const auto& [domain, route] : after) {
    auto it = before.find(domain);
    if (it == before.end() ||
        !google::protobuf::util::MessageDifferencer::Equals(it->second,
                                                            route)) {
      events.push_back(MakeEvent(v1::RouteEvent::KIND_PUT, domain));
    }
  }
  for (const auto& [domain, route] : before) {
    if (!after.contains(domain)) {
      events.push_back(MakeEvent(v1::RouteEvent::KIND_DELETE, domain));
    }
  }
  return events;
}

absl::StatusOr<std::string> DomainKey(const std::string& domain) {
  if (domain.empty()) {
    return absl::InvalidArgumentError(
        "domain is empty. Name the route's domain as it is stored, such as "
        "\"example.net\" or \"*.example.net\"");
  }
  return absl::AsciiStrToLower(domain);
}

absl::Status RouteNotFound(const std::string& domain) {
  return absl::NotFoundError(
      absl::StrCat("no route for ", QuoteForError(domain),
                   ". List the routes to see the domains as stored"));
}

absl::string_view KindName(v1::RouteEvent::Kind kind) {
  switch (kind) {
    case v1::RouteEvent::KIND_PUT:
      return "put";
    case v1::RouteEvent::KIND_DELETE:
      return "delete";
    default:
      return "snapshot";
  }
}

absl::string_view SourceName(state::RouteSource source) {
  return source == state::ROUTE_SOURCE_ADMIN_API ? "admin_api" : "config";
}

std::vector<Route> RoutesFromProtos(
    const google::protobuf::RepeatedPtrField<v1::Route>& protos) {
  std::vector<Route> routes;
  routes.reserve(protos.size());
  for (const v1::Route& route : protos) {
    routes.push_back(RouteFromProto(route));
  }
  return routes;
}

}  // namespace

RouteStore::RouteStore(Options options, RouteSnapshot* snapshot)
    : options_(std::move(options)), snapshot_(snapshot) {}

absl::StatusOr<std::unique_ptr<RouteStore>> RouteStore::Open(
    Options options, const std::vector<Route>& config_routes,
    RouteSnapshot* snapshot) {
  options.max_events = std::max<size_t>(options.max_events, 1);
  std::unique_ptr<RouteStore> store(
      new RouteStore(std::move(options), snapshot));
  const std::string& path = store->options_.state_path;
  absl::StatusOr<state::RouteState> loaded = ReadRouteStateFile(path);
  if (!loaded.ok() && !absl::IsNotFound(loaded.status())) {
    return loaded.status();
  }
  std::lock_guard<std::mutex> lock(store->mutex_);
  if (!loaded.ok()) {
    // A new spool: the configuration file's routes become version 1.
    absl::StatusOr<std::shared_ptr<const RouteTable>> table =
        RouteTable::Build(config_routes);
    if (!table.ok()) return table.status();
    state::RouteState seed;
    seed.set_version(1);
    seed.set_source(state::ROUTE_SOURCE_CONFIG);
    store->routes_ = ToRouteMap(**table);
    for (const auto& [domain, route] : store->routes_) {
      *seed.add_route() = route;
    }
    absl::Status written = WriteRouteStateFile(path, seed);
    if (!written.ok()) return written;
    store->version_ = 1;
    store->log_base_ = 1;
    snapshot->Publish(*table);
    return store;
  }
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      RouteTable::Build(RoutesFromProtos(loaded->route()));
  if (!table.ok()) {
    return absl::DataLossError(absl::StrCat(
        "route state file ", path,
        " contains an invalid route: ", table.status().message(),
        ". Remove the file to start with the configuration file's routes"));
  }
  store->routes_ = ToRouteMap(**table);
  store->version_ = loaded->version();
  store->log_base_ = loaded->version();
  store->source_ = loaded->source();
  store->admin_api_since_version_ = loaded->admin_api_since_version();
  snapshot->Publish(*table);
  if (store->source_ == state::ROUTE_SOURCE_CONFIG) {
    // No listener is set yet, so the changed domains need no notification.
    std::vector<std::string> changed;
    absl::StatusOr<ReseedResult> reseeded =
        store->ReseedLocked(config_routes, &changed);
    if (!reseeded.ok()) return reseeded.status();
  }
  return store;
}

v1::ListRoutesResponse RouteStore::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  v1::ListRoutesResponse response;
  response.set_version(version_);
  for (const auto& [domain, route] : routes_) *response.add_route() = route;
  return response;
}

absl::StatusOr<v1::GetRouteResponse> RouteStore::Get(
    const v1::GetRouteRequest& request) const {
  absl::StatusOr<std::string> key = DomainKey(request.domain());
  if (!key.ok()) return key.status();
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = routes_.find(*key);
  if (it == routes_.end()) return RouteNotFound(request.domain());
  v1::GetRouteResponse response;
  response.set_version(version_);
  *response.mutable_route() = it->second;
  return response;
}

absl::StatusOr<v1::PutRouteResponse> RouteStore::Put(
    const v1::PutRouteRequest& request) {
  Route route = RouteFromProto(request.route());
  absl::Status valid = RouteTable::Validate(route);
  if (!valid.ok()) return valid;
  const std::string key = absl::AsciiStrToLower(route.domain);
  v1::PutRouteResponse response;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    absl::Status expected =
        CheckExpectedVersionLocked(request.expected_version());
    if (!expected.ok()) return expected;
    std::vector<Route> routes = RoutesExceptLocked(key);
    routes.push_back(std::move(route));
    absl::StatusOr<std::shared_ptr<const RouteTable>> table =
        RouteTable::Build(std::move(routes));
    if (!table.ok()) return table.status();
    response.set_created(!routes_.contains(key));
    std::vector<v1::RouteEvent> events;
    events.push_back(MakeEvent(v1::RouteEvent::KIND_PUT, key));
    absl::Status committed = CommitLocked(*std::move(table), std::move(events),
                                          state::ROUTE_SOURCE_ADMIN_API);
    if (!committed.ok()) return committed;
    response.set_version(version_);
  }
  Notify({key});
  return response;
}

absl::StatusOr<v1::DeleteRouteResponse> RouteStore::Delete(
    const v1::DeleteRouteRequest& request) {
  absl::StatusOr<std::string> key = DomainKey(request.domain());
  if (!key.ok()) return key.status();
  v1::DeleteRouteResponse response;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    absl::Status expected =
        CheckExpectedVersionLocked(request.expected_version());
    if (!expected.ok()) return expected;
    if (!routes_.contains(*key)) return RouteNotFound(request.domain());
    absl::StatusOr<std::shared_ptr<const RouteTable>> table =
        RouteTable::Build(RoutesExceptLocked(*key));
    if (!table.ok()) return table.status();
    std::vector<v1::RouteEvent> events;
    events.push_back(MakeEvent(v1::RouteEvent::KIND_DELETE, *key));
    absl::Status committed = CommitLocked(*std::move(table), std::move(events),
                                          state::ROUTE_SOURCE_ADMIN_API);
    if (!committed.ok()) return committed;
    response.set_version(version_);
  }
  Notify({*key});
  return response;
}

std::vector<v1::RouteEvent> RouteStore::WaitEvents(uint64_t after_version,
                                                   absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (shutdown_) return {};
  auto resumable = [&] {
    return after_version != 0 && after_version >= log_base_ &&
           after_version <= version_;
  };
  if (!resumable()) return {SnapshotLocked()};
  const auto wait = std::chrono::nanoseconds(absl::ToInt64Nanoseconds(
      std::clamp(timeout, absl::ZeroDuration(), kMaxWait)));
  changed_.wait_for(lock, wait, [&] {
    return shutdown_ || version_ > after_version || !resumable();
  });
  if (shutdown_) return {};
  // A log shorter than the changes made during the wait has dropped some.
  if (!resumable()) return {SnapshotLocked()};
  const size_t first = static_cast<size_t>(after_version - log_base_);
  return std::vector<v1::RouteEvent>(events_.begin() + first, events_.end());
}

absl::StatusOr<RouteStore::ReseedResult> RouteStore::ReseedFromConfig(
    const std::vector<Route>& routes) {
  std::vector<std::string> changed;
  absl::StatusOr<ReseedResult> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result = ReseedLocked(routes, &changed);
  }
  Notify(changed);
  return result;
}

void RouteStore::SetChangeListener(ChangeListener listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listener_ = std::move(listener);
}

void RouteStore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  changed_.notify_all();
}

uint64_t RouteStore::version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

size_t RouteStore::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return routes_.size();
}

bool RouteStore::follows_config() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return source_ == state::ROUTE_SOURCE_CONFIG;
}

uint64_t RouteStore::admin_api_since_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return admin_api_since_version_;
}

absl::Status RouteStore::CommitLocked(std::shared_ptr<const RouteTable> table,
                                      std::vector<v1::RouteEvent> events,
                                      state::RouteSource source) {
  RouteMap routes = ToRouteMap(*table);
  uint64_t version = version_;
  for (v1::RouteEvent& event : events) {
    event.set_version(++version);
    if (event.kind() == v1::RouteEvent::KIND_PUT) {
      *event.mutable_route() = routes.at(event.domain());
    }
  }
  uint64_t since = admin_api_since_version_;
  if (source == state::ROUTE_SOURCE_ADMIN_API && since == 0) since = version;
  state::RouteState route_state;
  route_state.set_version(version);
  route_state.set_source(source);
  route_state.set_admin_api_since_version(since);
  for (const auto& [domain, route] : routes) *route_state.add_route() = route;
  absl::Status written = WriteRouteStateFile(options_.state_path, route_state);
  if (!written.ok()) {
    LogError("", "event=route_change_failed error=",
             LogQuote(written.message(), 500));
    return written;
  }
  // The state file is durable: only now does the change take effect.
  routes_ = std::move(routes);
  version_ = version;
  source_ = source;
  admin_api_since_version_ = since;
  snapshot_->Publish(std::move(table));
  for (v1::RouteEvent& event : events) {
    LogInfo("", "event=route_changed kind=", KindName(event.kind()),
            " domain=", event.domain(), " version=", event.version(),
            " source=", SourceName(source));
    events_.push_back(std::move(event));
  }
  while (events_.size() > options_.max_events) {
    log_base_ = events_.front().version();
    events_.pop_front();
  }
  changed_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<RouteStore::ReseedResult> RouteStore::ReseedLocked(
    const std::vector<Route>& routes, std::vector<std::string>* changed) {
  ReseedResult result;
  if (source_ == state::ROUTE_SOURCE_ADMIN_API) {
    result.outcome = ReseedOutcome::kIgnored;
    result.version = version_;
    result.summary = absl::StrCat(
        "routes: managed through the admin API since version ",
        admin_api_since_version_, "; the file's routes are ignored");
    return result;
  }
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      RouteTable::Build(routes);
  if (!table.ok()) return table.status();
  std::vector<v1::RouteEvent> events = Diff(routes_, ToRouteMap(**table));
  if (events.empty()) {
    result.outcome = ReseedOutcome::kUnchanged;
    result.version = version_;
    result.summary = absl::StrCat("routes: unchanged at version ", version_);
    return result;
  }
  for (const v1::RouteEvent& event : events) {
    changed->push_back(event.domain());
  }
  result.changed_routes = events.size();
  absl::Status committed = CommitLocked(*std::move(table), std::move(events),
                                        state::ROUTE_SOURCE_CONFIG);
  if (!committed.ok()) {
    changed->clear();
    return committed;
  }
  result.outcome = ReseedOutcome::kApplied;
  result.version = version_;
  result.summary = absl::StrCat("routes: version ", version_, " (",
                                result.changed_routes, " changed)");
  return result;
}

absl::Status RouteStore::CheckExpectedVersionLocked(uint64_t expected) const {
  if (expected == 0 || expected == version_) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the routes are at version ", version_, ", not the expected version ",
      expected, ". Read the routes again and retry the change"));
}

std::vector<Route> RouteStore::RoutesExceptLocked(
    const std::string& skip_domain) const {
  std::vector<Route> routes;
  routes.reserve(routes_.size() + 1);
  for (const auto& [domain, route] : routes_) {
    if (domain != skip_domain) routes.push_back(RouteFromProto(route));
  }
  return routes;
}

v1::RouteEvent RouteStore::SnapshotLocked() const {
  v1::RouteEvent event;
  event.set_kind(v1::RouteEvent::KIND_SNAPSHOT);
  event.set_version(version_);
  for (const auto& [domain, route] : routes_) *event.add_table() = route;
  return event;
}

void RouteStore::Notify(const std::vector<std::string>& domains) {
  ChangeListener listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    listener = listener_;
  }
  if (!listener) return;
  for (const std::string& domain : domains) listener(domain);
}

}  // namespace ferry::route
