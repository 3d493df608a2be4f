#include "gateway/ratelimit/ban_list.h"

#include <gtest/gtest.h>

namespace rampart::gateway::ratelimit {
namespace {

using std::chrono::milliseconds;

struct FakeClock {
  int64_t now = 1'000'000;
  BanList::WallClock fn() {
    return [this] { return now; };
  }
};

BanPolicy policy(uint32_t threshold, int64_t window_ms, int64_t duration_ms, size_t max_keys = 100000,
                 bool global = false) {
  BanPolicy p;
  p.name = "t";
  p.threshold = threshold;
  p.window = milliseconds(window_ms);
  p.duration = milliseconds(duration_ms);
  p.max_keys = max_keys;
  p.global = global;
  return p;
}

TEST(BanList, ThresholdWithinWindowBansForDuration) {
  FakeClock c;
  BanList b(policy(3, 1000, 5000), c.fn());
  EXPECT_FALSE(b.offence("a"));
  EXPECT_FALSE(b.offence("a"));
  EXPECT_EQ(b.bannedFor("a").count(), 0);
  c.now += 100;
  EXPECT_TRUE(b.offence("a"));
  EXPECT_EQ(b.bannedFor("a"), milliseconds(5000));
  EXPECT_EQ(b.bannedFor("b").count(), 0);
  EXPECT_EQ(b.active(), 1u);
  EXPECT_EQ(b.bansStarted(), 1u);
  EXPECT_EQ(b.rejected(), 1u);
  // Offences while banned do not extend it.
  EXPECT_FALSE(b.offence("a"));
  c.now += 4999;
  EXPECT_EQ(b.bannedFor("a"), milliseconds(1));
  c.now += 1;
  EXPECT_EQ(b.bannedFor("a").count(), 0);
  EXPECT_EQ(b.active(), 0u);
}

TEST(BanList, OffencesOutsideTheWindowStartOver) {
  FakeClock c;
  BanList b(policy(2, 1000, 5000), c.fn());
  EXPECT_FALSE(b.offence("a"));
  c.now += 1001;
  EXPECT_FALSE(b.offence("a"));  // a new window
  c.now += 500;
  EXPECT_TRUE(b.offence("a"));
}

TEST(BanList, ExpireDropsIdleEntriesOnly) {
  FakeClock c;
  BanList b(policy(1, 1000, 5000), c.fn());
  EXPECT_TRUE(b.offence("banned"));
  BanList q(policy(5, 1000, 5000), c.fn());
  q.offence("counting");
  c.now += 2000;
  b.expire();
  q.expire();
  EXPECT_GT(b.bannedFor("banned").count(), 0);  // still banned: kept
  EXPECT_FALSE(q.offence("counting"));          // window over: dropped and counted afresh
}

TEST(BanList, MaxKeysEvictsAndCounts) {
  FakeClock c;
  BanList b(policy(2, 60000, 60000, 64), c.fn());  // one key per shard
  for (int i = 0; i < 1000; ++i) b.offence("k" + std::to_string(i));
  EXPECT_GT(b.evictions(), 0u);
}

TEST(BanList, GlobalBansArePublishedAndRemoteOnesHonoured) {
  FakeClock c;
  BanList b(policy(1, 1000, 5000, 100000, true), c.fn());
  EXPECT_TRUE(b.offence("a"));
  auto fresh = b.takeNew();
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].first, "a");
  EXPECT_EQ(fresh[0].second, c.now + 5000);
  EXPECT_TRUE(b.takeNew().empty());
  b.requeue("a", c.now + 5000);
  EXPECT_EQ(b.takeNew().size(), 1u);
  b.addRemote("r", c.now + 3000);
  b.addRemote("old", c.now - 1);
  EXPECT_EQ(b.bannedFor("r"), milliseconds(3000));
  EXPECT_EQ(b.bannedFor("old").count(), 0);
  EXPECT_EQ(b.bansStarted(), 1u);  // remote bans are not started here
  // A local ban is not published by a policy that is not global.
  BanList l(policy(1, 1000, 5000), c.fn());
  l.offence("a");
  EXPECT_TRUE(l.takeNew().empty());
}

}  // namespace
}  // namespace rampart::gateway::ratelimit
