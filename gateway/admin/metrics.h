// Counters for /metrics. Every worker owns its WorkerMetrics and is its only
// writer (plain load+store on relaxed atomics: no locked instruction on the
// hot path); the admin thread reads them all and sums at scrape time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rampart::gateway::admin {

// Reasons a TLS handshake with a client failed, as /metrics labels them.
inline constexpr std::array<const char*, 7> kTlsFailureReasons = {
    "timeout", "eof", "protocol_version", "no_shared_cipher", "client_certificate", "http_on_tls_port", "other"};

struct Counter {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// Latency buckets in seconds (upper bounds), Prometheus style; the last is +Inf.
inline constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1,     2.5,   5,     10};

struct RouteMetrics {
  std::array<Counter, 6> by_class;  // index 1..5 = 1xx..5xx, 0 = other
  std::array<Counter, kLatencyBuckets.size() + 1> latency;  // non-cumulative counts per bucket
  Counter latency_sum_us;
  // WAF (zero where the route has no WAF).
  Counter waf_inspected;      // transactions run through the engine
  Counter waf_blocked;        // disruptive verdicts that took effect
  Counter waf_detected;       // detect mode: verdicts that block mode would have taken
  Counter waf_errors;         // engine errors (by fail mode: passed or answered 500)
  Counter waf_shadow_differs; // live and shadow rule sets disagreed on blocking
  Counter waf_time_ns;        // time spent in the engine (phases 1-5), in nanoseconds
  void observe(uint16_t status, double seconds);
};

struct WorkerMetrics {
  Counter connections_accepted;
  Counter connections_active;
  Counter requests_active;
  Counter bytes_in;
  Counter bytes_out;
  Counter parse_errors;
  Counter upstream_connect_failures;
  Counter upstream_retries;
  Counter upstream_retry_budget_exhausted;
  Counter no_healthy_upstream;
  Counter tls_handshakes;          // completed
  Counter tls_resumed;             // of them, resumed sessions
  Counter tls_handshake_failures;
  // The same by reason (kTlsFailureReasons order).
  std::array<Counter, 7> tls_failure_reasons;
  Counter upstream_tls_handshakes;  // TLS to backends: completed
  Counter upstream_tls_resumed;     // of them, resumed sessions
  Counter upstream_tls_failures;    // failed (verification, protocol, timeout)
  Counter ratelimit_delayed;       // requests a delay policy held back before admitting
  // The WAF's value memo (waf/match/value_memo.h), live rule sets' transactions:
  // values gathered for phase scans and of them known to match nothing there;
  // scans, and of them skipped (every value known); remembered rules' tests,
  // and of them passed over; requests' header sets looked up, and of them
  // found; requests looked up as a set (line and headers), and of them found.
  Counter waf_memo_scan_values, waf_memo_scan_values_known, waf_memo_scans, waf_memo_scans_skipped,
      waf_memo_scans_sieved;
  Counter waf_memo_rule_tests, waf_memo_rule_tests_known;
  Counter waf_memo_header_sets, waf_memo_header_sets_known;
  Counter waf_memo_request_sets, waf_memo_request_sets_known, waf_memo_request_phases_replayed;

  // Route name -> metrics. Only the owner worker inserts (under mu, rare); the
  // admin thread iterates under mu; the worker's own lookups need no lock.
  RouteMetrics& route(const std::string& name);
  std::mutex mu;
  std::map<std::string, std::unique_ptr<RouteMetrics>> routes;
};

}  // namespace rampart::gateway::admin
