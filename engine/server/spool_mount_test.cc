#include "engine/server/spool_mount.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace ferry::server {
namespace {

// Lines in the format of proc(5), from a machine with a discard root.
constexpr char kMountinfo[] =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda "
    "rw,discard,resv_strict\n"
    "23 22 0:21 / /proc rw,relatime shared:2 - proc proc rw\n"
    "40 22 254:16 / /var/spool/ferry rw,noatime shared:9 - xfs /dev/vdb "
    "rw,attr2,inode64\n"
    "41 22 254:32 / /srv/mail\\040queue rw,noatime - ext4 /dev/vdc "
    "rw,discard\n";

TEST(FindMount, PicksLongestContainingMountPoint) {
  std::optional<MountEntry> mount =
      FindMount(kMountinfo, "/var/spool/ferry/w0");
  ASSERT_TRUE(mount.has_value());
  EXPECT_EQ(mount->mount_point, "/var/spool/ferry");
  EXPECT_EQ(mount->fs_type, "xfs");
  EXPECT_EQ(mount->mount_options, "rw,noatime");
  EXPECT_EQ(mount->super_options, "rw,attr2,inode64");
  EXPECT_FALSE(HasOnlineDiscard(*mount));
}

TEST(FindMount, MatchesWholePathComponents) {
  // /var/spool/ferry2 is not inside /var/spool/ferry.
  std::optional<MountEntry> mount = FindMount(kMountinfo, "/var/spool/ferry2");
  ASSERT_TRUE(mount.has_value());
  EXPECT_EQ(mount->mount_point, "/");
  EXPECT_TRUE(HasOnlineDiscard(*mount));
}

TEST(FindMount, DecodesEscapedSpaces) {
  std::optional<MountEntry> mount =
      FindMount(kMountinfo, "/srv/mail queue/spool");
  ASSERT_TRUE(mount.has_value());
  EXPECT_EQ(mount->mount_point, "/srv/mail queue");
  EXPECT_TRUE(HasOnlineDiscard(*mount));
}

TEST(FindMount, LaterMountOnSamePointWins) {
  const std::string text = std::string(kMountinfo) +
                           "50 40 0:50 / /var/spool/ferry rw - tmpfs tmpfs "
                           "rw,size=1024k\n";
  std::optional<MountEntry> mount = FindMount(text, "/var/spool/ferry");
  ASSERT_TRUE(mount.has_value());
  EXPECT_EQ(mount->fs_type, "tmpfs");
}

TEST(FindMount, DiscardAsMountOption) {
  std::optional<MountEntry> mount = FindMount(
      "30 1 8:1 / /data rw,discard - ext4 /dev/sda1 rw\n", "/data/spool");
  ASSERT_TRUE(mount.has_value());
  EXPECT_TRUE(HasOnlineDiscard(*mount));
}

TEST(FindMount, SkipsMalformedLines) {
  EXPECT_FALSE(FindMount("garbage\n\n1 2 3\n", "/").has_value());
  EXPECT_FALSE(FindMount("", "/var").has_value());
}

TEST(HasOnlineDiscard, IgnoresSimilarOptionNames) {
  MountEntry mount;
  mount.mount_options = "rw,nodiscard";
  mount.super_options = "rw,discard_max=4";
  EXPECT_FALSE(HasOnlineDiscard(mount));
}

}  // namespace
}  // namespace ferry::server
