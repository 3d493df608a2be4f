// Passive health (outlier ejection), counters, status JSON, reload state and the retry budget.
#include <thread>

#include "tests/unit/gateway/upstream/test_util.h"

namespace rampart::gateway::upstream {
namespace {

using testing::FakeClock;
using testing::makeConfig;
using testing::mustCreate;

const Outcome k5xx{Outcome::Kind::Status, 503};
const Outcome kOk{Outcome::Kind::Success};
const Outcome kConnect{Outcome::Kind::ConnectFailure};

PoolConfig passiveConfig(size_t n) {
  PoolConfig c = makeConfig(std::vector<uint32_t>(n, 1));
  c.passive.consecutive_5xx = 5;
  c.passive.consecutive_connect_failures = 3;
  c.passive.base_ejection_time = std::chrono::milliseconds(30000);
  c.passive.max_ejection_time = std::chrono::milliseconds(100000);
  c.passive.max_ejected_percent = 50;
  return c;
}

void reportN(Pool& p, const Endpoint& e, Outcome o, int n) {
  for (int i = 0; i < n; ++i) p.report(e, o);
}

TEST(PassiveHealth, EjectsAfterConsecutive5xx) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());
  const Endpoint& e = *p->endpoints()[1];
  reportN(*p, e, k5xx, 4);
  EXPECT_FALSE(e.ejected(clock.now()));
  p->report(e, k5xx);
  EXPECT_TRUE(e.ejected(clock.now()));
  EXPECT_FALSE(e.available(clock.now()));
  EXPECT_TRUE(e.activeHealthy());
  for (int i = 0; i < 100; ++i) EXPECT_NE(p->pick(""), &e);
}

TEST(PassiveHealth, SuccessAndNon5xxResetTheStreak) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());
  const Endpoint& e = *p->endpoints()[0];
  reportN(*p, e, k5xx, 4);
  p->report(e, kOk);
  reportN(*p, e, k5xx, 4);
  p->report(e, Outcome{Outcome::Kind::Status, 404});  // a 4xx is the client's problem
  reportN(*p, e, k5xx, 4);
  EXPECT_FALSE(e.ejected(clock.now()));
  p->report(e, k5xx);
  EXPECT_TRUE(e.ejected(clock.now()));
}

TEST(PassiveHealth, ResetsAndTimeoutsCountAs5xx) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());
  const Endpoint& e = *p->endpoints()[0];
  reportN(*p, e, Outcome{Outcome::Kind::Reset}, 2);
  reportN(*p, e, Outcome{Outcome::Kind::Timeout}, 2);
  EXPECT_FALSE(e.ejected(clock.now()));
  p->report(e, Outcome{Outcome::Kind::Status, 500});
  EXPECT_TRUE(e.ejected(clock.now()));
}

TEST(PassiveHealth, EjectsAfterConsecutiveConnectFailures) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());
  const Endpoint& e = *p->endpoints()[2];
  reportN(*p, e, kConnect, 2);
  p->report(e, k5xx);  // it connected: the connect-failure streak restarts
  reportN(*p, e, kConnect, 2);
  EXPECT_FALSE(e.ejected(clock.now()));
  p->report(e, kConnect);
  EXPECT_TRUE(e.ejected(clock.now()));
}

TEST(PassiveHealth, ReturnsAfterEjectionTimeAndBacksOff) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());
  const Endpoint& e = *p->endpoints()[0];
  reportN(*p, e, kConnect, 3);
  ASSERT_TRUE(e.ejected(clock.now()));
  EXPECT_EQ(e.stats(clock.now()).ejected_for_ms, 30000);
  clock.advance(29999);
  EXPECT_TRUE(e.ejected(clock.now()));
  clock.advance(1);
  EXPECT_FALSE(e.ejected(clock.now()));
  EXPECT_TRUE(e.available(clock.now()));
  // The streak restarted at ejection: one failure does not eject again.
  p->report(e, kConnect);
  EXPECT_FALSE(e.ejected(clock.now()));
  reportN(*p, e, kConnect, 2);
  ASSERT_TRUE(e.ejected(clock.now()));
  EXPECT_EQ(e.stats(clock.now()).ejected_for_ms, 60000);  // second ejection: 2 * base
  clock.advance(60000);
  reportN(*p, e, kConnect, 3);
  EXPECT_EQ(e.stats(clock.now()).ejected_for_ms, 90000);
  clock.advance(90000);
  reportN(*p, e, kConnect, 3);
  EXPECT_EQ(e.stats(clock.now()).ejected_for_ms, 100000);  // capped at max
  EXPECT_EQ(e.stats(clock.now()).ejections, 4u);
}

TEST(PassiveHealth, BackoffResetsAfterLongHealthyPeriod) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());
  const Endpoint& e = *p->endpoints()[0];
  reportN(*p, e, kConnect, 3);
  clock.advance(30000);
  reportN(*p, e, kConnect, 3);
  EXPECT_EQ(e.stats(clock.now()).ejected_for_ms, 60000);
  clock.advance(60000 + 100000);  // back for max_ejection_time
  reportN(*p, e, kConnect, 3);
  EXPECT_EQ(e.stats(clock.now()).ejected_for_ms, 30000);
}

TEST(PassiveHealth, MaxEjectedPercentIsRespected) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(4), clock.fn());  // 50% of 4 = 2
  for (const auto& e : p->endpoints()) reportN(*p, *e, kConnect, 3);
  EXPECT_EQ(p->ejectedCount(clock.now()), 2u);
  EXPECT_TRUE(p->endpoints()[0]->ejected(clock.now()));
  EXPECT_TRUE(p->endpoints()[1]->ejected(clock.now()));
  // The refused ones keep their streak: once room frees up, the next failure ejects.
  clock.advance(30000);
  EXPECT_EQ(p->ejectedCount(clock.now()), 0u);
  p->report(*p->endpoints()[3], kConnect);
  EXPECT_TRUE(p->endpoints()[3]->ejected(clock.now()));
  EXPECT_NE(p->pick(""), nullptr);
}

TEST(PassiveHealth, SmallPoolCanAlwaysEjectOne) {
  // Envoy's rule: 10% of 2 endpoints rounds to none, but one ejection is always allowed.
  FakeClock clock;
  PoolConfig c = passiveConfig(2);
  c.passive.max_ejected_percent = 10;
  auto p = mustCreate(c, clock.fn());
  reportN(*p, *p->endpoints()[0], kConnect, 3);
  reportN(*p, *p->endpoints()[1], kConnect, 3);
  EXPECT_TRUE(p->endpoints()[0]->ejected(clock.now()));
  EXPECT_FALSE(p->endpoints()[1]->ejected(clock.now()));
  EXPECT_EQ(p->pick(""), p->endpoints()[1].get());
}

TEST(PassiveHealth, ZeroPercentOrDisabledNeverEjects) {
  FakeClock clock;
  PoolConfig c = passiveConfig(2);
  c.passive.max_ejected_percent = 0;
  auto p = mustCreate(c, clock.fn());
  reportN(*p, *p->endpoints()[0], kConnect, 10);
  EXPECT_EQ(p->ejectedCount(clock.now()), 0u);

  c = passiveConfig(2);
  c.passive.enabled = false;
  auto q = mustCreate(c, clock.fn());
  reportN(*q, *q->endpoints()[0], kConnect, 10);
  reportN(*q, *q->endpoints()[0], k5xx, 10);
  EXPECT_EQ(q->ejectedCount(clock.now()), 0u);
  EXPECT_EQ(q->endpoints()[0]->stats(clock.now()).failures, 20u);  // still counted
}

TEST(PassiveHealth, ZeroThresholdTurnsThatDetectorOff) {
  FakeClock clock;
  PoolConfig c = passiveConfig(2);
  c.passive.consecutive_5xx = 0;
  auto p = mustCreate(c, clock.fn());
  reportN(*p, *p->endpoints()[0], k5xx, 50);
  EXPECT_FALSE(p->endpoints()[0]->ejected(clock.now()));
  reportN(*p, *p->endpoints()[0], kConnect, 3);
  EXPECT_TRUE(p->endpoints()[0]->ejected(clock.now()));
}

TEST(PassiveHealth, SingleEndpointPoolEjectedGives503) {
  FakeClock clock;
  auto p = mustCreate(passiveConfig(1), clock.fn());
  reportN(*p, *p->endpoints()[0], kConnect, 3);
  EXPECT_EQ(p->pick(""), nullptr);
  clock.advance(30000);
  EXPECT_EQ(p->pick(""), p->endpoints()[0].get());
}

TEST(PassiveHealth, CountersAndStatusJson) {
  FakeClock clock;
  PoolConfig c = passiveConfig(2);
  c.name = "app \"v2\"";
  auto p = mustCreate(c, clock.fn());
  const Endpoint& e = *p->endpoints()[0];
  p->requestStarted(e);
  reportN(*p, e, kOk, 3);
  reportN(*p, e, kConnect, 3);
  p->setActiveHealthy(*p->endpoints()[1], false);
  EndpointStats s = e.stats(clock.now());
  EXPECT_EQ(s.requests, 6u);
  EXPECT_EQ(s.failures, 3u);
  EXPECT_EQ(s.ejections, 1u);
  EXPECT_EQ(s.active_requests, 1u);
  EXPECT_TRUE(s.ejected);
  EXPECT_EQ(p->endpoints()[1]->stats(clock.now()).health_flips, 1u);
  const std::string j = p->statusJson();
  EXPECT_NE(j.find("\"name\":\"app \\\"v2\\\"\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"lb\":\"round_robin\",\"active_checks\":false,\"size\":2,\"available\":0,"
                   "\"ejected\":1,\"unhealthy\":1,"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("{\"address\":\"127.0.0.1:9000\",\"resolved\":\"127.0.0.1:9000\",\"weight\":1,"
                   "\"healthy\":true,\"ejected\":true,\"ejected_for_ms\":30000,\"available\":false,"
                   "\"active_requests\":1,\"requests\":6,\"failures\":3,\"ejections\":1,\"health_flips\":0}"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"healthy\":false,\"ejected\":false"), std::string::npos) << j;
}

TEST(PassiveHealth, InheritStateCarriesHealthAcrossReload) {
  FakeClock clock;
  auto old_pool = mustCreate(passiveConfig(3), clock.fn());
  reportN(*old_pool, *old_pool->endpoints()[1], kConnect, 3);
  old_pool->setActiveHealthy(*old_pool->endpoints()[2], false);
  // The new config drops 9000 and reorders: state follows the address, not the index.
  PoolConfig c = passiveConfig(3);
  c.endpoints.erase(c.endpoints.begin());
  std::swap(c.endpoints[0], c.endpoints[1]);
  c.endpoints.push_back({"127.0.0.1:9100", "127.0.0.1", 9100, 1});
  auto fresh = mustCreate(c, clock.fn());
  fresh->inheritState(*old_pool);
  const auto& eps = fresh->endpoints();
  ASSERT_EQ(eps[0]->address().port(), 9002);
  EXPECT_FALSE(eps[0]->activeHealthy());
  EXPECT_TRUE(eps[1]->ejected(clock.now()));
  EXPECT_EQ(eps[1]->stats(clock.now()).ejections, 1u);
  EXPECT_TRUE(eps[2]->available(clock.now()));
  clock.advance(30000);
  EXPECT_FALSE(eps[1]->ejected(clock.now()));
}

TEST(PassiveHealth, ExplicitTimeOverloads) {
  // The real clock, with times passed in: report() ejects at t0, pick() at t0 + base sees it back.
  auto p = mustCreate(passiveConfig(1));
  const Endpoint& e = *p->endpoints()[0];
  const TimePoint t0 = Clock::now();
  for (int i = 0; i < 3; ++i) p->report(e, kConnect, t0);
  EXPECT_EQ(p->pick("", nullptr, t0 + std::chrono::milliseconds(29999)), nullptr);
  EXPECT_EQ(p->pick("", nullptr, t0 + std::chrono::milliseconds(30000)), &e);
  EXPECT_EQ(p->pick(""), nullptr);  // the real clock has not moved 30 s
}

// ------------------------------------------------------------------ retry budget

TEST(RetryBudget, MinConcurrencyAllowsRetriesWhenIdle) {
  RetryBudget b(20, 3);
  EXPECT_TRUE(b.tryStartRetry());
  EXPECT_TRUE(b.tryStartRetry());
  EXPECT_TRUE(b.tryStartRetry());
  EXPECT_FALSE(b.tryStartRetry());
  b.retryFinished();
  EXPECT_TRUE(b.tryStartRetry());
  EXPECT_EQ(b.activeRetries(), 3u);
}

TEST(RetryBudget, PercentOfActiveRequests) {
  RetryBudget b(20, 3);
  for (int i = 0; i < 100; ++i) b.requestStarted();
  int allowed = 0;
  while (b.tryStartRetry() && allowed < 1000) ++allowed;
  EXPECT_EQ(allowed, 20);
  for (int i = 0; i < 50; ++i) b.requestFinished();  // 50 active: budget 10, 20 in flight
  for (int i = 0; i < 10; ++i) b.retryFinished();
  EXPECT_FALSE(b.tryStartRetry());
  b.retryFinished();
  EXPECT_TRUE(b.tryStartRetry());
  EXPECT_EQ(b.activeRequests(), 50u);
}

TEST(RetryBudget, ZeroPercentStillHasTheFloor) {
  RetryBudget b(0, 1);
  for (int i = 0; i < 1000; ++i) b.requestStarted();
  EXPECT_TRUE(b.tryStartRetry());
  EXPECT_FALSE(b.tryStartRetry());
  b.retryFinished();
  b.retryFinished();  // extra finish does not underflow
  EXPECT_EQ(b.activeRetries(), 0u);
}

TEST(RetryBudget, ConcurrentRetriesNeverExceedBudget) {
  RetryBudget b(10, 0);
  for (int i = 0; i < 400; ++i) b.requestStarted();  // budget 40
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) granted += b.tryStartRetry();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 40);
  EXPECT_EQ(b.activeRetries(), 40u);
}

}  // namespace
}  // namespace rampart::gateway::upstream
