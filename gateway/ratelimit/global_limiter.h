// Why: a limit that holds for a fleet of gateways sharing one Redis, without a
// Redis round trip on the request path.
//
// Each instance decides locally from its last view of the fleet's counts and
// ships its own counts to Redis in batches (RedisSync, one thread per process,
// every sync interval). Counts are sliding-window counters: windows of the
// policy's period (wall-clock aligned, so every instance names the same Redis
// keys), the estimate being prev * (1 - elapsed share of the current window) +
// cur.
//
// Between two syncs an instance may spend at most its share of what it last
// saw left: ceil((limit - seen) / replicas), where `replicas` is the configured
// fleet size. So replicas that saw the same state spend at most what was left,
// plus one each from the rounding up; a replica's view lags the truth by at most
// one sync interval of every other replica's spending, which is at most one
// share each. The worst case in one window is therefore
//     limit + (replicas - 1) * (1 + ceil(limit / replicas))
// and it needs every replica to be saturated and their syncs staggered by just
// the wrong amount; with aligned views it is limit + replicas - 1. A lone busy
// replica converges on the whole limit geometrically (it spends 1/replicas of
// what is left per interval), so with 100 ms syncs it reaches 99.9% of a 1 s
// window's limit for replicas = 2. tests/integration/test_ratelimit_redis.py
// measures the total admitted by three instances.
//
// When Redis has not answered for 2 sync intervals plus the timeout, the
// policy fails open (a local GCRA limiter at limit / replicas with the
// policy's burst) or closed (every request rejected), as configured.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/ratelimit/local_limiter.h"

namespace rampart::gateway::ratelimit {

struct GlobalOptions {
  uint32_t replicas = 1;
  bool fail_open = true;
  std::chrono::milliseconds sync_interval{100};
  std::chrono::milliseconds timeout{250};
  size_t max_keys = 100000;
};

// The policy an instance applies alone when Redis is out (fail open): the
// rate divided among the replicas (at least 1).
Policy replicaShare(const Policy& p, uint32_t replicas);
// Redis out of reach: fail open (the instance's share, decided by `share`) or
// closed (rejected, retry in a second).
Decision redisFallback(LocalLimiter& share, bool fail_open, std::string_view key);

class GlobalLimiter {
 public:
  using WallClock = std::function<int64_t()>;  // Unix time, ms (tests inject one)
  GlobalLimiter(const Policy& policy, GlobalOptions options, WallClock clock = {});

  struct Result {
    Decision decision;
    bool fallback = false;  // Redis is out: decided by the fail-open/closed rule
  };
  // Request path: thread-safe, no I/O, one shard mutex.
  Result decide(std::string_view key);

  // --- the sync thread -----------------------------------------------------
  struct Item {
    std::string key;
    int64_t window = 0;      // the current window when taken
    uint64_t add_cur = 0;    // own admissions in `window` not yet in Redis
    uint64_t add_prev = 0;   // own admissions in window - 1 not yet in Redis
  };
  // Keys to send: those with unsent admissions or used within the last window
  // (their fleet totals are refreshed).
  std::vector<Item> collect();
  // Redis answered for `item`: fleet totals of its window and the one before.
  void apply(const Item& item, uint64_t cur_total, uint64_t prev_total);
  // Whether Redis answered recently; set by the sync thread.
  void markSynced();
  bool healthy() const;
  void expireIdle();

  const Policy& policy() const { return policy_; }
  const GlobalOptions& options() const { return options_; }
  int64_t periodMs() const { return period_ms_; }
  uint64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }
  uint64_t allowedCount() const { return allowed_.load(std::memory_order_relaxed); }
  uint64_t rejectedCount() const { return rejected_.load(std::memory_order_relaxed); }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  size_t size() const;

 private:
  struct Entry {
    int64_t seen_window = 0;  // window of the totals below
    uint64_t seen_cur = 0;    // fleet total of seen_window at the last sync (own sent ones included)
    uint64_t seen_prev = 0;   // fleet total of seen_window - 1
    int64_t pend_window = 0;  // window of pend_cur
    uint64_t pend_cur = 0;    // own admissions not yet sent, in pend_window
    uint64_t pend_prev = 0;   // ... in pend_window - 1
    uint64_t since_sync = 0;  // own admissions since the last sync (the share spent)
    int64_t last_used_ms = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map;  // found by string_view
  };
  int64_t nowMs() const;
  static void roll(Entry& e, int64_t window);

  Policy policy_;
  GlobalOptions options_;
  WallClock clock_;
  int64_t period_ms_;
  uint64_t limit_;
  size_t per_shard_cap_;
  LocalLimiter fallback_;  // fail open: limit / replicas, locally
  std::atomic<int64_t> last_sync_ms_{0};
  std::atomic<uint64_t> fallbacks_{0}, allowed_{0}, rejected_{0}, evictions_{0};
  static constexpr size_t kShards = 64;
  Shard shards_[kShards];
};

}  // namespace rampart::gateway::ratelimit
