#include "engine/server/connection_limiter.h"

#include "gtest/gtest.h"

namespace ferry::server {
namespace {

using Verdict = ConnectionLimiter::Verdict;

TEST(ConnectionLimiter, RejectsPastPerAddressLimit) {
  ConnectionLimiter limiter(10, 2);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.1"), Verdict::kAccept);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.1"), Verdict::kAccept);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.1"), Verdict::kTooManyFromAddress);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.2"), Verdict::kAccept);
}

TEST(ConnectionLimiter, RejectsPastTotalLimit) {
  ConnectionLimiter limiter(2, 5);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.1"), Verdict::kAccept);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.2"), Verdict::kAccept);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.3"), Verdict::kTooManyTotal);
}

TEST(ConnectionLimiter, ReleaseFreesASlot) {
  ConnectionLimiter limiter(1, 1);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.1"), Verdict::kAccept);
  limiter.Release("192.0.2.1");
  EXPECT_EQ(limiter.total(), 0u);
  EXPECT_EQ(limiter.TryAcquire("192.0.2.1"), Verdict::kAccept);
}

TEST(ConnectionLimiter, ReleaseOfUnknownAddressIsIgnored) {
  ConnectionLimiter limiter(1, 1);
  limiter.Release("192.0.2.9");
  EXPECT_EQ(limiter.total(), 0u);
}

}  // namespace
}  // namespace ferry::server
