// Backend pools: endpoint selection (weighted round robin, least request with
// power of two choices, Maglev consistent hashing), passive health (outlier
// ejection), active HTTP health checks and an Envoy-style retry budget.
//
// Why it looks like this: a Pool is shared by every worker thread and by the
// health-check thread. Everything a worker touches per request (pick, report,
// requestStarted/Finished) is lock-free: endpoint state is a handful of
// atomics, and the selection tables (round-robin schedule, Maglev table) are
// built once in Pool::create and never change. A reload builds a new Pool and
// carries the health state over with inheritState().
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gateway/upstream/config.h"

namespace rampart::gateway::upstream {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

namespace detail {
// Reads the clock at most once per call, and only when an endpoint has ever
// been ejected: most picks never need the time.
struct NowCache {
  const std::function<TimePoint()>* clock = nullptr;
  TimePoint t{};
  bool have = false;
  TimePoint get() {
    if (!have) {
      t = (clock && *clock) ? (*clock)() : Clock::now();
      have = true;
    }
    return t;
  }
};
}  // namespace detail

// A consistent snapshot of one endpoint's counters (each read atomically) for
// the admin page and statusJson().
struct EndpointStats {
  uint64_t requests = 0;       // outcomes reported (every attempt, retries included)
  uint64_t failures = 0;       // outcomes that were not a success (5xx, connect failure, reset, timeout)
  uint64_t ejections = 0;      // times passive health ejected the endpoint
  uint64_t health_flips = 0;   // active health transitions (healthy <-> unhealthy)
  uint32_t active_requests = 0;
  bool active_healthy = true;
  bool ejected = false;
  int64_t ejected_for_ms = 0;  // remaining ejection time, 0 when not ejected
};

// One backend address; shared by all workers; lock-free state.
class Endpoint {
 public:
  Endpoint(EndpointConfig config, boost::asio::ip::tcp::endpoint address, size_t index);
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointConfig& config() const { return config_; }
  const boost::asio::ip::tcp::endpoint& address() const { return address_; }  // resolved at Pool::create
  // Active-healthy and not ejected.
  bool available(TimePoint now) const { return activeHealthy() && !ejected(now); }
  bool activeHealthy() const { return active_healthy_.load(std::memory_order_relaxed); }
  bool ejected(TimePoint now) const;
  uint32_t activeRequests() const { return active_requests_.load(std::memory_order_relaxed); }
  size_t index() const { return index_; }  // position in the pool, for per-worker connection pools
  EndpointStats stats(TimePoint now) const;

 private:
  friend class Pool;
  friend class HealthChecker;

  bool usable(detail::NowCache& now) const {
    if (!activeHealthy()) return false;
    const int64_t until = ejected_until_ns_.load(std::memory_order_relaxed);
    return until == 0 || toNs(now.get()) >= until;
  }
  static int64_t toNs(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  EndpointConfig config_;
  boost::asio::ip::tcp::endpoint address_;
  size_t index_;

  // Hot (written per request by every worker): own cache line.
  alignas(64) std::atomic<uint32_t> active_requests_{0};
  std::atomic<uint32_t> consecutive_5xx_{0};
  std::atomic<uint32_t> consecutive_connect_failures_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failures_{0};

  // Read per pick, written rarely.
  alignas(64) std::atomic<bool> active_healthy_{true};
  std::atomic<int64_t> ejected_until_ns_{0};  // steady-clock ns; 0 = never ejected
  std::atomic<uint32_t> times_ejected_{0};    // drives the ejection duration (n * base)
  std::atomic<uint64_t> ejections_{0};
  std::atomic<uint64_t> health_flips_{0};
  // Written by the health-check thread only (atomic so a reload can copy them).
  std::atomic<uint32_t> check_passes_{0};
  std::atomic<uint32_t> check_failures_{0};
};

// What one attempt to an endpoint came to, for passive health. Report once per
// attempt (retries included). Status >= 500, Reset and Timeout extend the
// endpoint's consecutive-5xx streak (the gateway answers 502/504 for the last
// two); ConnectFailure extends the consecutive-connect-failure streak; Success
// and any status < 500 end both streaks.
struct Outcome {
  enum class Kind { Success, ConnectFailure, Reset, Timeout, Status } kind;
  uint16_t status = 0;  // for Kind::Status (any status; >= 500 counts as a 5xx failure)
};

class Pool {
 public:
  using ClockFn = std::function<TimePoint()>;

  // Validates the config and resolves endpoint names (blocking: call at load, not on a worker).
  // On error: nullptr and *error says why (without the pool name: the caller adds it).
  static std::shared_ptr<Pool> create(const PoolConfig& cfg, std::string* error);
  // Same, with an injected clock (tests). The clock is read at most once per pick/report, and
  // by pick() only when an endpoint of the pool has been ejected at some point.
  static std::shared_ptr<Pool> create(const PoolConfig& cfg, std::string* error, ClockFn clock);

  const PoolConfig& config() const { return config_; }
  // TLS towards the endpoints (config().tls), built with the pool; null: plain TCP.
  const std::shared_ptr<tls::ClientContext>& tls() const { return tls_; }
  const std::vector<std::unique_ptr<Endpoint>>& endpoints() const { return endpoints_; }

  // Picks an available endpoint for a request. hash_input: the client ip / header / cookie value
  // (per config.hash_on; empty when absent -> round robin). `exclude` (may be null) is an endpoint
  // to avoid on a retry when another is available (it is returned only when it is the sole
  // available endpoint). nullptr: none available (the gateway answers 503). Lock-free, no allocation.
  const Endpoint* pick(std::string_view hash_input, const Endpoint* exclude = nullptr);
  const Endpoint* pick(std::string_view hash_input, const Endpoint* exclude, TimePoint now);

  void requestStarted(const Endpoint&);   // least_request accounting: bracket every attempt
  void requestFinished(const Endpoint&);  // (never goes below 0)
  void report(const Endpoint&, Outcome o);  // passive health (outlier detection)
  void report(const Endpoint&, Outcome o, TimePoint now);

  std::string statusJson() const;         // for the admin /upstreams page
  void inheritState(const Pool& previous);  // reload: carry health/ejection state over (same address)

  // Forces the active-health flag (admin drain, tests); counts a flip when it changes.
  // The checker may flip it back on its next results.
  void setActiveHealthy(const Endpoint&, bool healthy);

  // Introspection (tests, admin).
  size_t maglevTableSize() const { return maglev_.size(); }
  size_t ejectedCount(TimePoint now) const;
  TimePoint now() const { return clock_ ? clock_() : Clock::now(); }

 private:
  Pool() = default;
  bool build(std::string* error);
  const Endpoint* pickWith(std::string_view hash_input, const Endpoint* exclude, detail::NowCache& now);
  const Endpoint* pickRoundRobin(const Endpoint* exclude, detail::NowCache& now);
  const Endpoint* pickLeastRequest(const Endpoint* exclude, detail::NowCache& now);
  const Endpoint* pickHash(std::string_view key, const Endpoint* exclude, detail::NowCache& now);
  const Endpoint* anyAvailable(size_t start, const Endpoint* exclude, detail::NowCache& now) const;
  void reportWith(const Endpoint& ep, Outcome o, detail::NowCache& now);
  void maybeEject(const Endpoint& ep, TimePoint now);

  PoolConfig config_;
  ClockFn clock_;
  std::shared_ptr<tls::ClientContext> tls_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::vector<uint32_t> rr_schedule_;      // smooth weighted round-robin order, endpoint indices
  alignas(64) std::atomic<uint64_t> rr_next_{0};
  std::vector<uint64_t> cumulative_weight_;  // least_request: weighted sampling
  uint64_t total_weight_ = 0;
  bool uniform_weights_ = true;             // least_request: sample without the binary search
  std::vector<uint32_t> maglev_;           // hash: Maglev lookup table, endpoint indices
  std::mutex eject_mutex_;                 // serialises ejection decisions only (never in pick)
};

// Envoy-style: retries allowed while active retries < max(min_concurrency,
// percent * active requests / 100). Shared by all workers (atomics only).
// Retries are not counted as requests: call requestStarted once per client request.
class RetryBudget {
 public:
  explicit RetryBudget(uint32_t percent, uint32_t min_concurrency = 3);
  void requestStarted();
  void requestFinished();
  bool tryStartRetry();  // true: the retry may go; call retryFinished() when it ends
  void retryFinished();
  uint32_t activeRequests() const { return active_requests_.load(std::memory_order_relaxed); }
  uint32_t activeRetries() const { return active_retries_.load(std::memory_order_relaxed); }

 private:
  uint32_t percent_;
  uint32_t min_concurrency_;
  std::atomic<uint32_t> active_requests_{0};
  std::atomic<uint32_t> active_retries_{0};
};

// Active HTTP checks, on its own thread and io_context (not on the workers).
class HealthChecker {
 public:
  HealthChecker();
  ~HealthChecker();  // stop()
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the checked set (reload). Pools without health.active are ignored.
  void start(std::vector<std::shared_ptr<Pool>> pools);
  void stop();
  // Set before start; called on the checker thread when an endpoint flips. The gateway logs with it.
  std::function<void(const Pool&, const Endpoint&, bool healthy)> on_change;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Strict reader of an HTTP/1.x status line at the start of `data`
// ("HTTP/1.1 200 OK\r\n"). Returns the status, 0 when incomplete, -1 when malformed.
int parseStatusLine(std::string_view data);

}  // namespace rampart::gateway::upstream
