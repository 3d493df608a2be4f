#include "gateway/ratelimit/client_address.h"

#include <gtest/gtest.h>

namespace rampart::gateway::ratelimit {
namespace {
namespace ip = boost::asio::ip;

std::vector<Cidr> trustedList() { return {*parseCidr("10.0.0.0/8"), *parseCidr("2001:db8::/32")}; }

TEST(ClientAddress, UntrustedPeerXffIgnored) {
  auto r = resolveClientAddress(ip::make_address("203.0.113.5"), {"1.2.3.4"}, trustedList());
  EXPECT_EQ(r.to_string(), "203.0.113.5");
}

TEST(ClientAddress, TrustedChainWalkedRightToLeft) {
  auto r = resolveClientAddress(ip::make_address("10.0.0.1"), {"198.51.100.7, 10.1.1.1", "10.2.2.2"},
                                trustedList());
  EXPECT_EQ(r.to_string(), "198.51.100.7");
}

TEST(ClientAddress, SpoofedLeftmostEntriesIgnored) {
  auto r = resolveClientAddress(ip::make_address("10.0.0.1"), {"6.6.6.6, 198.51.100.7"}, trustedList());
  EXPECT_EQ(r.to_string(), "198.51.100.7");
}

TEST(ClientAddress, AllTrustedReturnsLeftmostAndGarbageStops) {
  EXPECT_EQ(resolveClientAddress(ip::make_address("10.0.0.1"), {"10.9.9.9"}, trustedList()).to_string(),
            "10.9.9.9");
  EXPECT_EQ(resolveClientAddress(ip::make_address("10.0.0.1"), {"6.6.6.6, junk"}, trustedList()).to_string(),
            "10.0.0.1");
}

TEST(ClientAddress, ParseCidrAndContains) {
  EXPECT_FALSE(parseCidr("10.0.0.0/33"));
  EXPECT_FALSE(parseCidr("nope/8"));
  EXPECT_TRUE(cidrContains(*parseCidr("2001:db8::/32"), ip::make_address("2001:db8:ffff::1")));
  EXPECT_FALSE(cidrContains(*parseCidr("2001:db8::/32"), ip::make_address("2001:db9::1")));
  EXPECT_TRUE(cidrContains(*parseCidr("10.0.0.0/8"), ip::make_address("::ffff:10.3.3.3")));
}

}  // namespace
}  // namespace rampart::gateway::ratelimit
