// The gateway's configuration: plain data read from YAML (docs/config.md).
//
// load() reports every error it finds with file, line and column; a Config is
// only produced when there are none. A loaded Config is immutable and shared
// (std::shared_ptr<const Config>) by everything built from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/location.h"
#include "gateway/config/waf_config.h"
#include "gateway/ratelimit/config.h"
#include "gateway/ratelimit/ban_list.h"
#include "gateway/ratelimit/redis_sync.h"
#include "gateway/sinks/config.h"
#include "gateway/upstream/config.h"
#include "tls/server_context.h"

namespace re2 {
class RE2;
}

namespace rampart::gateway::config {

using Duration = std::chrono::milliseconds;

struct Error {
  Location loc;
  std::string message;
};
std::string format(const Error& e);  // "file:line:column: error: message"

struct Limits {
  uint64_t max_request_line = 8192;
  uint64_t max_header_bytes = 65536;
  uint64_t max_headers = 100;
  uint64_t max_body = 100ull << 20;  // 0 = unlimited
  uint64_t max_connections = 10000;
};

struct Timeouts {
  Duration client_header{10000};
  Duration client_body{60000};
  Duration keepalive{75000};
  Duration drain{30000};
};

struct ListenAddress {
  std::string text;  // as configured
  std::string host;  // IP literal
  uint16_t port = 0;
};

// A named rate-limit policy (docs/config.md, "rate_limits"): one limiter per
// gateway instance, shared by every worker and every listener or route naming it.
struct RateLimitPolicy {
  ratelimit::Policy policy;
  uint64_t max_keys = 100000;  // keys tracked; the least recently used are evicted beyond it
  // nginx limit_req's delay: a request over the burst waits (up to max_delay, with at
  // most max_queued waiting per key) instead of being rejected.
  bool delay = false;
  uint64_t delay_max_queued = 0;
  Duration delay_max = Duration(0);
  // scope: global: one limit for every instance sharing `redis` (see
  // gateway/ratelimit/global_limiter.h); when Redis is out, fail open (a local
  // limit of rate / redis.replicas) or closed (reject).
  bool global = false;
  bool fail_open = true;
  // strict: true (global only): every request is checked and counted in Redis
  // before it is admitted (gateway/ratelimit/strict_limiter.h).
  bool strict = false;
  Location loc;
};

// Where global rate limits are counted (docs/config.md, "redis").
struct RedisConfig {
  bool enabled = false;
  ratelimit::RedisSettings settings;
  uint32_t replicas = 0;  // expected instances sharing the limits
  Location loc;
};

struct Listener {
  std::string name;
  std::vector<ListenAddress> listen;
  Limits limits;
  WafAttach waf;
  std::vector<std::string> rate_limits;  // policy names, applied to every request here
  std::vector<std::string> bans;         // ban policy names (clients shut out after repeated offences)
  std::optional<tls::ServerSettings> tls;  // set: the listener terminates TLS
  // Every request here is answered 308 to the same host and target over https
  // (on https_port; 443 is left out of the URL).
  bool redirect_https = false;
  uint16_t https_port = 443;
  // PROXY protocol (v1 or v2) expected first on every connection; only peers in
  // these CIDRs may send it, others are closed. Empty: not expected.
  std::vector<std::string> proxy_protocol_trusted;
  Location loc;
};

struct HeaderMatch {
  enum class Kind { Exact, Regex, Present, Absent };
  std::string name;
  Kind kind = Kind::Present;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;
};

struct PathMatch {
  enum class Kind { Any, Exact, Prefix, Regex };
  Kind kind = Kind::Any;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;
};

struct HeaderOps {
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
  bool empty() const { return add.empty() && remove.empty(); }
};

struct RetryPolicy {
  uint32_t attempts = 0;
  bool on_connect_failure = false;
  bool on_reset = false;
  std::vector<uint16_t> statuses;
  uint32_t budget_percent = 20;
};

struct RouteTimeouts {
  Duration connect{2000};
  Duration first_byte{30000};
  Duration idle{60000};
};

struct DirectResponse {
  uint16_t status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

struct Route {
  std::string name;
  Location loc;
  std::vector<std::string> listeners;  // empty = all
  std::vector<std::string> hosts;      // empty = any; "*.example.com" = wildcard
  PathMatch path;
  std::vector<std::string> methods;    // empty = any
  std::vector<HeaderMatch> headers;
  // The verified TLS client certificate's subject (RFC 2253), on a listener with
  // client_certificates: present / absent / exact / regex (name unused).
  std::optional<HeaderMatch> client_certificate;
  std::string client_fingerprint;  // match.client_certificate.fingerprint: SHA-256, lower-case hex
  std::optional<DirectResponse> direct;
  std::string pool;
  size_t pool_index = 0;               // index into Config::pools when pool is set
  std::optional<std::string> rewrite_prefix;
  RouteTimeouts timeouts;
  RetryPolicy retry;
  HeaderOps request_headers;
  HeaderOps response_headers;
  WafAttach waf;
  std::vector<std::string> rate_limits;  // policy names, on top of the listener's
  std::string hsts;  // Strict-Transport-Security value on TLS responses; empty: none
};

struct Log {
  std::string level = "info";
  std::string format = "text";
  bool access_enabled = true;
  std::string access_path = "stderr";
};

struct Admin {
  bool enabled = false;
  ListenAddress listen;
};

struct Config {
  std::string path;       // the file it was read from
  unsigned workers = 0;   // resolved: never 0
  // busy_poll_us: a worker out of events polls again for this long before it
  // sleeps in epoll_wait (0: it sleeps at once). Keeps the CPU from idling
  // between requests: lower latency where idle CPUs wake slowly or lose
  // their caches (virtual machines), at the cost of that CPU time.
  uint32_t busy_poll_us = 0;
  Log log;
  Admin admin;
  Limits limits;
  Timeouts timeouts;
  std::vector<Listener> listeners;
  std::vector<Route> routes;
  std::vector<upstream::PoolConfig> pools;
  Waf waf;
  std::vector<RateLimitPolicy> rate_limits;
  // X-Forwarded-For is believed (for the client address of rate limits and logs)
  // only from peers in these CIDRs.
  std::vector<std::string> trusted_proxies;
  RedisConfig redis;
  struct Ban {
    ratelimit::BanPolicy policy;
    Location loc;
  };
  std::vector<Ban> bans;
  // Object-store sinks of the access log and WAF events (docs/config.md "sinks").
  std::vector<sinks::SinkConfig> sinks;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<Error> errors;
};

LoadResult loadFile(const std::string& path);
LoadResult loadString(const std::string& text, const std::string& name);

// Parses "250ms", "5s", "2m", "1h" or a bare number of seconds; false when invalid.
bool parseDuration(std::string_view s, Duration& out);
// Parses "512", "64KiB", "10MiB", "1GiB", "10KB"; false when invalid.
bool parseSize(std::string_view s, uint64_t& out);
// "127.0.0.1:8080", "[::1]:8080", "*:8080" -> host (IP literal) and port; false when invalid.
bool parseListenAddress(std::string_view s, ListenAddress& out, std::string* why);

// The effective configuration as JSON for the admin /config page (no secrets today;
// values that could hold secrets are redacted).
std::string toJson(const Config& c);

}  // namespace rampart::gateway::config
