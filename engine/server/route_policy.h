// RoutePolicy: the server session's RCPT check over the current routing
// table: no route means relaying is denied (550 5.7.1), and a route that
// lists its recipients rejects the others (550 5.1.1).
//
// One per worker, used on its thread: Check() reads the published table
// through the worker's RouteSnapshot::Reader, without taking a lock, and
// counts rejections in the worker's metrics.
#ifndef FERRY_ENGINE_SERVER_ROUTE_POLICY_H_
#define FERRY_ENGINE_SERVER_ROUTE_POLICY_H_

#include "engine/metrics/worker_metrics.h"
#include "engine/route/route_snapshot.h"
#include "engine/smtp/server_session.h"

namespace ferry::server {

class RoutePolicy : public smtp::RecipientPolicy {
 public:
  RoutePolicy(route::RouteSnapshot::Reader* routes,
              metrics::WorkerMetrics* metrics)
      : routes_(routes), metrics_(metrics) {}
  Verdict Check(const smtp::Path& recipient) const override;

 private:
  route::RouteSnapshot::Reader* routes_;
  metrics::WorkerMetrics* metrics_;
};

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_ROUTE_POLICY_H_
