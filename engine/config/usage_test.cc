#include "engine/config/usage.h"

#include <string>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace ferry::config {
namespace {

TEST(FerrydUsageTest, HasEveryManualSection) {
  std::string usage = "\n" + FerrydUsage();
  for (const char* section :
       {"NAME\n", "SYNOPSIS\n", "DESCRIPTION\n", "OPTIONS\n", "CONFIGURATION\n",
        "FILES\n", "SIGNALS\n", "EXIT STATUS\n", "EXAMPLES\n"}) {
    EXPECT_NE(usage.find(std::string("\n") + section), std::string::npos)
        << section;
  }
}

TEST(FerrydUsageTest, DescribesEveryOption) {
  std::string usage = FerrydUsage();
  for (const char* option :
       {"--config=FILE", "--check-config", "--help", "--version"}) {
    EXPECT_NE(usage.find(option), std::string::npos) << option;
  }
}

TEST(FerrydUsageTest, NamesSchemaAndExample) {
  std::string usage = FerrydUsage();
  EXPECT_NE(usage.find("proto/config.proto"), std::string::npos);
  EXPECT_NE(usage.find("deploy/ferry.example.textproto"), std::string::npos);
}

TEST(FerrydUsageTest, FitsEightyColumns) {
  for (absl::string_view line : absl::StrSplit(FerrydUsage(), '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

}  // namespace
}  // namespace ferry::config
