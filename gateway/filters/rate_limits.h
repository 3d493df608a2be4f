// Rate limiting as the request path sees it: the configured policies, each
// with one LocalLimiter per gateway instance shared by all workers (the limiter
// shards its table by key, so workers contend only on one shard's mutex for a
// few arithmetic operations; see gateway/ratelimit/local_limiter.h), the
// policies that apply per listener and per route, and the trusted proxies
// whose X-Forwarded-For names the client.
//
// Built with the Runtime; a limiter whose policy (rate, burst, key, max_keys)
// is unchanged by a reload is carried over with its state, so a reload does
// not hand every client a fresh burst.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/http/parser.h"
#include "gateway/ratelimit/client_address.h"
#include "gateway/ratelimit/ban_list.h"
#include "gateway/ratelimit/global_limiter.h"
#include "gateway/ratelimit/local_limiter.h"
#include "gateway/ratelimit/strict_limiter.h"

namespace rampart::gateway::filters {

struct RateLimiters {
  struct Policy {
    const config::RateLimitPolicy* cfg = nullptr;
    std::shared_ptr<ratelimit::LocalLimiter> limiter;   // scope: local
    std::shared_ptr<ratelimit::GlobalLimiter> global;   // scope: global (limiter unused)
    std::shared_ptr<ratelimit::StrictLimiter> strict;   // scope: global, strict: true (decided per request in Redis)
    std::vector<ratelimit::Cidr> exempt;
    std::string policy_header;  // RateLimit-Policy value
  };
  std::vector<Policy> policies;             // as config.rate_limits
  std::vector<std::vector<size_t>> listener;  // [listener] -> policies
  std::vector<std::vector<size_t>> route;     // [route] -> policies (on top of the listener's)
  std::vector<ratelimit::Cidr> trusted;
  std::vector<std::shared_ptr<ratelimit::BanList>> bans;  // as config.bans
  std::vector<std::vector<size_t>> listener_bans;          // [listener] -> bans

  // The key bans count by: the client address (clientAddress()), IPv6 by /64.
  static std::string banKey(std::string_view client);
  bool hasBans(size_t listener_index) const {
    return listener_index < listener_bans.size() && !listener_bans[listener_index].empty();
  }
  // Whether any policy applies to (listener, route): only then does check() need the client.
  bool applies(size_t listener_index, const config::Route* route, size_t route_index) const;
  // How long `key` is still banned on this listener (0: not banned), and by which ban.
  std::chrono::milliseconds banned(size_t listener_index, std::string_view key,
                                   const ratelimit::BanList** by = nullptr) const;
  // Counts an offence by `key` for the listener's bans that count it.
  void offence(size_t listener_index, std::string_view key, bool waf_block, bool rate_limited) const;

  static void build(const config::Config& cfg, const RateLimiters* previous, RateLimiters& out);
  void expireIdle() const;
  std::vector<std::shared_ptr<ratelimit::GlobalLimiter>> globals() const;
  std::vector<std::shared_ptr<ratelimit::BanList>> globalBans() const;

  struct Result {
    const Policy* rejected_by = nullptr;  // null: admitted
    ratelimit::Decision decision;
    // Admitted: the policy (with headers on) that has the fewest requests left, for the
    // RateLimit-Policy / RateLimit headers of the response; null when none applied.
    const Policy* closest = nullptr;
    ratelimit::Decision closest_decision;
    std::chrono::nanoseconds delay{0};  // admitted late: wait this long first (delay policies)
    // Strict global policies that applied, with their keys: the caller asks
    // Redis for each (in order) unless a policy above rejected already.
    std::vector<std::pair<const Policy*, std::string>> strict;
  };
  // Decides every policy of (listener, route) for this request; stops at the first that
  // rejects. client: clientAddress() of the request (resolved once for limits and bans).
  Result check(size_t listener_index, const config::Route* route, size_t route_index, const http::RequestHead& req,
               std::string_view client, std::string_view tls_subject = {}) const;
};

// The client address: the peer, or when the peer is a trusted proxy the first
// untrusted address of X-Forwarded-For read right to left.
std::string clientAddress(const http::RequestHead& req, std::string_view peer_ip,
                          const std::vector<ratelimit::Cidr>& trusted);

}  // namespace rampart::gateway::filters
