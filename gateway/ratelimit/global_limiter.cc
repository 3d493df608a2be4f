#include "gateway/ratelimit/global_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace rampart::gateway::ratelimit {

Policy replicaShare(const Policy& p, uint32_t replicas) {
  Policy f = p;
  f.rate.count = std::max<uint64_t>(1, p.rate.count / std::max<uint32_t>(replicas, 1));
  return f;
}

Decision redisFallback(LocalLimiter& share, bool fail_open, std::string_view key) {
  if (fail_open) return share.decide(key);
  Decision d;
  d.allowed = false;
  d.retryAfter = std::chrono::seconds(1);
  return d;
}

GlobalLimiter::GlobalLimiter(const Policy& policy, GlobalOptions options, WallClock clock)
    : policy_(policy),
      options_(options),
      clock_(std::move(clock)),
      period_ms_(std::max<int64_t>(1, policy.rate.per.count())),
      limit_(std::max<uint64_t>(1, policy.rate.count)),
      per_shard_cap_(std::max<size_t>(options.max_keys / kShards, 1)),
      fallback_(replicaShare(policy, options.replicas), options.max_keys) {
  last_sync_ms_ = nowMs();  // healthy until Redis has had its chance to answer
}

int64_t GlobalLimiter::nowMs() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void GlobalLimiter::roll(Entry& e, int64_t window) {
  // Seen totals to `window`.
  if (window != e.seen_window) {
    if (window == e.seen_window + 1) {
      e.seen_prev = e.seen_cur;
    } else {
      e.seen_prev = 0;
    }
    e.seen_cur = 0;
    e.seen_window = window;
  }
  // Unsent admissions to `window` (those of older windows no longer matter).
  if (window != e.pend_window) {
    e.pend_prev = window == e.pend_window + 1 ? e.pend_cur : 0;
    e.pend_cur = 0;
    e.pend_window = window;
  }
}

bool GlobalLimiter::healthy() const {
  const int64_t grace = 2 * options_.sync_interval.count() + options_.timeout.count();
  return nowMs() - last_sync_ms_.load(std::memory_order_relaxed) <= grace;
}

void GlobalLimiter::markSynced() { last_sync_ms_.store(nowMs(), std::memory_order_relaxed); }

GlobalLimiter::Result GlobalLimiter::decide(std::string_view key) {
  Result r;
  if (!healthy()) {
    fallbacks_.fetch_add(1, std::memory_order_relaxed);
    r.fallback = true;
    r.decision = redisFallback(fallback_, options_.fail_open, key);
    (r.decision.allowed ? allowed_ : rejected_).fetch_add(1, std::memory_order_relaxed);
    return r;
  }
  const int64_t now = nowMs();
  const int64_t window = now / period_ms_;
  const double elapsed = double(now % period_ms_) / double(period_ms_);
  Shard& s = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lk(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) {
    if (s.map.size() >= per_shard_cap_) {  // the least recently used goes
      auto victim = std::min_element(s.map.begin(), s.map.end(), [](const auto& a, const auto& b) {
        return a.second.last_used_ms < b.second.last_used_ms;
      });
      s.map.erase(victim);
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    Entry e;
    e.seen_window = e.pend_window = window;
    it = s.map.emplace(std::string(key), e).first;
  }
  Entry& e = it->second;
  roll(e, window);
  e.last_used_ms = now;
  // What the fleet had used when last seen, and with our unsent admissions.
  const double seen = double(e.seen_prev) * (1.0 - elapsed) + double(e.seen_cur);
  const double estimate = double(e.seen_prev + e.pend_prev) * (1.0 - elapsed) + double(e.seen_cur + e.pend_cur);
  const double left = double(limit_) - seen;
  const double share = left > 0 ? std::ceil(left / double(std::max<uint32_t>(options_.replicas, 1))) : 0.0;
  const bool ok = double(e.since_sync) + 1.0 <= share && estimate + 1.0 <= double(limit_) + 1e-9;
  r.decision.allowed = ok;
  const double after = estimate + (ok ? 1.0 : 0.0);
  r.decision.remaining = after >= double(limit_) ? 0 : uint64_t(double(limit_) - after);
  r.decision.reset = std::chrono::milliseconds(period_ms_ - now % period_ms_);
  if (ok) {
    ++e.pend_cur;
    ++e.since_sync;
    allowed_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // Until the next sync (a new share) or, when the window is spent, until
    // enough of the previous window has slid out.
    int64_t wait = options_.sync_interval.count();
    if (estimate + 1.0 > double(limit_)) {
      const double over = estimate + 1.0 - double(limit_);
      const double prev = double(e.seen_prev + e.pend_prev);
      wait = prev > 0 ? int64_t(std::ceil(over / prev * double(period_ms_))) : period_ms_ - now % period_ms_;
      wait = std::clamp<int64_t>(wait, options_.sync_interval.count(), period_ms_);
    }
    r.decision.retryAfter = std::chrono::milliseconds(wait);
    rejected_.fetch_add(1, std::memory_order_relaxed);
  }
  return r;
}

std::vector<GlobalLimiter::Item> GlobalLimiter::collect() {
  std::vector<Item> out;
  const int64_t now = nowMs();
  const int64_t window = now / period_ms_;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto& [key, e] : s.map) {
      roll(e, window);
      if (e.pend_cur == 0 && e.pend_prev == 0 && now - e.last_used_ms > period_ms_) continue;
      out.push_back(Item{key, window, e.pend_cur, e.pend_prev});
    }
  }
  return out;
}

void GlobalLimiter::apply(const Item& item, uint64_t cur_total, uint64_t prev_total) {
  Shard& s = shards_[std::hash<std::string_view>{}(item.key) % kShards];
  std::lock_guard lk(s.mu);
  auto it = s.map.find(item.key);
  if (it == s.map.end()) return;  // evicted meanwhile
  Entry& e = it->second;
  // What was sent is in Redis now: take it off the unsent counts of its window.
  if (e.pend_window == item.window) {
    e.pend_cur -= std::min(e.pend_cur, item.add_cur);
    e.pend_prev -= std::min(e.pend_prev, item.add_prev);
  } else if (e.pend_window == item.window + 1) {
    e.pend_prev -= std::min(e.pend_prev, item.add_cur);
  }
  if (e.seen_window <= item.window) {
    e.seen_window = item.window;
    e.seen_cur = cur_total;
    e.seen_prev = prev_total;
  } else if (e.seen_window == item.window + 1) {
    e.seen_prev = std::max(e.seen_prev, cur_total);
  }
  e.since_sync = 0;  // a new share from the fresh view
}

void GlobalLimiter::expireIdle() {
  const int64_t now = nowMs();
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto it = s.map.begin(); it != s.map.end();) {
      const Entry& e = it->second;
      if (e.pend_cur == 0 && e.pend_prev == 0 && now - e.last_used_ms > 2 * period_ms_)
        it = s.map.erase(it);
      else
        ++it;
    }
  }
  fallback_.expireIdle();
}

size_t GlobalLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace rampart::gateway::ratelimit
