#include "admin/server/queue_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "admin/server/grpc_status.h"
#include "engine/base/log.h"

namespace ferry::admin {
namespace {

// Describes a selector for the log: "all", "domain=example.net",
// "queue_ids=2".
std::string DescribeSelector(const v1::QueueSelector& selector) {
  std::string text;
  if (selector.all()) text = "all";
  if (!selector.domain().empty()) {
    absl::StrAppend(&text, text.empty() ? "" : ",",
                    "domain=", LogQuote(selector.domain(), 100));
  }
  if (!selector.queue_id().empty()) {
    absl::StrAppend(&text, text.empty() ? "" : ",",
                    "queue_ids=", selector.queue_id_size());
  }
  return text.empty() ? "none" : text;
}

}  // namespace

grpc::Status QueueService::ListQueue(grpc::ServerContext*,
                                     const v1::ListQueueRequest* request,
                                     v1::ListQueueResponse* response) {
  absl::StatusOr<v1::ListQueueResponse> result = control_->ListQueue(*request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status QueueService::ShowMessage(grpc::ServerContext*,
                                       const v1::ShowMessageRequest* request,
                                       v1::ShowMessageResponse* response) {
  absl::StatusOr<v1::ShowMessageResponse> result =
      control_->ShowMessage(*request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status QueueService::Act(grpc::ServerContext* context,
                               control::QueueAction action, const char* name,
                               const v1::QueueActionRequest& request,
                               v1::QueueActionResponse* response) {
  absl::StatusOr<v1::QueueActionResponse> result =
      control_->ActOnQueue(action, request.selector());
  if (!result.ok()) {
    LogWarning("", "admin event=queue_", name,
               " peer=", LogQuote(context->peer()),
               " selector=", DescribeSelector(request.selector()),
               " error=", LogQuote(result.status().message(), 500));
    return ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  LogInfo("", "admin event=queue_", name, " peer=", LogQuote(context->peer()),
          " selector=", DescribeSelector(request.selector()),
          " messages=", response->messages(),
          " recipients=", response->recipients(),
          " in_flight=", response->in_flight());
  return grpc::Status::OK;
}

grpc::Status QueueService::Flush(grpc::ServerContext* context,
                                 const v1::QueueActionRequest* request,
                                 v1::QueueActionResponse* response) {
  return Act(context, control::QueueAction::kFlush, "flush", *request,
             response);
}

grpc::Status QueueService::Hold(grpc::ServerContext* context,
                                const v1::QueueActionRequest* request,
                                v1::QueueActionResponse* response) {
  return Act(context, control::QueueAction::kHold, "hold", *request, response);
}

grpc::Status QueueService::Release(grpc::ServerContext* context,
                                   const v1::QueueActionRequest* request,
                                   v1::QueueActionResponse* response) {
  return Act(context, control::QueueAction::kRelease, "release", *request,
             response);
}

grpc::Status QueueService::Delete(grpc::ServerContext* context,
                                  const v1::QueueActionRequest* request,
                                  v1::QueueActionResponse* response) {
  return Act(context, control::QueueAction::kDelete, "delete", *request,
             response);
}

grpc::Status QueueService::Bounce(grpc::ServerContext* context,
                                  const v1::QueueActionRequest* request,
                                  v1::QueueActionResponse* response) {
  return Act(context, control::QueueAction::kBounce, "bounce", *request,
             response);
}

grpc::Status QueueService::Summary(grpc::ServerContext*,
                                   const v1::QueueSummaryRequest*,
                                   v1::QueueSummaryResponse* response) {
  absl::StatusOr<v1::QueueSummaryResponse> result = control_->QueueSummary();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace ferry::admin
