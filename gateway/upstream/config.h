// Plain configuration of a backend pool, filled from YAML by gateway/config
// (see docs/config.md, "pools:") and consumed by gateway/upstream.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tls/client_context.h"

namespace rampart::gateway::upstream {

using Duration = std::chrono::milliseconds;

struct EndpointConfig {
  std::string address;   // as configured, "host:port"
  std::string host;      // host part (IP literal or name; names resolved at load)
  uint16_t port = 0;
  uint32_t weight = 1;   // >= 1
};

enum class LbPolicy { RoundRobin, LeastRequest, Hash };
enum class HashOn { ClientIp, Header, Cookie };

struct ActiveHealthConfig {
  bool enabled = false;              // true when health.active is present
  std::string path = "/healthz";
  std::string host;                  // Host header; empty = endpoint address
  Duration interval{5000};
  Duration timeout{1000};
  uint32_t healthy_threshold = 2;
  uint32_t unhealthy_threshold = 3;
  std::vector<std::pair<uint16_t, uint16_t>> expected_statuses{{200, 399}};  // inclusive ranges
};

struct PassiveHealthConfig {
  bool enabled = true;
  uint32_t consecutive_5xx = 5;                // 0 = off
  uint32_t consecutive_connect_failures = 3;   // 0 = off
  Duration base_ejection_time{30000};
  Duration max_ejection_time{300000};
  uint32_t max_ejected_percent = 50;
};

struct ConnectionLimits {
  uint32_t max_per_endpoint = 1024;     // per worker
  uint32_t max_idle_per_endpoint = 64;  // per worker
  Duration idle_timeout{60000};
};

struct PoolConfig {
  std::string name;
  std::vector<EndpointConfig> endpoints;
  LbPolicy lb = LbPolicy::RoundRobin;
  HashOn hash_on = HashOn::ClientIp;
  std::string hash_name;  // header or cookie name for HashOn::Header/Cookie
  ConnectionLimits connections;
  ActiveHealthConfig active;
  PassiveHealthConfig passive;
  std::optional<tls::ClientSettings> tls;  // set: requests (and health checks) go over TLS
  std::string location;                   // "file:line" of the pool, for messages
};

}  // namespace rampart::gateway::upstream
