// Why: a client that keeps tripping the WAF (or a rate limit) is shut out for
// a while instead of being inspected again and again (fail2ban at the edge).
//
// Offences are counted per client key in a fixed window that starts at the
// first offence; `threshold` offences within `window` ban the key for
// `duration`. The table is sharded like the rate limiters (64 shards, a mutex
// each, a few operations under it) and capped at max_keys (the entry nearest
// its end is evicted first; evictions are counted). With `global`, a ban
// started here is published through Redis by the sync thread and bans started
// by other instances are fetched every sync interval (one EVAL per policy), so
// the fleet shuts the client out within one sync interval.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/ratelimit/local_limiter.h"

namespace rampart::gateway::ratelimit {

struct BanPolicy {
  std::string name;
  bool on_waf = true;          // a WAF block is an offence
  bool on_rate_limit = false;  // a rate-limit rejection is an offence
  uint32_t threshold = 5;
  std::chrono::milliseconds window{60000};
  std::chrono::milliseconds duration{600000};
  size_t max_keys = 100000;
  bool global = false;
  bool operator==(const BanPolicy&) const = default;
};

class BanList {
 public:
  using WallClock = std::function<int64_t()>;  // Unix time, ms
  explicit BanList(BanPolicy policy, WallClock clock = {});

  // Request path. Banned: the time left, else 0.
  std::chrono::milliseconds bannedFor(std::string_view key);
  // An offence by `key`; true when it starts a ban.
  bool offence(std::string_view key);

  // Sync thread (global): bans started here since the last call (key, until),
  // and bans known fleet-wide.
  std::vector<std::pair<std::string, int64_t>> takeNew();
  void addRemote(std::string_view key, int64_t until_ms);
  // A ban takeNew() gave out that could not be published: tried again next sync.
  void requeue(std::string key, int64_t until_ms);
  void expire();

  const BanPolicy& policy() const { return policy_; }
  uint64_t bansStarted() const { return started_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  size_t active() const;

 private:
  struct Entry {
    int64_t window_start = 0;
    uint32_t count = 0;
    int64_t until = 0;  // banned until (Unix ms); 0: not banned
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map;
  };
  int64_t nowMs() const;
  Shard& shard(std::string_view key) { return shards_[std::hash<std::string_view>{}(key) % kShards]; }
  Entry& entry(Shard& s, std::string_view key, int64_t now);

  BanPolicy policy_;
  WallClock clock_;
  size_t per_shard_cap_;
  std::mutex new_mu_;
  std::vector<std::pair<std::string, int64_t>> new_;
  std::atomic<uint64_t> started_{0}, rejected_{0}, evictions_{0};
  static constexpr size_t kShards = 64;
  Shard shards_[kShards];
};

}  // namespace rampart::gateway::ratelimit
