#include "admin/server/routes_service.h"

#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace ferry::admin {
namespace {

// A Control whose route calls return scripted answers; the rest is unused.
class FakeControl : public control::Control {
 public:
  v1::ListRoutesResponse ListRoutes() override {
    v1::ListRoutesResponse response;
    response.set_version(7);
    return response;
  }
  absl::StatusOr<v1::GetRouteResponse> GetRoute(
      const v1::GetRouteRequest& request) override {
    return absl::NotFoundError(
        absl::StrCat("no route for \"", request.domain(), "\""));
  }
  absl::StatusOr<v1::PutRouteResponse> PutRoute(
      const v1::PutRouteRequest&) override {
    return absl::FailedPreconditionError("the routes are at version 7");
  }
  absl::StatusOr<v1::DeleteRouteResponse> DeleteRoute(
      const v1::DeleteRouteRequest&) override {
    v1::DeleteRouteResponse response;
    response.set_version(8);
    return response;
  }
  // Returns the next scripted batch; without one, waits out the timeout,
  // or returns at once when `stopped` is set.
  std::vector<v1::RouteEvent> WaitRouteEvents(uint64_t after_version,
                                              absl::Duration timeout) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      after_versions.push_back(after_version);
      if (!batches.empty()) {
        std::vector<v1::RouteEvent> batch = std::move(batches.front());
        batches.pop_front();
        return batch;
      }
      if (stopped) return {};
    }
    absl::SleepFor(timeout);
    return {};
  }

  absl::StatusOr<v1::ListQueueResponse> ListQueue(
      const v1::ListQueueRequest&) override {
    return absl::UnimplementedError("queue");
  }
  absl::StatusOr<v1::ShowMessageResponse> ShowMessage(
      const v1::ShowMessageRequest&) override {
    return absl::UnimplementedError("queue");
  }
  absl::StatusOr<v1::QueueActionResponse> ActOnQueue(
      control::QueueAction, const v1::QueueSelector&) override {
    return absl::UnimplementedError("queue");
  }
  absl::StatusOr<v1::QueueSummaryResponse> QueueSummary() override {
    return absl::UnimplementedError("queue");
  }
  v1::GetMetricsResponse GetMetrics() override { return {}; }
  v1::GetStatusResponse GetStatus() override { return {}; }
  v1::DrainResponse Drain() override { return {}; }
  absl::StatusOr<v1::ReloadResponse> Reload() override {
    return v1::ReloadResponse();
  }

  std::mutex mutex;
  std::deque<std::vector<v1::RouteEvent>> batches;
  std::vector<uint64_t> after_versions;
  bool stopped = false;
};

v1::RouteEvent Event(v1::RouteEvent::Kind kind, uint64_t version) {
  v1::RouteEvent event;
  event.set_kind(kind);
  event.set_version(version);
  event.set_domain("example.net");
  return event;
}

class RoutesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Routes::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now());
  }

  FakeControl control_;
  RoutesService service_{&control_, absl::Milliseconds(100)};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Routes::Stub> stub_;
};

TEST_F(RoutesServiceTest, ListReturnsTable) {
  grpc::ClientContext context;
  v1::ListRoutesResponse response;
  ASSERT_TRUE(stub_->ListRoutes(&context, {}, &response).ok());
  EXPECT_EQ(response.version(), 7u);
}

TEST_F(RoutesServiceTest, ErrorsKeepCodeAndMessage) {
  grpc::ClientContext get_context;
  v1::GetRouteRequest get;
  get.set_domain("example.org");
  v1::GetRouteResponse got;
  grpc::Status status = stub_->GetRoute(&get_context, get, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no route for \"example.org\"");

  grpc::ClientContext put_context;
  v1::PutRouteResponse put;
  status = stub_->PutRoute(&put_context, {}, &put);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RoutesServiceTest, WatchSendsEventsAndResumesAfterLast) {
  {
    std::lock_guard<std::mutex> lock(control_.mutex);
    control_.batches.push_back({Event(v1::RouteEvent::KIND_SNAPSHOT, 3)});
    control_.batches.push_back({Event(v1::RouteEvent::KIND_PUT, 4),
                                Event(v1::RouteEvent::KIND_DELETE, 5)});
  }
  grpc::ClientContext context;
  v1::WatchRoutesRequest request;
  request.set_from_version(0);
  auto reader = stub_->WatchRoutes(&context, request);
  std::vector<uint64_t> versions;
  v1::RouteEvent event;
  while (versions.size() < 3 && reader->Read(&event)) {
    versions.push_back(event.version());
  }
  EXPECT_EQ(versions, (std::vector<uint64_t>{3, 4, 5}));
  {
    std::lock_guard<std::mutex> lock(control_.mutex);
    ASSERT_GE(control_.after_versions.size(), 2u);
    EXPECT_EQ(control_.after_versions[0], 0u);
    EXPECT_EQ(control_.after_versions[1], 3u);
    control_.stopped = true;
  }
  EXPECT_FALSE(reader->Read(&event));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "ferryd is stopping");
  std::lock_guard<std::mutex> lock(control_.mutex);
  EXPECT_EQ(control_.after_versions.back(), 5u);
}

TEST_F(RoutesServiceTest, WatchEndsWhenClientCancels) {
  grpc::ClientContext context;
  auto reader = stub_->WatchRoutes(&context, {});
  absl::SleepFor(absl::Milliseconds(150));
  context.TryCancel();
  v1::RouteEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The handler notices within one poll interval, so the server's
  // shutdown in TearDown() does not wait for it.
}

}  // namespace
}  // namespace ferry::admin
