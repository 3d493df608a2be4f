#include "gateway/ratelimit/local_limiter.h"

#include <algorithm>

namespace rampart::gateway::ratelimit {

LocalLimiter::LocalLimiter(const Policy& policy, size_t maxKeys, Clock clock)
    : interval_(std::chrono::duration_cast<std::chrono::nanoseconds>(policy.rate.per).count() /
                int64_t(std::max<uint64_t>(policy.rate.count, 1))),
      tolerance_(interval_ * int64_t(std::max<uint64_t>(policy.burst, 1) - 1)),
      perShardCap_(std::max<size_t>(maxKeys / kShards, 1)),
      clock_(std::move(clock)) {}

int64_t LocalLimiter::now() const {
  if (clock_) return clock_().count();
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

size_t LocalLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.map.size();
  }
  return n;
}

size_t LocalLimiter::expireIdle() {
  const int64_t t = now();
  size_t dropped = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto it = s.map.begin(); it != s.map.end();) {
      if (it->second.tat <= t) {
        s.order.erase(it->second.lru);
        it = s.map.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  expired_.fetch_add(dropped, std::memory_order_relaxed);
  return dropped;
}

Decision LocalLimiter::decide(std::string_view key, const DelayOptions& delay) {
  const int64_t t = now();
  Shard& s = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lk(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) {
    if (s.map.size() >= perShardCap_) {  // evict least recently used
      s.map.erase(s.order.front());
      s.order.pop_front();
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    s.order.emplace_back(key);
    it = s.map.emplace(std::string(key), Entry{t, std::prev(s.order.end())}).first;
  } else {
    s.order.splice(s.order.end(), s.order, it->second.lru);
  }
  Decision d;
  const int64_t tat = std::max(it->second.tat, t);
  const int64_t newTat = tat + interval_;
  const int64_t allowAt = newTat - interval_ - tolerance_;
  if (t < allowAt && delay.enabled) {
    const int64_t wait = allowAt - t;
    const uint64_t queued = uint64_t((wait + interval_ - 1) / interval_);  // incl. this one
    if (wait <= delay.maxDelay.count() && queued <= delay.maxQueued) {
      it->second.tat = newTat;
      d.allowed = true;
      d.delay = std::chrono::nanoseconds(wait);
      d.reset = std::chrono::nanoseconds(newTat - t);
      delayed_.fetch_add(1, std::memory_order_relaxed);
      return d;
    }
  }
  if (t < allowAt) {
    d.allowed = false;
    d.retryAfter = std::chrono::nanoseconds(allowAt - t);
    d.reset = std::chrono::nanoseconds(tat - t);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return d;
  }
  it->second.tat = newTat;
  d.allowed = true;
  const int64_t slack = t + tolerance_ + interval_ - newTat;  // room left
  d.remaining = slack > 0 ? uint64_t(slack / interval_) : 0;
  d.reset = std::chrono::nanoseconds(newTat - t);
  allowed_.fetch_add(1, std::memory_order_relaxed);
  return d;
}

}  // namespace rampart::gateway::ratelimit
