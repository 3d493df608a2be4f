#include "gateway/ratelimit/strict_limiter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rampart::gateway::ratelimit {

namespace {

// KEYS: the current window's counter, the previous one's. ARGV: the limit, the
// previous window's weight (1 - elapsed share), the TTL in ms. Admits and
// counts when the estimate plus this request stays within the limit.
constexpr const char* kScript = R"lua(
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
if prev * tonumber(ARGV[2]) + cur + 1 > tonumber(ARGV[1]) then return {0, cur, prev} end
cur = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, cur, prev}
)lua";

}  // namespace

StrictLimiter::StrictLimiter(const Policy& policy, GlobalOptions options, WallClock clock)
    : policy_(policy),
      options_(options),
      clock_(std::move(clock)),
      period_ms_(std::max<int64_t>(1, policy.rate.per.count())),
      limit_(std::max<uint64_t>(1, policy.rate.count)),
      fallback_(replicaShare(policy, options.replicas), options.max_keys) {}

int64_t StrictLimiter::nowMs() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StrictLimiter::Call StrictLimiter::command(std::string_view prefix, std::string_view key) const {
  Call c;
  c.now_ms = nowMs();
  const int64_t window = c.now_ms / period_ms_;
  const double weight = 1.0 - double(c.now_ms % period_ms_) / double(period_ms_);
  c.args = {"EVAL",
            kScript,
            "2",
            fmt::format("{}:{}:{}:{}", prefix, policy_.name, window, key),
            fmt::format("{}:{}:{}:{}", prefix, policy_.name, window - 1, key),
            std::to_string(limit_),
            fmt::format("{:.6f}", weight),
            std::to_string(3 * period_ms_)};
  return c;
}

Decision StrictLimiter::decide(const Call& call, const std::vector<long long>& reply) {
  Decision d;
  const int64_t elapsed = call.now_ms % period_ms_;
  const int64_t to_end = period_ms_ - elapsed;
  const double cur = reply.size() > 1 ? double(std::max<long long>(0, reply[1])) : 0;
  const double prev = reply.size() > 2 ? double(std::max<long long>(0, reply[2])) : 0;
  const double weight = 1.0 - double(elapsed) / double(period_ms_);
  const double est = prev * weight + cur;  // after this request when admitted
  d.allowed = !reply.empty() && reply[0] == 1;
  d.reset = std::chrono::milliseconds(to_end);
  if (d.allowed) {
    d.remaining = uint64_t(std::max(0.0, std::floor(double(limit_) - est)));
    allowed_.fetch_add(1, std::memory_order_relaxed);
    return d;
  }
  // Rejected: when does prev * w(t) + cur + 1 <= limit hold again? Within this
  // window only if the previous window's share can fall far enough.
  int64_t wait = to_end;
  if (cur + 1 <= double(limit_) && prev > 0) {
    const double w_needed = (double(limit_) - cur - 1) / prev;  // weight at which it fits
    const double t = (1.0 - w_needed) * double(period_ms_) - double(elapsed);
    wait = std::clamp<int64_t>(int64_t(std::ceil(t)), 1, to_end);
  }
  d.retryAfter = std::chrono::milliseconds(wait);
  rejected_.fetch_add(1, std::memory_order_relaxed);
  return d;
}

Decision StrictLimiter::fallback(std::string_view key) {
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  Decision d = redisFallback(fallback_, options_.fail_open, key);
  (d.allowed ? allowed_ : rejected_).fetch_add(1, std::memory_order_relaxed);
  return d;
}

}  // namespace rampart::gateway::ratelimit
