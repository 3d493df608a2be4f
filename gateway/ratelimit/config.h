// Why: plain policy structs the gateway's YAML loader fills; validate()
// reports every error at once (config loading never throws).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rampart::gateway::ratelimit {

struct KeyPart {
  enum class Kind { kClientIp, kHeader, kCookie, kQuery, kRoute, kHost, kTlsSubject, kUnknown };
  Kind kind = Kind::kClientIp;
  std::string name;  // header/cookie/query name
  int ipv6Prefix = 64;
  int ipv4Prefix = 32;
};

struct Rate {
  uint64_t count = 0;
  std::chrono::milliseconds per{1000};
};

struct Policy {
  std::string name = "default";
  std::vector<KeyPart> key{KeyPart{}};
  Rate rate;
  uint64_t burst = 1;
  std::vector<std::string> exemptions;  // CIDRs
  bool headers = true;
};

// Returns every error found (empty = valid).
std::vector<std::string> validate(const Policy& p);

}  // namespace rampart::gateway::ratelimit
