// Why: the one place that talks to Redis for global rate limits, off the
// request path. A thread of its own wakes every sync interval and, for each
// global policy, sends the keys' unsent counts and reads back the fleet's
// totals in one EVAL (a Lua script doing INCRBY/PEXPIRE/GET for up to 500 keys),
// so Redis sees (policies x 1000 / sync_interval_ms) commands per second
// whatever the request rate. The thread uses hiredis' blocking API with a
// timeout: it blocks only itself. Connection errors close the connection and
// reconnect with exponential backoff (100 ms doubling to 5 s, with jitter);
// while Redis is away the limiters fall back (fail open or closed) on their
// own once their last sync is too old. Errors are logged at most every 10 s.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/ratelimit/ban_list.h"
#include "gateway/ratelimit/global_limiter.h"

struct redisContext;
struct redisReply;

namespace rampart::gateway::ratelimit {

struct RedisSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string password;
  uint32_t db = 0;
  std::chrono::milliseconds timeout{250};
  std::chrono::milliseconds sync_interval{100};
  std::string key_prefix = "rampart:rl";
  bool operator==(const RedisSettings&) const = default;
};

class RedisSync {
 public:
  RedisSync();
  ~RedisSync();  // stops and joins the thread
  RedisSync(const RedisSync&) = delete;
  RedisSync& operator=(const RedisSync&) = delete;

  // The limiters to keep in sync and where; called at start and on reload
  // (main thread). An empty list parks the thread.
  void configure(const RedisSettings& settings, std::vector<std::shared_ptr<GlobalLimiter>> limiters,
                 std::vector<std::shared_ptr<BanList>> bans = {});

  bool up() const { return up_.load(std::memory_order_relaxed); }
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t commands() const { return commands_.load(std::memory_order_relaxed); }
  // Sum of sync round-trip times, microseconds (with syncs(): the mean).
  uint64_t syncMicros() const { return sync_us_.load(std::memory_order_relaxed); }

 private:
  void run();
  bool connect(const RedisSettings& s, std::string* error);
  bool syncOne(const RedisSettings& s, GlobalLimiter& limiter, std::string* error);
  bool syncBans(const RedisSettings& s, BanList& bans, std::string* error);
  redisReply* call(const std::vector<std::string>& args, std::string* error);
  void disconnect();
  void logError(const RedisSettings& s, const std::string& error);

  std::mutex mu_;
  std::condition_variable cv_;
  RedisSettings settings_;
  std::vector<std::shared_ptr<GlobalLimiter>> limiters_;
  std::vector<std::shared_ptr<BanList>> bans_;
  uint64_t generation_ = 0;
  bool stop_ = false;

  redisContext* ctx_ = nullptr;  // sync thread only
  std::chrono::steady_clock::time_point last_log_{};
  std::atomic<bool> up_{false};
  std::atomic<uint64_t> syncs_{0}, errors_{0}, commands_{0}, sync_us_{0};
  std::thread thread_;
};

}  // namespace rampart::gateway::ratelimit
