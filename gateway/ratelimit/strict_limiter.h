// Why: a low global limit (logins per account, password resets) cannot afford
// the overshoot of the batched global limiter (global_limiter.h): every
// request is counted in Redis before it is admitted.
//
// The same sliding-window counters as the batched limiter (wall-clock windows
// of the rate's period, estimate = prev * (1 - elapsed share) + cur), checked
// and incremented atomically by one EVAL per request, sent by the worker's
// AsyncRedis on its own io_context: the request waits for that one call (at
// most redis.timeout), the worker does not. No overshoot: Redis decides. When
// Redis does not answer in time, the policy fails open (a local GCRA limit of
// rate / replicas) or closed (429), as configured.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/ratelimit/global_limiter.h"
#include "gateway/ratelimit/local_limiter.h"

namespace rampart::gateway::ratelimit {

class StrictLimiter {
 public:
  using WallClock = std::function<int64_t()>;  // Unix time, ms
  StrictLimiter(const Policy& policy, GlobalOptions options, WallClock clock = {});

  // The EVAL for one request by `key` (keys under `prefix`), and what its reply
  // ({admitted, cur, prev}) decides.
  struct Call {
    std::vector<std::string> args;
    int64_t now_ms = 0;
  };
  Call command(std::string_view prefix, std::string_view key) const;
  Decision decide(const Call& call, const std::vector<long long>& reply);
  // Redis did not answer: fail open or closed.
  Decision fallback(std::string_view key);

  const Policy& policy() const { return policy_; }
  const GlobalOptions& options() const { return options_; }
  uint64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }
  uint64_t allowedCount() const { return allowed_.load(std::memory_order_relaxed); }
  uint64_t rejectedCount() const { return rejected_.load(std::memory_order_relaxed); }
  size_t size() const { return fallback_.size(); }
  uint64_t evictions() const { return fallback_.evictions(); }
  void expireIdle() { fallback_.expireIdle(); }

 private:
  int64_t nowMs() const;

  Policy policy_;
  GlobalOptions options_;
  WallClock clock_;
  int64_t period_ms_;
  uint64_t limit_;
  LocalLimiter fallback_;
  std::atomic<uint64_t> fallbacks_{0}, allowed_{0}, rejected_{0};
};

}  // namespace rampart::gateway::ratelimit
