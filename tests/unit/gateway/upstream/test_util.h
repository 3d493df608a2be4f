// Helpers shared by the upstream unit tests: pool configs and an injectable clock.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/upstream/pool.h"

namespace rampart::gateway::upstream::testing {

inline PoolConfig makeConfig(const std::vector<uint32_t>& weights, LbPolicy lb = LbPolicy::RoundRobin,
                             uint16_t first_port = 9000) {
  PoolConfig c;
  c.name = "test";
  c.lb = lb;
  for (size_t i = 0; i < weights.size(); ++i) {
    EndpointConfig e;
    e.port = static_cast<uint16_t>(first_port + i);
    e.host = "127.0.0.1";
    e.address = "127.0.0.1:" + std::to_string(e.port);
    e.weight = weights[i];
    c.endpoints.push_back(e);
  }
  return c;
}

// A manual clock: starts one hour after the steady epoch, advanced by the test.
struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(3600 * 1000);
  Pool::ClockFn fn() const {
    auto p = ms;
    return [p] { return TimePoint{} + std::chrono::milliseconds(p->load()); };
  }
  void advance(int64_t d) { ms->fetch_add(d); }
  TimePoint now() const { return TimePoint{} + std::chrono::milliseconds(ms->load()); }
};

inline std::shared_ptr<Pool> mustCreate(const PoolConfig& c, Pool::ClockFn clock = {}) {
  std::string err;
  auto p = Pool::create(c, &err, std::move(clock));
  EXPECT_NE(p, nullptr) << err;
  return p;
}

}  // namespace rampart::gateway::upstream::testing
