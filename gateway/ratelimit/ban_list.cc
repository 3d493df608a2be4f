#include "gateway/ratelimit/ban_list.h"

#include <algorithm>
#include <utility>

namespace rampart::gateway::ratelimit {

BanList::BanList(BanPolicy policy, WallClock clock)
    : policy_(std::move(policy)),
      clock_(std::move(clock)),
      per_shard_cap_(std::max<size_t>(policy_.max_keys / kShards, 1)) {}

int64_t BanList::nowMs() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

BanList::Entry& BanList::entry(Shard& s, std::string_view key, int64_t now) {
  auto it = s.map.find(key);
  if (it != s.map.end()) return it->second;
  if (s.map.size() >= per_shard_cap_) {
    // The entry that matters least: not banned, or nearest the end of its ban.
    auto victim = std::min_element(s.map.begin(), s.map.end(), [&](const auto& a, const auto& b) {
      const int64_t ea = std::max(a.second.until, a.second.window_start + policy_.window.count());
      const int64_t eb = std::max(b.second.until, b.second.window_start + policy_.window.count());
      return ea < eb;
    });
    s.map.erase(victim);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  Entry e;
  e.window_start = now;
  return s.map.emplace(std::string(key), e).first->second;
}

std::chrono::milliseconds BanList::bannedFor(std::string_view key) {
  const int64_t now = nowMs();
  Shard& s = shard(key);
  std::lock_guard lk(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end() || it->second.until <= now) return std::chrono::milliseconds(0);
  rejected_.fetch_add(1, std::memory_order_relaxed);
  return std::chrono::milliseconds(it->second.until - now);
}

bool BanList::offence(std::string_view key) {
  const int64_t now = nowMs();
  Shard& s = shard(key);
  int64_t until = 0;
  {
    std::lock_guard lk(s.mu);
    Entry& e = entry(s, key, now);
    if (e.until > now) return false;  // already banned
    if (now - e.window_start > policy_.window.count()) {
      e.window_start = now;
      e.count = 0;
    }
    if (++e.count < policy_.threshold) return false;
    e.count = 0;
    e.window_start = now;
    e.until = until = now + policy_.duration.count();
  }
  started_.fetch_add(1, std::memory_order_relaxed);
  if (policy_.global) {
    std::lock_guard g(new_mu_);
    if (new_.size() < policy_.max_keys) new_.emplace_back(std::string(key), until);
  }
  return true;
}

std::vector<std::pair<std::string, int64_t>> BanList::takeNew() {
  std::lock_guard g(new_mu_);
  return std::exchange(new_, {});
}

void BanList::requeue(std::string key, int64_t until_ms) {
  if (until_ms <= nowMs()) return;
  std::lock_guard g(new_mu_);
  if (new_.size() < policy_.max_keys) new_.emplace_back(std::move(key), until_ms);
}

void BanList::addRemote(std::string_view key, int64_t until_ms) {
  const int64_t now = nowMs();
  if (until_ms <= now) return;
  Shard& s = shard(key);
  std::lock_guard lk(s.mu);
  Entry& e = entry(s, key, now);
  e.until = std::max(e.until, until_ms);
}

void BanList::expire() {
  const int64_t now = nowMs();
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    std::erase_if(s.map, [&](const auto& kv) {
      return kv.second.until <= now && now - kv.second.window_start > policy_.window.count();
    });
  }
}

size_t BanList::active() const {
  const int64_t now = nowMs();
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (const auto& [k, e] : s.map) n += e.until > now;
  }
  return n;
}

}  // namespace rampart::gateway::ratelimit
