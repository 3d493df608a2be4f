#include "gateway/ratelimit/local_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rampart::gateway::ratelimit {
namespace {
using namespace std::chrono_literals;

Policy makePolicy(uint64_t count, uint64_t burst) {
  Policy p;
  p.rate.count = count;
  p.rate.per = 1000ms;
  p.burst = burst;
  return p;
}

TEST(LocalLimiter, GcraExact50PerSecondOver3s) {
  std::chrono::nanoseconds now{0};
  LocalLimiter lim(makePolicy(50, 1), 1024, [&] { return now; });
  int admitted = 0;
  for (int ms = 0; ms < 3000; ++ms) {
    now = std::chrono::milliseconds(ms);
    admitted += lim.decide("k").allowed;
  }
  EXPECT_NEAR(admitted, 150, 1);
}

TEST(LocalLimiter, BurstAdmitsExactlyBurstAtOnce) {
  std::chrono::nanoseconds now{0};
  LocalLimiter lim(makePolicy(10, 5), 1024, [&] { return now; });
  int admitted = 0;
  for (int i = 0; i < 20; ++i) admitted += lim.decide("k").allowed;
  EXPECT_EQ(admitted, 5);
  now = 100ms;  // one token refilled
  EXPECT_TRUE(lim.decide("k").allowed);
  EXPECT_FALSE(lim.decide("k").allowed);
}

TEST(LocalLimiter, DecisionCarriesRetryAfterAndRemaining) {
  std::chrono::nanoseconds now{0};
  LocalLimiter lim(makePolicy(10, 3), 1024, [&] { return now; });
  EXPECT_EQ(lim.decide("k").remaining, 2u);
  EXPECT_EQ(lim.decide("k").remaining, 1u);
  EXPECT_EQ(lim.decide("k").remaining, 0u);
  Decision d = lim.decide("k");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retryAfter, 100ms);
  EXPECT_EQ(d.reset, 300ms);
}

TEST(LocalLimiter, KeysAreIndependent) {
  std::chrono::nanoseconds now{0};
  LocalLimiter lim(makePolicy(1, 1), 1024, [&] { return now; });
  EXPECT_TRUE(lim.decide("a").allowed);
  EXPECT_FALSE(lim.decide("a").allowed);
  EXPECT_TRUE(lim.decide("b").allowed);
}

TEST(LocalLimiter, FourThreadsShareOneInstanceLimit) {
  std::chrono::nanoseconds now{0};  // frozen clock: only the burst is admitted
  LocalLimiter lim(makePolicy(100, 40), 1024, [&] { return now; });
  std::atomic<int> admitted{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 100; ++i) admitted += lim.decide("shared").allowed;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(admitted.load(), 40);
  EXPECT_EQ(lim.allowedCount(), 40u);
  EXPECT_EQ(lim.rejectedCount(), 360u);
}

TEST(LocalLimiter, UniqueKeyFloodStaysUnderCap) {
  std::chrono::nanoseconds now{0};
  LocalLimiter lim(makePolicy(10, 1), 640, [&] { return now; });
  for (int i = 0; i < 20000; ++i) {
    lim.decide("key-" + std::to_string(i));
    if (i % 1000 == 0) {
      ASSERT_LE(lim.size(), 640u);
    }
  }
  EXPECT_LE(lim.size(), 640u);
  EXPECT_EQ(lim.evictions(), 20000u - lim.size());
}

TEST(Config, ValidateReportsEveryError) {
  Policy p;
  p.rate.count = 0;
  p.burst = 0;
  KeyPart unknown;
  unknown.kind = KeyPart::Kind::kUnknown;
  KeyPart header;
  header.kind = KeyPart::Kind::kHeader;
  p.key = {unknown, header};
  auto errs = validate(p);
  EXPECT_EQ(errs.size(), 4u);
  Policy ok = makePolicy(5, 1);
  EXPECT_TRUE(validate(ok).empty());
}

}  // namespace
}  // namespace rampart::gateway::ratelimit

namespace rampart::gateway::ratelimit {
namespace {
using namespace std::chrono_literals;

TEST(LocalLimiterDelay, QueuesUpToMaxQueuedThenRejects) {
  std::chrono::nanoseconds now{0};
  Policy p;
  p.rate.count = 10;
  p.burst = 2;
  LocalLimiter lim(p, 1024, [&] { return now; });
  DelayOptions d{true, 2, 1000ms};
  EXPECT_EQ(lim.decide("k", d).delay, 0ms);
  EXPECT_EQ(lim.decide("k", d).delay, 0ms);
  Decision a = lim.decide("k", d);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.delay, 100ms);
  Decision b = lim.decide("k", d);
  EXPECT_TRUE(b.allowed);
  EXPECT_EQ(b.delay, 200ms);
  EXPECT_FALSE(lim.decide("k", d).allowed);  // third in queue
  EXPECT_EQ(lim.delayedCount(), 2u);
}

TEST(LocalLimiterDelay, MaxDelayBoundsTheWait) {
  std::chrono::nanoseconds now{0};
  Policy p;
  p.rate.count = 1;
  p.burst = 1;
  LocalLimiter lim(p, 1024, [&] { return now; });
  DelayOptions d{true, 10, 500ms};
  EXPECT_TRUE(lim.decide("k", d).allowed);
  EXPECT_FALSE(lim.decide("k", d).allowed);  // would wait 1 s > 500 ms
  now = 600ms;
  Decision x = lim.decide("k", d);
  EXPECT_TRUE(x.allowed);
  EXPECT_EQ(x.delay, 400ms);
}

}  // namespace
}  // namespace rampart::gateway::ratelimit

namespace rampart::gateway::ratelimit {
namespace {
using namespace std::chrono_literals;

TEST(LocalLimiterExpiry, FullBucketKeysAreDroppedOthersKept) {
  std::chrono::nanoseconds now{0};
  Policy p;
  p.rate.count = 10;
  p.burst = 1;
  LocalLimiter lim(p, 1024, [&] { return now; });
  lim.decide("old");
  now = 50ms;
  lim.decide("young");
  now = 100ms;  // "old" is full again (TAT=100ms), "young" is not (150ms)
  EXPECT_EQ(lim.expireIdle(), 1u);
  EXPECT_EQ(lim.size(), 1u);
  EXPECT_EQ(lim.expiredCount(), 1u);
  EXPECT_FALSE(lim.decide("young").allowed);  // state survived
  EXPECT_TRUE(lim.decide("old").allowed);
}

}  // namespace
}  // namespace rampart::gateway::ratelimit
