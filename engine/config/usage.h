// The text that ferryd --help prints. A pure function, safe to call from
// any thread.
#ifndef FERRY_ENGINE_CONFIG_USAGE_H_
#define FERRY_ENGINE_CONFIG_USAGE_H_

#include <string>

namespace ferry::config {

// Returns the ferryd manual in plain text, in the sections of a manual
// page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, CONFIGURATION, FILES,
// SIGNALS, EXIT STATUS and EXAMPLES. Lines are at most 80 columns.
std::string FerrydUsage();

}  // namespace ferry::config

#endif  // FERRY_ENGINE_CONFIG_USAGE_H_
