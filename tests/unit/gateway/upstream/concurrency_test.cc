// Several worker threads pick/report while health flips underneath them.
// Meant to be run under the sanitizer build (-DRAMPART_SANITIZE=ON) as well.
#include <thread>

#include "tests/unit/gateway/upstream/test_util.h"

namespace rampart::gateway::upstream {
namespace {

using namespace std::chrono_literals;

void hammer(LbPolicy lb) {
  PoolConfig c = testing::makeConfig({1, 2, 3, 1, 1, 2}, lb);
  c.passive.consecutive_5xx = 3;
  c.passive.base_ejection_time = 1ms;  // real clock: ejections end quickly
  c.passive.max_ejection_time = 5ms;
  c.passive.max_ejected_percent = 34;   // at most 2 of 6
  auto pool = testing::mustCreate(c);
  const Endpoint* stable = pool->endpoints()[0].get();  // never reported, never flipped

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> picks{0}, nulls{0}, reported{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      uint64_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        ++i;
        std::string key = "client-" + std::to_string((i * 7 + t) % 500);
        const Endpoint* e = pool->pick(key);
        picks.fetch_add(1, std::memory_order_relaxed);
        if (!e) {
          nulls.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        pool->requestStarted(*e);
        const Endpoint* retry = pool->pick(key, e);
        if (retry) EXPECT_TRUE(retry != e || retry == stable || pool->endpoints().size() == 1);
        const bool fail = e != stable && (i % 3 != 0);
        pool->report(*e, fail ? Outcome{Outcome::Kind::Status, 502} : Outcome{Outcome::Kind::Success});
        reported.fetch_add(1, std::memory_order_relaxed);
        pool->requestFinished(*e);
      }
    });
  }
  // The "checker": flips active health of endpoints 1..5 while workers run.
  std::thread flipper([&] {
    for (int round = 0; round < 300 && !stop.load(); ++round) {
      const Endpoint& e = *pool->endpoints()[1 + round % 5];
      pool->setActiveHealthy(e, round % 2 == 0 ? false : true);
      (void)pool->statusJson();
      std::this_thread::sleep_for(200us);
    }
  });
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& w : workers) w.join();
  flipper.join();

  EXPECT_GT(picks.load(), 1000u);
  EXPECT_EQ(nulls.load(), 0u);  // the stable endpoint is always there
  uint64_t requests = 0, ejections = 0;
  for (const auto& e : pool->endpoints()) {
    EXPECT_EQ(e->activeRequests(), 0u);
    EndpointStats s = e->stats(Clock::now());
    requests += s.requests;
    ejections += s.ejections;
  }
  EXPECT_EQ(requests, reported.load());
  EXPECT_GT(ejections, 0u);
  EXPECT_LE(pool->ejectedCount(Clock::now()), 2u);
}

TEST(Concurrency, RoundRobinUnderContention) { hammer(LbPolicy::RoundRobin); }
TEST(Concurrency, LeastRequestUnderContention) { hammer(LbPolicy::LeastRequest); }
TEST(Concurrency, MaglevUnderContention) { hammer(LbPolicy::Hash); }

TEST(Concurrency, EjectionLimitHoldsUnderRacingReports) {
  // 8 endpoints at 25%: however the reports interleave, at most 2 are ejected.
  PoolConfig c = testing::makeConfig(std::vector<uint32_t>(8, 1));
  c.passive.consecutive_connect_failures = 1;
  c.passive.max_ejected_percent = 25;
  c.passive.base_ejection_time = 60000ms;
  auto pool = testing::mustCreate(c);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) pool->report(*pool->endpoints()[(i + t) % 8], Outcome{Outcome::Kind::ConnectFailure});
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(pool->ejectedCount(Clock::now()), 2u);
}

}  // namespace
}  // namespace rampart::gateway::upstream
