// Start-up recovery of the whole spool. It finds every worker directory
// ("w0", "w1", ...) under the spool directory, recovers each and repairs
// torn or corrupt tails. Each directory and its queued messages then go to
// the worker that owns it from now on. Runs on the main thread before any
// worker starts.
#ifndef FERRY_ENGINE_SERVER_SPOOL_LOADER_H_
#define FERRY_ENGINE_SERVER_SPOOL_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/server/delivery_queue.h"
#include "engine/server/queued_message.h"

namespace ferry::server {

// The spool state one worker starts with.
struct WorkerSpoolState {
  // [0] is the worker's own directory, where it writes; any others were
  // left by workers that no longer exist (ferryd now runs fewer).
  std::vector<std::unique_ptr<SpoolDirectory>> dirs;
  std::vector<std::shared_ptr<QueuedMessage>> messages;
};

// Returns "<spool_dir>/w<index>".
std::string WorkerSpoolPath(const std::string& spool_dir, int index);

// Recovers every worker directory under `spool_dir` (created if missing)
// and assigns directory wN to worker N % workers. Logs each skipped
// damaged record, copies each damaged segment to
// "<segment>.corrupt-<unix seconds>", truncates each damaged tail, deletes
// leading segments with no queued message, and reads queued bodies into
// memory. Fails naming the file when a directory or segment cannot be read.
absl::StatusOr<std::vector<WorkerSpoolState>> LoadSpool(
    const std::string& spool_dir, int workers);

}  // namespace ferry::server

#endif  // FERRY_ENGINE_SERVER_SPOOL_LOADER_H_
