#include <gtest/gtest.h>

#include "gateway/ratelimit/client_key.h"
#include "gateway/ratelimit/headers.h"

namespace rampart::gateway::ratelimit {
namespace {
using namespace std::chrono_literals;

TEST(Headers, PolicyAndRateLimitValues) {
  EXPECT_EQ(rateLimitPolicyValue("default", 100, 60s), "\"default\";q=100;w=60");
  EXPECT_EQ(rateLimitValue("default", 0, 11500ms), "\"default\";r=0;t=12");
}

TEST(Headers, RetryAfterRoundsUpAndIsAtLeastOne) {
  EXPECT_EQ(retryAfterValue(20ms), "1");
  EXPECT_EQ(retryAfterValue(0ms), "1");
  EXPECT_EQ(retryAfterValue(2001ms), "3");
}

TEST(ClientKey, Ipv6Slash64Aggregates) {
  auto a = clientIpKey("2001:db8:1:2:aaaa::1", 32, 64);
  auto b = clientIpKey("2001:db8:1:2:ffff:1:2:3", 32, 64);
  auto c = clientIpKey("2001:db8:1:3::1", 32, 64);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(*a, "2001:db8:1:2::/64");
}

TEST(ClientKey, Ipv4PrefixAndMappedAndInvalid) {
  EXPECT_EQ(*clientIpKey("192.0.2.77", 32, 64), "192.0.2.77/32");
  EXPECT_EQ(*clientIpKey("192.0.2.77", 24, 64), "192.0.2.0/24");
  EXPECT_EQ(*clientIpKey("::ffff:192.0.2.77", 32, 64), "192.0.2.77/32");
  EXPECT_FALSE(clientIpKey("not-an-ip", 32, 64).has_value());
}

}  // namespace
}  // namespace rampart::gateway::ratelimit
