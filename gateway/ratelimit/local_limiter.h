// Why: exact per-instance limits. One table per gateway instance shared by
// all workers; it is split into 64 shards by key hash, each with its own
// mutex, so workers only contend when two requests hash to the same shard
// at the same moment (critical section is a few arithmetic operations).
// State per key is the GCRA theoretical arrival time (TAT); memory is
// bounded by a per-shard cap with oldest-first eviction.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/ratelimit/config.h"

namespace rampart::gateway::ratelimit {

using Clock = std::function<std::chrono::nanoseconds()>;  // monotonic "now"

// Lets the key tables be searched with a string_view (no copy per request).
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Decision {
  bool allowed = false;
  std::chrono::nanoseconds retryAfter{0};  // 0 when allowed
  uint64_t remaining = 0;                  // requests still admitted now
  std::chrono::nanoseconds reset{0};       // until the bucket is full again
  std::chrono::nanoseconds delay{0};       // allowed after the caller waits this long
};

// nginx limit_req "delay": a request over the burst is admitted late rather
// than rejected if at most maxQueued requests wait and it waits <= maxDelay.
struct DelayOptions {
  bool enabled = false;
  uint64_t maxQueued = 0;
  std::chrono::nanoseconds maxDelay{0};
};

class LocalLimiter {
 public:
  static constexpr size_t kShards = 64;
  LocalLimiter(const Policy& policy, size_t maxKeys, Clock clock = {});

  // Thread-safe; never blocks on I/O. With delay, the caller sleeps
  // Decision::delay (on its own timer) before forwarding.
  Decision decide(std::string_view key, const DelayOptions& delay = {});
  uint64_t delayedCount() const { return delayed_.load(std::memory_order_relaxed); }
  size_t size() const;
  // Keys evicted because the table was at its cap (oldest first).
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  // Drops keys whose bucket is full again (TAT <= now): forgetting them
  // changes no decision. Call from a periodic timer; returns keys dropped.
  size_t expireIdle();
  uint64_t expiredCount() const { return expired_.load(std::memory_order_relaxed); }
  uint64_t allowedCount() const { return allowed_.load(std::memory_order_relaxed); }
  uint64_t rejectedCount() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    int64_t tat;
    std::list<std::string>::iterator lru;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map;  // found by string_view
    std::list<std::string> order;  // front = least recently used
  };
  int64_t now() const;

  int64_t interval_;   // ns per token
  int64_t tolerance_;  // interval * (burst - 1)
  size_t perShardCap_;
  Clock clock_;
  Shard shards_[kShards];
  std::atomic<uint64_t> evictions_{0}, allowed_{0}, rejected_{0}, delayed_{0}, expired_{0};
};

}  // namespace rampart::gateway::ratelimit
