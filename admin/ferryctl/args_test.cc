#include "admin/ferryctl/args.h"

#include "gtest/gtest.h"

namespace ferry::ferryctl {
namespace {

const FlagSpec kSpec{.switches = {"all"},
                     .values = {"domain", "page-size", "min-age"},
                     .repeated = {"recipient"}};

TEST(ArgsTest, ParsesFlagsInBothFormsAndPositionals) {
  absl::StatusOr<Args> args =
      Args::Parse({"a", "--domain=example.net", "--all", "--page-size", "5",
                   "b", "--recipient=x@y", "--recipient", "z@y"},
                  kSpec);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Value("domain"), "example.net");
  EXPECT_TRUE(args->Has("all"));
  EXPECT_EQ(*args->Unsigned("page-size", 100), 5u);
  EXPECT_EQ(args->positional(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(args->Values("recipient"),
            (std::vector<std::string>{"x@y", "z@y"}));
}

TEST(ArgsTest, DoubleDashEndsFlags) {
  absl::StatusOr<Args> args = Args::Parse({"--", "--all"}, kSpec);
  ASSERT_TRUE(args.ok());
  EXPECT_FALSE(args->Has("all"));
  EXPECT_EQ(args->positional(), std::vector<std::string>{"--all"});
}

TEST(ArgsTest, RejectsUnknownMissingAndRepeated) {
  EXPECT_EQ(Args::Parse({"--bogus"}, kSpec).status().message(),
            "unknown option --bogus");
  EXPECT_EQ(Args::Parse({"--domain"}, kSpec).status().message(),
            "--domain needs a value");
  EXPECT_EQ(Args::Parse({"--all=1"}, kSpec).status().message(),
            "--all takes no value");
  EXPECT_EQ(
      Args::Parse({"--domain=a", "--domain=b"}, kSpec).status().message(),
      "--domain is given more than once");
}

TEST(ArgsTest, NumbersAndDurations) {
  absl::StatusOr<Args> args =
      Args::Parse({"--page-size=x", "--min-age=1d2h"}, kSpec);
  ASSERT_TRUE(args.ok());
  EXPECT_FALSE(args->Unsigned("page-size", 1).ok());
  EXPECT_EQ(**args->Duration("min-age"), absl::Hours(26));
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("5m"), absl::Minutes(5));
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("soon").ok());
  EXPECT_FALSE(ParseDuration("-5s").ok());
}

}  // namespace
}  // namespace ferry::ferryctl
