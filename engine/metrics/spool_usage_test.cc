#include "engine/metrics/spool_usage.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/spool/recovery.h"
#include "gtest/gtest.h"

namespace ferry::metrics {
namespace {

class SpoolUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr ? base : "/tmp", "/spoolXXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteFile(const std::string& relative, size_t size) {
    const std::filesystem::path path = std::filesystem::path(dir_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << std::string(size, 'x');
  }

  std::string dir_;
};

TEST_F(SpoolUsageTest, SumsSegmentsOfEveryWorker) {
  WriteFile("w0/" + spool::SegmentFileName(1), 100);
  WriteFile("w0/" + spool::SegmentFileName(2), 50);
  WriteFile("w1/" + spool::SegmentFileName(1), 7);
  WriteFile("w1/" + spool::SpareFileName(3), 1000);
  EXPECT_EQ(MeasureSpool(dir_).segment_bytes, 1157u);
}

TEST_F(SpoolUsageTest, IgnoresOtherFiles) {
  WriteFile("w0/" + spool::SegmentFileName(1), 10);
  WriteFile("w0/" + spool::SegmentFileName(1) + ".corrupt-1700000000", 1000);
  WriteFile("other/" + spool::SegmentFileName(1), 1000);
  WriteFile(spool::SegmentFileName(1), 1000);
  EXPECT_EQ(MeasureSpool(dir_).segment_bytes, 10u);
}

TEST_F(SpoolUsageTest, ReportsFileSystem) {
  const SpoolUsage usage = MeasureSpool(dir_);
  EXPECT_TRUE(usage.filesystem_known);
  EXPECT_GT(usage.filesystem_size_bytes, 0u);
  EXPECT_LE(usage.filesystem_free_bytes, usage.filesystem_size_bytes);
}

TEST_F(SpoolUsageTest, MissingDirectoryIsEmpty) {
  const SpoolUsage usage = MeasureSpool(dir_ + "/missing");
  EXPECT_EQ(usage.segment_bytes, 0u);
  EXPECT_FALSE(usage.filesystem_known);
}

}  // namespace
}  // namespace ferry::metrics
