// Registry: every worker's metrics, and their export as one list of
// Prometheus metrics with per-worker values summed.
//
// Thread-safe. main() creates the registry before the workers and hands
// each worker the WorkerMetrics that AddWorker() returns. The admin service
// and the /metrics endpoint call Collect() from their own threads.
// Collect() never waits for a worker: it reads the workers' atomics and
// takes only the per-destination mutexes, which workers hold briefly when a
// connection starts or ends.
#ifndef FERRY_ENGINE_METRICS_REGISTRY_H_
#define FERRY_ENGINE_METRICS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/metrics/worker_metrics.h"
#include "proto/admin.pb.h"

namespace ferry::metrics {

class Registry {
 public:
  // `spool_dir` is measured by each Collect() (see MeasureSpool); when it
  // is empty, the spool disk-use gauges are left out.
  explicit Registry(std::string spool_dir);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Creates the metrics of one more worker. The result stays valid for the
  // registry's lifetime, and only that worker's thread may write it.
  WorkerMetrics* AddWorker();

  // Returns every metric, with the values of all workers summed (the
  // oldest-message age is the maximum instead). Ages are measured to
  // `now`.
  std::vector<admin::v1::Metric> Collect(absl::Time now) const;
  std::vector<admin::v1::Metric> Collect() const;

 private:
  const std::string spool_dir_;
  mutable absl::Mutex mutex_;
  std::vector<std::unique_ptr<WorkerMetrics>> workers_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_REGISTRY_H_
