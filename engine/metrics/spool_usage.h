// SpoolUsage: the spool's disk use, measured at scrape time on the
// scraper's thread: the size of the segment files, and the free and total
// space of the file system they are on.
#ifndef FERRY_ENGINE_METRICS_SPOOL_USAGE_H_
#define FERRY_ENGINE_METRICS_SPOOL_USAGE_H_

#include <cstdint>
#include <string>

namespace ferry::metrics {

struct SpoolUsage {
  // Sum of the sizes (st_size) of the segment files, spare ones included,
  // in every worker directory ("w0", "w1", ...) of the spool directory.
  uint64_t segment_bytes = 0;
  // False when statvfs() failed; the two fields below are then 0.
  bool filesystem_known = false;
  // Space that an unprivileged user such as ferryd's may still use:
  // f_bavail * f_frsize.
  uint64_t filesystem_free_bytes = 0;
  uint64_t filesystem_size_bytes = 0;  // f_blocks * f_frsize
};

// Measures `spool_dir`. Directories or files that cannot be read count as
// empty: the gauges are best effort, and ferryd's log reports spool errors.
SpoolUsage MeasureSpool(const std::string& spool_dir);

}  // namespace ferry::metrics

#endif  // FERRY_ENGINE_METRICS_SPOOL_USAGE_H_
