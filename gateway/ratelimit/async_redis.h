// Why: strict global limits ask Redis on the request path, so the call must
// not block the worker: one hiredis async connection per worker, driven by the
// worker's own io_context (an Asio adapter for hiredis' event hooks), with a
// timeout per call that hiredis 0.14 does not have.
//
// A call that times out drops the connection (its replies would come too late
// for anyone) and the next connect waits out a backoff (100 ms doubling to
// 5 s, with jitter); while it waits, calls fail at once, so a dead or hung
// Redis costs a request at most one timeout, and then nothing. AUTH and
// SELECT go first on every connection, pipelined with the first command.
// Single-threaded: everything runs on the worker's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gateway/ratelimit/redis_sync.h"

struct redisAsyncContext;

namespace rampart::gateway::ratelimit {

class AsyncRedis {
 public:
  explicit AsyncRedis(boost::asio::any_io_executor ex);
  ~AsyncRedis();
  AsyncRedis(const AsyncRedis&) = delete;
  AsyncRedis& operator=(const AsyncRedis&) = delete;

  // A reply reduced to what the callers need: integers (an integer reply, or an
  // array of integers) or an error.
  struct Reply {
    bool ok = false;
    std::vector<long long> ints;
    std::string error;  // !ok: why (connect failed, timeout, refused...)
  };
  // One command, answered within settings.timeout. Settings that differ from
  // the connection's reconnect first.
  boost::asio::awaitable<Reply> call(const RedisSettings& settings, std::vector<std::string> args);

  uint64_t commands() const { return commands_; }
  uint64_t timeouts() const { return timeouts_; }

 private:
  struct Pending;
  bool ensureConnected(const RedisSettings& s, std::string* error);
  void drop(bool backoff);
  static void onConnect(const redisAsyncContext* ac, int status);
  static void onDisconnect(const redisAsyncContext* ac, int status);
  static void onReply(redisAsyncContext* ac, void* reply, void* privdata);

  boost::asio::any_io_executor ex_;
  redisAsyncContext* ac_ = nullptr;
  RedisSettings settings_;
  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_{100};
  std::mt19937_64 rng_{std::random_device{}()};
  uint64_t commands_ = 0, timeouts_ = 0;
};

}  // namespace rampart::gateway::ratelimit
