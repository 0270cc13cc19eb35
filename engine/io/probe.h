// Start-up check that the running kernel supports every io_uring operation
// the engine submits. Called once from main before any worker starts.
#ifndef FERRY_ENGINE_IO_PROBE_H_
#define FERRY_ENGINE_IO_PROBE_H_

#include "absl/status/status.h"

namespace ferry::io {

// Returns OK if every required opcode is supported, else an error naming
// each missing operation and the kernel version that added it.
absl::Status ProbeRequiredOperations();

}  // namespace ferry::io

#endif  // FERRY_ENGINE_IO_PROBE_H_
