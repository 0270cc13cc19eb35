// QueueControl over real workers: each test writes messages into spool
// segments, starts workers on that spool (without listening sockets) and
// drives the queue requests. The routes send example.net to a closed port
// on 127.0.0.1 and have no route for other domains, so every attempt is
// deferred and messages stay queued.
#include "engine/server/queue_control.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/metrics/worker_metrics.h"
#include "engine/route/route_snapshot.h"
#include "engine/server/connection_limiter.h"
#include "engine/server/spool_loader.h"
#include "engine/server/worker.h"
#include "engine/spool/queue_id.h"
#include "engine/spool/record.h"
#include "engine/spool/recovery.h"
#include "gtest/gtest.h"

namespace ferry::server {
namespace {

namespace v1 = ::ferry::admin::v1;

// Polls `done` every 20 ms until it returns true or `timeout` passes.
bool WaitFor(const std::function<bool()>& done,
             absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

struct TestMessage {
  std::string queue_id;
  std::string sender;  // "" for <>
  std::vector<std::string> recipients;
  absl::Duration age;
};

std::shared_ptr<const route::RouteTable> TestRoutes() {
  route::Route route;
  route.domain = "example.net";
  // Port 1 on the loopback address: connections are refused at once.
  route.next_hops.push_back(route::NextHop{"127.0.0.1", 1, 0});
  route.etrn_clients = {"192.0.2.0/24"};
  absl::StatusOr<std::shared_ptr<const route::RouteTable>> table =
      route::RouteTable::Build({route});
  EXPECT_TRUE(table.ok()) << table.status();
  return *table;
}

class QueueControlTest : public testing::Test {
 protected:
  QueueControlTest() : routes_(TestRoutes()), limiter_(100, 100) {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr ? base : "/tmp", "/queueXXXXXX");
    spool_dir_ = mkdtemp(pattern.data());
    settings_.hostname = "relay.test";
    settings_.session.hostname = "relay.test";
    settings_.spool_dir = spool_dir_;
    settings_.initial_backoff = absl::Hours(1);
    settings_.max_backoff = absl::Hours(1);
    settings_.client.connect = absl::Seconds(2);
    settings_.shutdown_grace = absl::Seconds(2);
  }

  ~QueueControlTest() override {
    StopWorkers();
    std::filesystem::remove_all(spool_dir_);
  }

  // Writes `messages` as segment 1 of worker `worker`'s spool directory.
  void WriteSpool(int worker, const std::vector<TestMessage>& messages) {
    const std::string dir = WorkerSpoolPath(spool_dir_, worker);
    std::filesystem::create_directories(dir);
    std::string bytes;
    for (const TestMessage& m : messages) {
      spool::Envelope envelope;
      envelope.queue_id = m.queue_id;
      envelope.arrival_unix_micros = absl::ToUnixMicros(absl::Now() - m.age);
      envelope.client_ip = "192.0.2.99";
      envelope.helo = "client.example";
      envelope.sender = m.sender;
      envelope.null_sender = m.sender.empty();
      for (const std::string& r : m.recipients) {
        envelope.recipients.push_back({r, "", ""});
      }
      std::string body = "Subject: test\r\n\r\nhello\r\n";
      const std::vector<iovec> iov = {{body.data(), body.size()}};
      absl::StatusOr<std::string> prefix =
          spool::EncodeMessagePrefix(envelope, iov);
      ASSERT_TRUE(prefix.ok()) << prefix.status();
      spool::StampSegment({.sequence = 1, .nonce = 0x5eed}, prefix->data());
      bytes += *prefix + body;
    }
    std::ofstream out(absl::StrCat(dir, "/", spool::SegmentFileName(1)),
                      std::ios::binary);
    out << bytes;
  }

  void StartWorkers(int count) {
    settings_.workers = count;
    absl::StatusOr<std::vector<WorkerSpoolState>> spool =
        LoadSpool(spool_dir_, count);
    ASSERT_TRUE(spool.ok()) << spool.status();
    std::vector<Worker*> pointers;
    for (int k = 0; k < count; ++k) {
      metrics_.push_back(std::make_unique<metrics::WorkerMetrics>());
      workers_.push_back(std::make_unique<Worker>(
          k, &settings_, &routes_, &limiter_, std::move((*spool)[k]),
          metrics_.back().get()));
      pointers.push_back(workers_.back().get());
    }
    QueueControl::Options options;
    options.read_timeout = absl::Seconds(2);
    options.action_timeout = absl::Seconds(5);
    control_ = std::make_unique<QueueControl>(pointers, options);
    for (auto& worker : workers_) {
      worker->SetQueueControl(control_.get());
      ASSERT_TRUE(worker->Start().ok());
    }
  }

  void JoinWorkers() {
    for (auto& worker : workers_) worker->Stop();
    for (auto& worker : workers_) worker->Join();
  }

  void StopWorkers() {
    JoinWorkers();
    workers_.clear();
    control_.reset();
    metrics_.clear();
  }

  void RestartWorkers(int count) {
    StopWorkers();
    StartWorkers(count);
  }

  v1::ListQueueResponse List(const v1::QueueFilter& filter = {},
                             uint32_t page_size = 0,
                             const std::string& token = "") {
    v1::ListQueueRequest request;
    *request.mutable_filter() = filter;
    request.set_page_size(page_size);
    request.set_page_token(token);
    absl::StatusOr<v1::ListQueueResponse> response =
        control_->ListQueue(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::ListQueueResponse();
  }

  absl::StatusOr<v1::QueuedMessage> Show(const std::string& queue_id) {
    v1::ShowMessageRequest request;
    request.set_queue_id(queue_id);
    absl::StatusOr<v1::ShowMessageResponse> response =
        control_->ShowMessage(request);
    if (!response.ok()) return response.status();
    return response->message();
  }

  v1::QueueActionResponse Act(control::QueueAction action,
                              const std::vector<std::string>& queue_ids,
                              const std::string& domain = "") {
    v1::QueueSelector selector;
    for (const std::string& id : queue_ids) selector.add_queue_id(id);
    selector.set_domain(domain);
    selector.set_all(queue_ids.empty() && domain.empty());
    absl::StatusOr<v1::QueueActionResponse> response =
        control_->ActOnQueue(action, selector);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::QueueActionResponse();
  }

  // Total attempts of message `queue_id`, or -1 when it is not queued.
  int Attempts(const std::string& queue_id) {
    absl::StatusOr<v1::QueuedMessage> message = Show(queue_id);
    return message.ok() ? static_cast<int>(message->attempts()) : -1;
  }

  // Waits until every queued message had at least `attempts` attempts per
  // recipient that is not held.
  bool WaitForAttempts(uint32_t attempts) {
    return WaitFor([&] {
      const v1::ListQueueResponse queue = List();
      for (const v1::QueuedMessage& m : queue.message()) {
        for (const v1::RecipientStatus& r : m.recipient()) {
          if (r.state() != v1::RECIPIENT_STATE_HELD &&
              r.attempts() < attempts) {
            return false;
          }
        }
      }
      return true;
    });
  }

  static std::string Id(int worker, int counter, absl::Duration age) {
    return spool::MakeQueueId(worker, counter,
                              absl::ToUnixMicros(absl::Now() - age));
  }

  std::string spool_dir_;
  Settings settings_;
  route::RouteSnapshot routes_;
  ConnectionLimiter limiter_;
  std::vector<std::unique_ptr<metrics::WorkerMetrics>> metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<QueueControl> control_;
};

std::vector<std::string> QueueIds(const v1::ListQueueResponse& response) {
  std::vector<std::string> ids;
  for (const v1::QueuedMessage& m : response.message()) {
    ids.push_back(m.queue_id());
  }
  return ids;
}

TEST_F(QueueControlTest, ListsOldestFirstAcrossWorkersInPages) {
  const std::string a = Id(0, 1, absl::Minutes(50));
  const std::string b = Id(1, 1, absl::Minutes(40));
  const std::string c = Id(0, 2, absl::Minutes(30));
  const std::string d = Id(1, 2, absl::Minutes(20));
  const std::string e = Id(1, 3, absl::Minutes(10));
  WriteSpool(0,
             {{a, "alice@example.com", {"x@example.net"}, absl::Minutes(50)},
              {c, "alice@example.com", {"x@example.net"}, absl::Minutes(30)}});
  WriteSpool(1,
             {{b, "alice@example.com", {"x@example.net"}, absl::Minutes(40)},
              {d, "alice@example.com", {"x@example.net"}, absl::Minutes(20)},
              {e, "alice@example.com", {"x@example.net"}, absl::Minutes(10)}});
  StartWorkers(2);
  ASSERT_TRUE(WaitForAttempts(1));

  v1::ListQueueResponse page = List({}, 2);
  EXPECT_EQ(page.total(), 5u);
  EXPECT_EQ(QueueIds(page), (std::vector<std::string>{a, b}));
  ASSERT_FALSE(page.next_page_token().empty());
  page = List({}, 2, page.next_page_token());
  EXPECT_EQ(page.total(), 5u);
  EXPECT_EQ(QueueIds(page), (std::vector<std::string>{c, d}));
  page = List({}, 2, page.next_page_token());
  EXPECT_EQ(QueueIds(page), (std::vector<std::string>{e}));
  EXPECT_TRUE(page.next_page_token().empty());
  EXPECT_EQ(List({}, 5).next_page_token(), "");
}

TEST_F(QueueControlTest, FiltersBySenderDomainAndAge) {
  const std::string a = Id(0, 1, absl::Hours(3));
  const std::string b = Id(0, 2, absl::Minutes(5));
  const std::string c = Id(0, 3, absl::Minutes(1));
  WriteSpool(0,
             {{a, "alice@example.com", {"x@example.net"}, absl::Hours(3)},
              {b, "", {"y@mx.example.org"}, absl::Minutes(5)},
              {c, "carol@example.com", {"z@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));

  v1::QueueFilter null_sender;
  null_sender.set_sender("<>");
  EXPECT_EQ(QueueIds(List(null_sender)), std::vector<std::string>{b});
  v1::QueueFilter subdomains;
  subdomains.set_domain("*.example.org");
  EXPECT_EQ(QueueIds(List(subdomains)), std::vector<std::string>{b});
  v1::QueueFilter old;
  old.mutable_min_age()->set_seconds(3600);
  EXPECT_EQ(QueueIds(List(old)), std::vector<std::string>{a});
  v1::QueueFilter recipient;
  recipient.set_recipient("Z@example.org");
  EXPECT_EQ(QueueIds(List(recipient)), std::vector<std::string>{c});
  v1::QueueFilter deferred;
  deferred.set_state(v1::MESSAGE_STATE_DEFERRED);
  EXPECT_EQ(List(deferred).total(), 3u);
}

TEST_F(QueueControlTest, ShowReportsAttempt) {
  const std::string a = Id(0, 1, absl::Minutes(1));
  WriteSpool(0,
             {{a, "alice@example.com", {"bob@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));
  absl::StatusOr<v1::QueuedMessage> message = Show(a);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->sender(), "alice@example.com");
  EXPECT_EQ(message->state(), v1::MESSAGE_STATE_DEFERRED);
  EXPECT_EQ(message->client(), "[192.0.2.99]");
  ASSERT_EQ(message->recipient_size(), 1);
  const v1::RecipientStatus& r = message->recipient(0);
  EXPECT_EQ(r.address(), "bob@example.org");
  EXPECT_EQ(r.state(), v1::RECIPIENT_STATE_DEFERRED);
  EXPECT_EQ(r.attempts(), 1u);
  EXPECT_NE(r.last_reply().find("4.4.4"), std::string::npos) << r.last_reply();
  EXPECT_GT(r.next_attempt().seconds(),
            absl::ToUnixSeconds(absl::Now() + absl::Minutes(50)));
  EXPECT_EQ(message->next_attempt().seconds(), r.next_attempt().seconds());
}

TEST_F(QueueControlTest, SparesOfRemovedWorkerAreDeleted) {
  WriteSpool(0, {{Id(0, 1, absl::Minutes(1)),
                  "alice@example.com",
                  {"x@example.org"},
                  absl::Minutes(1)}});
  const std::string own_spare = absl::StrCat(
      WorkerSpoolPath(spool_dir_, 0), "/", spool::SpareFileName(4));
  // Worker 1 no longer exists and left no queued mail, only a spare file.
  const std::string removed_dir = WorkerSpoolPath(spool_dir_, 1);
  std::filesystem::create_directories(removed_dir);
  const std::string removed_spare =
      absl::StrCat(removed_dir, "/", spool::SpareFileName(3));
  for (const std::string& path : {own_spare, removed_spare}) {
    std::ofstream(path) << "old segment";
  }
  StartWorkers(1);
  EXPECT_TRUE(std::filesystem::exists(own_spare));
  EXPECT_FALSE(std::filesystem::exists(removed_spare));
}

TEST_F(QueueControlTest, ShowErrors) {
  StartWorkers(1);
  EXPECT_TRUE(absl::IsNotFound(Show(Id(0, 9, absl::ZeroDuration())).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Show("nope").status()));
}

TEST_F(QueueControlTest, HoldSurvivesRestartUntilRelease) {
  const std::string a = Id(0, 1, absl::Minutes(2));
  const std::string b = Id(0, 2, absl::Minutes(1));
  WriteSpool(0,
             {{a,
               "alice@example.com",
               {"x@example.org", "y@example.org"},
               absl::Minutes(2)},
              {b, "alice@example.com", {"z@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));

  const v1::QueueActionResponse held = Act(control::QueueAction::kHold, {a});
  EXPECT_EQ(held.messages(), 1u);
  EXPECT_EQ(held.recipients(), 2u);
  EXPECT_EQ(held.in_flight(), 0u);
  EXPECT_EQ(Show(a)->state(), v1::MESSAGE_STATE_HELD);
  EXPECT_EQ(Show(a)->recipient(0).state(), v1::RECIPIENT_STATE_HELD);
  // Holding again changes nothing.
  EXPECT_EQ(Act(control::QueueAction::kHold, {a}).recipients(), 0u);

  RestartWorkers(1);
  // b is tried again at start-up; a stays held with its one attempt.
  ASSERT_TRUE(WaitFor([&] { return Attempts(b) == 2; }));
  ASSERT_TRUE(Show(a).ok());
  EXPECT_EQ(Show(a)->state(), v1::MESSAGE_STATE_HELD);
  EXPECT_EQ(Attempts(a), 2);  // one per recipient
  v1::QueueFilter held_only;
  held_only.set_state(v1::MESSAGE_STATE_HELD);
  EXPECT_EQ(QueueIds(List(held_only)), std::vector<std::string>{a});

  const v1::QueueActionResponse released =
      Act(control::QueueAction::kRelease, {a});
  EXPECT_EQ(released.messages(), 1u);
  EXPECT_EQ(released.recipients(), 2u);
  ASSERT_TRUE(WaitFor([&] { return Attempts(a) == 4; }));
  EXPECT_EQ(Show(a)->state(), v1::MESSAGE_STATE_DEFERRED);

  RestartWorkers(1);
  ASSERT_TRUE(WaitFor([&] { return Attempts(a) == 6; }));
}

TEST_F(QueueControlTest, FlushRetriesWaitingButNotHeld) {
  const std::string a = Id(0, 1, absl::Minutes(2));
  const std::string b = Id(0, 2, absl::Minutes(1));
  WriteSpool(0,
             {{a, "alice@example.com", {"x@example.org"}, absl::Minutes(2)},
              {b, "alice@example.com", {"y@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));
  Act(control::QueueAction::kHold, {a});

  const v1::QueueActionResponse flushed = Act(control::QueueAction::kFlush, {});
  EXPECT_EQ(flushed.messages(), 1u);
  EXPECT_EQ(flushed.recipients(), 1u);
  ASSERT_TRUE(WaitFor([&] { return Attempts(b) == 2; }));
  EXPECT_EQ(Attempts(a), 1);
}

TEST_F(QueueControlTest, DeleteIsFinalAcrossRestart) {
  const std::string a = Id(0, 1, absl::Minutes(2));
  const std::string b = Id(0, 2, absl::Minutes(1));
  WriteSpool(0,
             {{a, "alice@example.com", {"x@example.org"}, absl::Minutes(2)},
              {b, "alice@example.com", {"y@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));
  // A held message can be deleted too.
  Act(control::QueueAction::kHold, {a});
  const v1::QueueActionResponse deleted =
      Act(control::QueueAction::kDelete, {a});
  EXPECT_EQ(deleted.messages(), 1u);
  EXPECT_EQ(deleted.recipients(), 1u);
  EXPECT_TRUE(absl::IsNotFound(Show(a).status()));
  // No DSN for a delete.
  v1::QueueFilter dsn;
  dsn.set_sender("<>");
  EXPECT_EQ(List(dsn).total(), 0u);

  RestartWorkers(1);
  EXPECT_TRUE(absl::IsNotFound(Show(a).status()));
  EXPECT_TRUE(Show(b).ok());
}

TEST_F(QueueControlTest, BounceQueuesOneDsnPerMessage) {
  const std::string a = Id(0, 1, absl::Minutes(2));
  const std::string b = Id(0, 2, absl::Minutes(1));
  WriteSpool(0, {{a,
                  "alice@example.com",
                  {"x@example.org", "y@example.org"},
                  absl::Minutes(2)},
                 {b, "", {"z@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));

  const v1::QueueActionResponse bounced =
      Act(control::QueueAction::kBounce, {a, b});
  EXPECT_EQ(bounced.messages(), 2u);
  EXPECT_EQ(bounced.recipients(), 3u);
  EXPECT_TRUE(absl::IsNotFound(Show(a).status()));
  EXPECT_TRUE(absl::IsNotFound(Show(b).status()));
  // One DSN, to alice; none for the message from <>.
  v1::QueueFilter dsn;
  dsn.set_sender("<>");
  const v1::ListQueueResponse dsns = List(dsn);
  ASSERT_EQ(dsns.total(), 1u);
  ASSERT_EQ(dsns.message(0).recipient_size(), 1);
  EXPECT_EQ(dsns.message(0).recipient(0).address(), "alice@example.com");
}

TEST_F(QueueControlTest, DomainSelectorActsOnItsRecipientsOnly) {
  const std::string a = Id(0, 1, absl::Minutes(2));
  WriteSpool(0, {{a,
                  "alice@example.com",
                  {"x@example.net", "y@example.org"},
                  absl::Minutes(2)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));
  const v1::QueueActionResponse held =
      Act(control::QueueAction::kHold, {}, "example.org");
  EXPECT_EQ(held.recipients(), 1u);
  absl::StatusOr<v1::QueuedMessage> message = Show(a);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->state(), v1::MESSAGE_STATE_DEFERRED);
  EXPECT_EQ(message->recipient(0).state(), v1::RECIPIENT_STATE_DEFERRED);
  EXPECT_EQ(message->recipient(1).state(), v1::RECIPIENT_STATE_HELD);
}

TEST_F(QueueControlTest, SummaryCountsByDomainAndAge) {
  WriteSpool(0, {{Id(0, 1, absl::Hours(30)),
                  "a@example.com",
                  {"x@example.org", "y@example.org"},
                  absl::Hours(30)},
                 {Id(0, 2, absl::Minutes(1)),
                  "a@example.com",
                  {"z@example.net"},
                  absl::Minutes(1)}});
  StartWorkers(1);
  absl::StatusOr<v1::QueueSummaryResponse> summary = control_->QueueSummary();
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->row_size(), 2);
  EXPECT_EQ(summary->row(0).domain(), "example.org");
  EXPECT_EQ(summary->row(0).total(), 2u);
  EXPECT_EQ(summary->row(0).count(9), 2u);
  EXPECT_EQ(summary->row(1).domain(), "example.net");
  EXPECT_EQ(summary->row(1).count(0), 1u);
  EXPECT_EQ(summary->all().total(), 3u);
}

TEST_F(QueueControlTest, EmptySelectorIsRefused) {
  StartWorkers(1);
  absl::StatusOr<v1::QueueActionResponse> response =
      control_->ActOnQueue(control::QueueAction::kDelete, v1::QueueSelector());
  EXPECT_TRUE(absl::IsInvalidArgument(response.status()));
}

TEST_F(QueueControlTest, EtrnFlushNeedsListedClient) {
  const std::string a = Id(0, 1, absl::Minutes(2));
  const std::string b = Id(0, 2, absl::Minutes(1));
  WriteSpool(0,
             {{a, "alice@example.com", {"x@example.net"}, absl::Minutes(2)},
              {b, "alice@example.com", {"y@example.org"}, absl::Minutes(1)}});
  StartWorkers(1);
  ASSERT_TRUE(WaitForAttempts(1));
  QueueFilter filter;
  filter.domains = {"example.net"};
  filter.etrn_client = "198.51.100.1";
  ASSERT_TRUE(control_->StartFlush(filter));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Attempts(a), 1);

  filter.etrn_client = "192.0.2.7";
  ASSERT_TRUE(control_->StartFlush(filter));
  ASSERT_TRUE(WaitFor([&] { return Attempts(a) == 2; }));
  // Even a flush of every domain skips recipients whose route does not
  // list the client.
  filter.domains.clear();
  ASSERT_TRUE(control_->StartFlush(filter));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Attempts(b), 1);
}

TEST_F(QueueControlTest, StoppedWorkersAnswerUnavailableAtOnce) {
  StartWorkers(2);
  JoinWorkers();
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::ListQueueResponse> response =
      control_->ListQueue(v1::ListQueueRequest());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(control_->StartFlush(QueueFilter()));
}

}  // namespace
}  // namespace ferry::server
