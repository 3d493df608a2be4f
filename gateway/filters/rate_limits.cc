#include "gateway/filters/rate_limits.h"

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

#include "gateway/http/headers.h"
#include "gateway/ratelimit/client_key.h"
#include "gateway/ratelimit/headers.h"

namespace rampart::gateway::filters {

namespace {

using ratelimit::KeyPart;

bool samePolicy(const config::RateLimitPolicy& a, const config::RateLimitPolicy& b) {
  const auto& p = a.policy;
  const auto& q = b.policy;
  if (p.rate.count != q.rate.count || p.rate.per != q.rate.per || p.burst != q.burst || a.max_keys != b.max_keys ||
      p.key.size() != q.key.size())
    return false;
  for (size_t i = 0; i < p.key.size(); ++i)
    if (p.key[i].kind != q.key[i].kind || p.key[i].name != q.key[i].name ||
        p.key[i].ipv4Prefix != q.key[i].ipv4Prefix || p.key[i].ipv6Prefix != q.key[i].ipv6Prefix)
      return false;
  return true;
}

std::string_view cookieValue(const http::RequestHead& req, std::string_view name) {
  for (const auto& h : req.headers) {
    if (!http::iequals(h.name, "Cookie")) continue;
    std::string_view v = h.value;
    size_t pos = 0;
    while (pos < v.size()) {
      size_t semi = v.find(';', pos);
      if (semi == std::string_view::npos) semi = v.size();
      auto kv = http::trimOws(v.substr(pos, semi - pos));
      auto eq = kv.find('=');
      if (eq != std::string_view::npos && kv.substr(0, eq) == name) return kv.substr(eq + 1);
      pos = semi + 1;
    }
  }
  return {};
}

std::string_view queryValue(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view qs = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= qs.size()) {
    size_t amp = qs.find('&', pos);
    if (amp == std::string_view::npos) amp = qs.size();
    auto kv = qs.substr(pos, amp - pos);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view("") : kv.substr(eq + 1);
    pos = amp + 1;
  }
  return {};
}

}  // namespace

std::string clientAddress(const http::RequestHead& req, std::string_view peer_ip,
                          const std::vector<ratelimit::Cidr>& trusted) {
  if (trusted.empty()) return std::string(peer_ip);
  boost::system::error_code ec;
  auto peer = boost::asio::ip::make_address(peer_ip, ec);
  if (ec) return std::string(peer_ip);
  std::vector<std::string_view> xff;
  for (const auto& h : req.headers)
    if (http::iequals(h.name, "X-Forwarded-For")) xff.push_back(h.value);
  return ratelimit::resolveClientAddress(peer, xff, trusted).to_string();
}

void RateLimiters::build(const config::Config& cfg, const RateLimiters* previous, RateLimiters& out) {
  out.policies.clear();
  for (const auto& rl : cfg.rate_limits) {
    Policy p;
    p.cfg = &rl;
    ratelimit::GlobalOptions gopt;
    if (rl.global) {
      gopt.replicas = std::max<uint32_t>(cfg.redis.replicas, 1);
      gopt.fail_open = rl.fail_open;
      gopt.sync_interval = cfg.redis.settings.sync_interval;
      gopt.timeout = cfg.redis.settings.timeout;
      gopt.max_keys = rl.max_keys;
    }
    if (previous)
      for (const auto& old : previous->policies) {
        if (old.cfg->policy.name != rl.policy.name || !samePolicy(*old.cfg, rl) || old.cfg->global != rl.global) continue;
        if (!rl.global) {
          p.limiter = old.limiter;
        } else if (old.strict && rl.strict) {
          const auto& o = old.strict->options();
          if (o.replicas == gopt.replicas && o.fail_open == gopt.fail_open) p.strict = old.strict;
        } else if (old.global && !rl.strict) {
          const auto& o = old.global->options();
          if (o.replicas == gopt.replicas && o.fail_open == gopt.fail_open && o.sync_interval == gopt.sync_interval &&
              o.timeout == gopt.timeout)
            p.global = old.global;
        }
      }
    if (rl.global && rl.strict) {
      if (!p.strict) p.strict = std::make_shared<ratelimit::StrictLimiter>(rl.policy, gopt);
    } else if (rl.global) {
      if (!p.global) p.global = std::make_shared<ratelimit::GlobalLimiter>(rl.policy, gopt);
    } else if (!p.limiter) {
      p.limiter = std::make_shared<ratelimit::LocalLimiter>(rl.policy, rl.max_keys);
    }
    for (const auto& c : rl.policy.exemptions)
      if (auto cidr = ratelimit::parseCidr(c)) p.exempt.push_back(*cidr);
    auto window = std::chrono::duration_cast<std::chrono::seconds>(rl.policy.rate.per);
    p.policy_header = ratelimit::rateLimitPolicyValue(rl.policy.name, rl.policy.rate.count,
                                                      std::max(window, std::chrono::seconds(1)));
    out.policies.push_back(std::move(p));
  }
  auto index = [&](const std::string& name) -> size_t {
    for (size_t i = 0; i < cfg.rate_limits.size(); ++i)
      if (cfg.rate_limits[i].policy.name == name) return i;
    return SIZE_MAX;  // (the config loader rejects unknown names)
  };
  out.listener.clear();
  for (const auto& l : cfg.listeners) {
    auto& row = out.listener.emplace_back();
    for (auto& n : l.rate_limits)
      if (auto i = index(n); i != SIZE_MAX) row.push_back(i);
  }
  out.route.clear();
  for (const auto& r : cfg.routes) {
    auto& row = out.route.emplace_back();
    for (auto& n : r.rate_limits)
      if (auto i = index(n); i != SIZE_MAX) row.push_back(i);
  }
  out.trusted.clear();
  for (const auto& c : cfg.trusted_proxies)
    if (auto cidr = ratelimit::parseCidr(c)) out.trusted.push_back(*cidr);
  out.bans.clear();
  for (const auto& b : cfg.bans) {
    std::shared_ptr<ratelimit::BanList> list;
    if (previous)
      for (const auto& old : previous->bans)
        if (old->policy() == b.policy) list = old;  // its bans and counts carry over
    out.bans.push_back(list ? list : std::make_shared<ratelimit::BanList>(b.policy));
  }
  out.listener_bans.clear();
  for (const auto& l : cfg.listeners) {
    auto& row = out.listener_bans.emplace_back();
    for (const auto& n : l.bans)
      for (size_t i = 0; i < cfg.bans.size(); ++i)
        if (cfg.bans[i].policy.name == n) row.push_back(i);
  }
}

std::string RateLimiters::banKey(std::string_view client) {
  if (auto k = ratelimit::clientIpKey(client, 32, 64)) return *k;
  return std::string(client);
}

bool RateLimiters::applies(size_t listener_index, const config::Route* route, size_t route_index) const {
  return (listener_index < listener.size() && !listener[listener_index].empty()) ||
         (route && route_index < this->route.size() && !this->route[route_index].empty());
}

std::chrono::milliseconds RateLimiters::banned(size_t listener_index, std::string_view key,
                                               const ratelimit::BanList** by) const {
  if (listener_index >= listener_bans.size()) return std::chrono::milliseconds(0);
  for (size_t i : listener_bans[listener_index]) {
    auto left = bans[i]->bannedFor(key);
    if (left.count() > 0) {
      if (by) *by = bans[i].get();
      return left;
    }
  }
  return std::chrono::milliseconds(0);
}

void RateLimiters::offence(size_t listener_index, std::string_view key, bool waf_block, bool rate_limited) const {
  if (listener_index >= listener_bans.size()) return;
  for (size_t i : listener_bans[listener_index]) {
    const auto& p = bans[i]->policy();
    if ((waf_block && p.on_waf) || (rate_limited && p.on_rate_limit)) {
      if (bans[i]->offence(key))
        spdlog::warn("ban '{}': {} banned for {} s after {} offences", p.name, key, p.duration.count() / 1000,
                     p.threshold);
    }
  }
}

void RateLimiters::expireIdle() const {
  for (const auto& b : bans) b->expire();
  for (const auto& p : policies) {
    if (p.limiter) p.limiter->expireIdle();
    if (p.global) p.global->expireIdle();
    if (p.strict) p.strict->expireIdle();
  }
}

std::vector<std::shared_ptr<ratelimit::GlobalLimiter>> RateLimiters::globals() const {
  std::vector<std::shared_ptr<ratelimit::GlobalLimiter>> out;
  for (const auto& p : policies)
    if (p.global) out.push_back(p.global);
  return out;
}

std::vector<std::shared_ptr<ratelimit::BanList>> RateLimiters::globalBans() const {
  std::vector<std::shared_ptr<ratelimit::BanList>> out;
  for (const auto& b : bans)
    if (b->policy().global) out.push_back(b);
  return out;
}

RateLimiters::Result RateLimiters::check(size_t listener_index, const config::Route* route, size_t route_index,
                                         const http::RequestHead& req, std::string_view client, std::string_view tls_subject) const {
  Result res;
  if (!applies(listener_index, route, route_index)) return res;
  const std::vector<size_t>* lists[2] = {listener_index < listener.size() ? &listener[listener_index] : nullptr,
                                         route && route_index < this->route.size() ? &this->route[route_index] : nullptr};
  boost::system::error_code ec;
  const auto client_addr = boost::asio::ip::make_address(client, ec);
  std::string key;
  for (const auto* list : lists) {
    if (!list) continue;
    for (size_t i : *list) {
      const Policy& p = policies[i];
      if (!ec) {
        bool exempt = false;
        for (const auto& c : p.exempt) exempt = exempt || ratelimit::cidrContains(c, client_addr);
        if (exempt) continue;
      }
      // The key: its parts joined; a request that lacks a part (no API key header...) is
      // not counted by this policy.
      key.clear();
      bool complete = true;
      for (const auto& part : p.cfg->policy.key) {
        std::string_view v;
        std::string ipkey;
        switch (part.kind) {
          case KeyPart::Kind::kClientIp:
            if (auto k = ratelimit::clientIpKey(client, part.ipv4Prefix, part.ipv6Prefix)) ipkey = *k;
            else ipkey = client;
            v = ipkey;
            break;
          case KeyPart::Kind::kHeader:
            if (auto* h = req.find(part.name)) v = h->value;
            break;
          case KeyPart::Kind::kCookie: v = cookieValue(req, part.name); break;
          case KeyPart::Kind::kQuery: v = queryValue(req.target, part.name); break;
          case KeyPart::Kind::kRoute: v = route ? std::string_view(route->name) : std::string_view("-"); break;
          case KeyPart::Kind::kHost: v = req.host; break;
          case KeyPart::Kind::kTlsSubject: v = tls_subject; break;  // verified client certificate, else none
          default: break;
        }
        if (v.empty()) {
          complete = false;
          break;
        }
        key.append(v).push_back('\x1f');
      }
      if (!complete) continue;
      if (p.strict) {
        res.strict.emplace_back(&p, key);  // decided by the caller, in Redis
        continue;
      }
      ratelimit::DelayOptions delay;
      if (p.cfg->delay) {
        delay.enabled = true;
        delay.maxQueued = p.cfg->delay_max_queued;
        delay.maxDelay = p.cfg->delay_max;
      }
      auto d = p.global ? p.global->decide(key).decision : p.limiter->decide(key, delay);
      if (d.delay > res.delay) res.delay = d.delay;
      if (!d.allowed) {
        res.rejected_by = &p;
        res.decision = d;
        return res;
      }
      res.decision = d;
      if (p.cfg->policy.headers && (!res.closest || d.remaining < res.closest_decision.remaining)) {
        res.closest = &p;
        res.closest_decision = d;
      }
    }
  }
  return res;
}

}  // namespace rampart::gateway::filters
