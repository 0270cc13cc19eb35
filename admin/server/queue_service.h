// The Queue service of the admin API: list, show, flush, hold, release,
// delete, bounce and summary over the engine's queue (control::Control).
#ifndef FERRY_ADMIN_SERVER_QUEUE_SERVICE_H_
#define FERRY_ADMIN_SERVER_QUEUE_SERVICE_H_

#include "engine/control/control.h"
#include "proto/admin_service.grpc.pb.h"

namespace ferry::admin {

class QueueService final : public v1::Queue::Service {
 public:
  explicit QueueService(control::Control* control) : control_(control) {}

  grpc::Status ListQueue(grpc::ServerContext* context,
                         const v1::ListQueueRequest* request,
                         v1::ListQueueResponse* response) override;
  grpc::Status ShowMessage(grpc::ServerContext* context,
                           const v1::ShowMessageRequest* request,
                           v1::ShowMessageResponse* response) override;
  grpc::Status Flush(grpc::ServerContext* context,
                     const v1::QueueActionRequest* request,
                     v1::QueueActionResponse* response) override;
  grpc::Status Hold(grpc::ServerContext* context,
                    const v1::QueueActionRequest* request,
                    v1::QueueActionResponse* response) override;
  grpc::Status Release(grpc::ServerContext* context,
                       const v1::QueueActionRequest* request,
                       v1::QueueActionResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context,
                      const v1::QueueActionRequest* request,
                      v1::QueueActionResponse* response) override;
  grpc::Status Bounce(grpc::ServerContext* context,
                      const v1::QueueActionRequest* request,
                      v1::QueueActionResponse* response) override;
  grpc::Status Summary(grpc::ServerContext* context,
                       const v1::QueueSummaryRequest* request,
                       v1::QueueSummaryResponse* response) override;

 private:
  // Runs `action` and logs it with the caller and the counts, because an
  // action changes the queue.
  grpc::Status Act(grpc::ServerContext* context, control::QueueAction action,
                   const char* name, const v1::QueueActionRequest& request,
                   v1::QueueActionResponse* response);

  control::Control* const control_;
};

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_SERVER_QUEUE_SERVICE_H_
