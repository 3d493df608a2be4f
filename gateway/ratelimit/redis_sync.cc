#include "gateway/ratelimit/redis_sync.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <random>

#include "gateway/core/thread_name.h"

namespace rampart::gateway::ratelimit {

namespace {

// KEYS: pairs (current window's key, previous window's key); ARGV[1]: TTL in
// ms; then per pair: own admissions to add to each. Returns per pair the two
// fleet totals.
constexpr const char* kScript = R"lua(
local ttl = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS, 2 do
  local totals = {}
  for j = 0, 1 do
    local k = KEYS[i + j]
    local add = tonumber(ARGV[i + j + 1])
    local v
    if add > 0 then
      v = redis.call('INCRBY', k, add)
      redis.call('PEXPIRE', k, ttl)
    else
      v = tonumber(redis.call('GET', k) or '0')
    end
    out[#out + 1] = v
  end
end
return out
)lua";

// Bans of one policy, a sorted set of client keys scored by the Unix ms their
// ban ends. KEYS[1]: the set; ARGV[1]: now (ms); ARGV[2]: TTL of the set (ms);
// then pairs (key, until) of bans started here. Returns the bans in force
// fleet-wide as a flat list key, until, ...
constexpr const char* kBanScript = R"lua(
local now = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  local till = tonumber(ARGV[i + 1])
  local cur = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]) or '0')
  if till > cur then redis.call('ZADD', KEYS[1], till, ARGV[i]) end
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
)lua";

constexpr size_t kBatch = 500;  // keys per EVAL

timeval toTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = long(d.count() / 1000);
  tv.tv_usec = long(d.count() % 1000) * 1000;
  return tv;
}

struct Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r) freeReplyObject(r);
  }
};

}  // namespace

RedisSync::RedisSync()
    : thread_([this] {
        nameThisThread("redis-sync");
        run();
      }) {}

RedisSync::~RedisSync() {
  {
    std::lock_guard g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  disconnect();
}

void RedisSync::configure(const RedisSettings& settings, std::vector<std::shared_ptr<GlobalLimiter>> limiters,
                          std::vector<std::shared_ptr<BanList>> bans) {
  {
    std::lock_guard g(mu_);
    settings_ = settings;
    limiters_ = std::move(limiters);
    bans_ = std::move(bans);
    ++generation_;
  }
  cv_.notify_all();
}

void RedisSync::disconnect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  up_ = false;
}

void RedisSync::logError(const RedisSettings& s, const std::string& error) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  auto now = std::chrono::steady_clock::now();
  if (now - last_log_ < std::chrono::seconds(10)) return;
  last_log_ = now;
  spdlog::warn("redis {}:{}: {}; global rate limits fall back (fail open or closed, per policy) until it answers",
               s.host, s.port, error);
}

bool RedisSync::connect(const RedisSettings& s, std::string* error) {
  disconnect();
  ctx_ = redisConnectWithTimeout(s.host.c_str(), s.port, toTimeval(s.timeout));
  if (!ctx_ || ctx_->err) {
    *error = ctx_ ? std::string("cannot connect: ") + ctx_->errstr : "cannot allocate a connection";
    disconnect();
    return false;
  }
  redisSetTimeout(ctx_, toTimeval(s.timeout));
  auto command = [&](std::vector<std::string> args) -> bool {
    Reply rep{call(args, error)};
    return rep.r != nullptr;
  };
  if (!s.password.empty() && !command({"AUTH", s.password})) {
    disconnect();
    return false;
  }
  if (s.db != 0 && !command({"SELECT", std::to_string(s.db)})) {
    disconnect();
    return false;
  }
  spdlog::info("redis {}:{}: connected (global rate limits and bans)", s.host, s.port);
  return true;
}

redisReply* RedisSync::call(const std::vector<std::string>& args, std::string* error) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto& a : args) argv.push_back(a.data()), lens.push_back(a.size());
  auto* r = static_cast<redisReply*>(redisCommandArgv(ctx_, int(argv.size()), argv.data(), lens.data()));
  commands_.fetch_add(1, std::memory_order_relaxed);
  if (!r) {
    *error = std::string("connection lost: ") + ctx_->errstr;
    return nullptr;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    *error = fmt::format("{} refused: {}", args[0], std::string(r->str, r->len));
    freeReplyObject(r);
    return nullptr;
  }
  return r;
}

bool RedisSync::syncBans(const RedisSettings& s, BanList& bans, std::string* error) {
  auto fresh = bans.takeNew();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<std::string> args = {"EVAL", kBanScript, "1",
                                   fmt::format("{}:ban:{}", s.key_prefix, bans.policy().name), std::to_string(now),
                                   std::to_string(2 * bans.policy().duration.count())};
  args.reserve(args.size() + 2 * fresh.size());
  for (auto& [key, until] : fresh) {
    args.push_back(std::move(key));
    args.push_back(std::to_string(until));
  }
  Reply rep{call(args, error)};
  if (!rep.r) {
    // Published on the next sync that works.
    for (size_t i = 6; i + 1 < args.size(); i += 2) bans.requeue(args[i], std::stoll(args[i + 1]));
    return false;
  }
  if (rep.r->type != REDIS_REPLY_ARRAY || rep.r->elements % 2) {
    *error = "unexpected reply to the ban EVAL";
    return false;
  }
  for (size_t i = 0; i + 1 < rep.r->elements; i += 2) {
    const redisReply* k = rep.r->element[i];
    const redisReply* v = rep.r->element[i + 1];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
    bans.addRemote(std::string_view(k->str, k->len), std::strtoll(v->str, nullptr, 10));
  }
  return true;
}

bool RedisSync::syncOne(const RedisSettings& s, GlobalLimiter& limiter, std::string* error) {
  auto items = limiter.collect();
  const std::string ttl = std::to_string(3 * limiter.periodMs());
  const std::string prefix = fmt::format("{}:{}:", s.key_prefix, limiter.policy().name);
  for (size_t at = 0; at < items.size(); at += kBatch) {
    const size_t n = std::min(kBatch, items.size() - at);
    std::vector<std::string> args;
    args.reserve(3 + 4 * n);
    args.push_back("EVAL");
    args.push_back(kScript);
    args.push_back(std::to_string(2 * n));
    for (size_t i = 0; i < n; ++i) {
      const auto& it = items[at + i];
      args.push_back(prefix + std::to_string(it.window) + ":" + it.key);
      args.push_back(prefix + std::to_string(it.window - 1) + ":" + it.key);
    }
    args.push_back(ttl);
    for (size_t i = 0; i < n; ++i) {
      args.push_back(std::to_string(items[at + i].add_cur));
      args.push_back(std::to_string(items[at + i].add_prev));
    }
    Reply rep{call(args, error)};
    if (!rep.r) return false;
    if (rep.r->type != REDIS_REPLY_ARRAY || rep.r->elements != 2 * n) {
      *error = "unexpected reply to EVAL";
      return false;
    }
    for (size_t i = 0; i < n; ++i) {
      auto val = [&](size_t k) -> uint64_t {
        const redisReply* e = rep.r->element[k];
        return e->type == REDIS_REPLY_INTEGER && e->integer > 0 ? uint64_t(e->integer) : 0;
      };
      limiter.apply(items[at + i], val(2 * i), val(2 * i + 1));
    }
  }
  return true;
}

void RedisSync::run() {
  std::mt19937_64 rng(std::random_device{}());
  std::chrono::milliseconds backoff{100};
  auto next_connect = std::chrono::steady_clock::now();
  RedisSettings connected_to;
  for (;;) {
    RedisSettings s;
    std::vector<std::shared_ptr<GlobalLimiter>> limiters;
    std::vector<std::shared_ptr<BanList>> bans;
    {
      std::unique_lock lk(mu_);
      if (stop_) return;
      if (limiters_.empty() && bans_.empty()) {
        cv_.wait(lk, [&] { return stop_ || !limiters_.empty() || !bans_.empty(); });
        if (stop_) return;
      }
      s = settings_;
      limiters = limiters_;
      bans = bans_;
    }
    const auto start = std::chrono::steady_clock::now();
    std::string error;
    bool ok = true;
    if (ctx_ && !(connected_to == s)) disconnect();
    if (!ctx_) {
      if (start < next_connect) {
        ok = false;
      } else if (!connect(s, &error)) {
        logError(s, error);
        ok = false;
        // Exponential backoff with jitter: 100 ms doubling to 5 s, +-25%.
        std::uniform_real_distribution<double> jitter(0.75, 1.25);
        next_connect = start + std::chrono::milliseconds(int64_t(double(backoff.count()) * jitter(rng)));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      } else {
        connected_to = s;
        backoff = std::chrono::milliseconds(100);
      }
    }
    if (ok) {
      const uint64_t sent = commands_.load(std::memory_order_relaxed);
      for (auto& l : limiters) {
        if (!syncOne(s, *l, &error)) {
          ok = false;
          break;
        }
      }
      for (auto& b : bans) {
        if (ok && !syncBans(s, *b, &error)) ok = false;
      }
      if (ok && commands_.load(std::memory_order_relaxed) == sent) {
        // Nothing to send: a PING keeps the view fresh (Redis is there).
        Reply rep{static_cast<redisReply*>(redisCommand(ctx_, "PING"))};
        commands_.fetch_add(1, std::memory_order_relaxed);
        if (!rep.r || rep.r->type == REDIS_REPLY_ERROR) {
          error = rep.r ? "PING refused" : std::string("connection lost: ") + ctx_->errstr;
          ok = false;
        }
      }
      if (!ok) {
        logError(s, error);
        // A refused command leaves the connection usable; a lost one is dropped.
        if (!ctx_ || ctx_->err) disconnect();
        up_ = false;
      } else {
        for (auto& l : limiters) l->markSynced();
        up_ = true;
        syncs_.fetch_add(1, std::memory_order_relaxed);
        sync_us_.fetch_add(
            uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
                         .count()),
            std::memory_order_relaxed);
      }
    }
    std::unique_lock lk(mu_);
    cv_.wait_until(lk, start + s.sync_interval, [&] { return stop_; });
  }
}

}  // namespace rampart::gateway::ratelimit
