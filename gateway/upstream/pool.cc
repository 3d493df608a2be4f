// Pool construction, endpoint selection and passive health.
//
// Selection tables are built once here and are read-only afterwards, so pick()
// is a few atomic loads plus, for round robin, one fetch_add:
// - round_robin: a smooth weighted round-robin schedule (nginx's algorithm,
//   run once over one full cycle) stepped by an atomic counter; a slot whose
//   endpoint is unavailable is consumed and the next one drawn.
// - least_request: power of two choices. Two distinct candidates are sampled
//   in proportion to weight; the one with the lower active/weight wins (ties go
//   to the first sample, so an idle pool is balanced by weight exactly).
// - hash: Maglev (Eisenbud et al., NSDI'16), weighted the way Envoy does it:
//   an endpoint of weight w fills w/max_weight slots per round. The table size
//   is a prime >= 100 * endpoints (65537 by default). An unavailable endpoint's
//   keys go to the next available entry of the table, so they spread over the
//   others and come back when it does.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <numeric>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "gateway/upstream/pool.h"

namespace rampart::gateway::upstream {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t hashBytes(std::string_view s, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed);  // FNV-1a, then a full-avalanche finaliser
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

bool isPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

uint64_t maglevSize(size_t endpoints) {
  uint64_t want = std::max<uint64_t>(65537, uint64_t{100} * endpoints);
  while (!isPrime(want)) ++want;
  return want;
}

// Per-thread xorshift64* for least_request sampling: no shared state on the hot path.
uint64_t nextRandom() {
  thread_local uint64_t state = mix64(reinterpret_cast<uintptr_t>(&state) ^
                                      static_cast<uint64_t>(Clock::now().time_since_epoch().count())) |
                                1;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

void jsonEscape(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

const char* lbName(LbPolicy p) {
  switch (p) {
    case LbPolicy::RoundRobin: return "round_robin";
    case LbPolicy::LeastRequest: return "least_request";
    case LbPolicy::Hash: return "hash";
  }
  return "?";
}

// "host:port" or "[v6]:port" -> host, port. False when malformed.
bool splitAddress(std::string_view a, std::string& host, uint16_t& port) {
  size_t colon = a.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= a.size()) return false;
  std::string_view h = a.substr(0, colon);
  std::string_view p = a.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535 || h.empty()) return false;
  host.assign(h);
  port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

// ---------------------------------------------------------------- Endpoint

Endpoint::Endpoint(EndpointConfig config, tcp::endpoint address, size_t index)
    : config_(std::move(config)), address_(address), index_(index) {}

bool Endpoint::ejected(TimePoint now) const {
  int64_t until = ejected_until_ns_.load(std::memory_order_relaxed);
  return until != 0 && toNs(now) < until;
}

EndpointStats Endpoint::stats(TimePoint now) const {
  EndpointStats s;
  s.requests = requests_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  s.ejections = ejections_.load(std::memory_order_relaxed);
  s.health_flips = health_flips_.load(std::memory_order_relaxed);
  s.active_requests = active_requests_.load(std::memory_order_relaxed);
  s.active_healthy = activeHealthy();
  int64_t until = ejected_until_ns_.load(std::memory_order_relaxed);
  int64_t n = toNs(now);
  s.ejected = until != 0 && n < until;
  s.ejected_for_ms = s.ejected ? (until - n) / 1000000 : 0;
  return s;
}

// ---------------------------------------------------------------- Pool: construction

std::shared_ptr<Pool> Pool::create(const PoolConfig& cfg, std::string* error) {
  return create(cfg, error, ClockFn{});
}

std::shared_ptr<Pool> Pool::create(const PoolConfig& cfg, std::string* error, ClockFn clock) {
  std::shared_ptr<Pool> pool(new Pool());
  pool->config_ = cfg;
  pool->clock_ = std::move(clock);
  std::string err;
  if (!pool->build(&err)) {
    if (error) *error = std::move(err);  // the caller names the pool (and the file)
    return nullptr;
  }
  return pool;
}

bool Pool::build(std::string* error) {
  const PoolConfig& c = config_;
  if (c.endpoints.empty()) {
    *error = "no endpoints";
    return false;
  }
  if (c.lb == LbPolicy::Hash && c.hash_on != HashOn::ClientIp && c.hash_name.empty()) {
    *error = "hash on header/cookie needs a name";
    return false;
  }
  if (c.active.enabled) {
    if (c.active.healthy_threshold == 0 || c.active.unhealthy_threshold == 0) {
      *error = "health.active thresholds must be >= 1";
      return false;
    }
    if (c.active.interval.count() <= 0 || c.active.timeout.count() <= 0) {
      *error = "health.active interval and timeout must be > 0";
      return false;
    }
    if (c.active.path.empty() || c.active.path.front() != '/') {
      *error = "health.active path must start with '/'";
      return false;
    }
    for (auto [lo, hi] : c.active.expected_statuses) {
      if (lo < 100 || hi > 599 || lo > hi) {
        *error = "health.active expected_statuses: bad range " + std::to_string(lo) + "-" + std::to_string(hi);
        return false;
      }
    }
  }
  if (c.passive.max_ejected_percent > 100) {
    *error = "max_ejected_percent must be <= 100";
    return false;
  }
  if (c.tls) {
    std::string err;
    tls_ = tls::ClientContext::create(*c.tls, &err);
    if (!tls_) {
      *error = "tls: " + err;
      return false;
    }
  }

  asio::io_context io;  // only for the resolver, at load time
  tcp::resolver resolver(io);
  for (size_t i = 0; i < c.endpoints.size(); ++i) {
    EndpointConfig e = c.endpoints[i];
    if (e.host.empty() && e.port == 0 && !splitAddress(e.address, e.host, e.port)) {
      *error = "endpoint '" + e.address + "': expected host:port";
      return false;
    }
    if (e.host.empty() || e.port == 0) {
      *error = "endpoint '" + e.address + "': missing host or port";
      return false;
    }
    if (e.weight == 0) {
      *error = "endpoint '" + e.address + "': weight must be >= 1";
      return false;
    }
    if (e.address.empty()) {
      e.address = (e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
    }
    boost::system::error_code ec;
    asio::ip::address ip = asio::ip::make_address(e.host, ec);
    tcp::endpoint addr;
    if (!ec) {
      addr = tcp::endpoint(ip, e.port);
    } else {
      auto results = resolver.resolve(e.host, std::to_string(e.port), ec);
      if (ec || results.empty()) {
        *error = "endpoint '" + e.address + "': cannot resolve '" + e.host + "': " +
                 (ec ? ec.message() : std::string("no address"));
        return false;
      }
      addr = results.begin()->endpoint();
      for (const auto& r : results) {  // prefer IPv4 (loopback backends usually listen there)
        if (r.endpoint().address().is_v4()) {
          addr = r.endpoint();
          break;
        }
      }
    }
    endpoints_.push_back(std::make_unique<Endpoint>(std::move(e), addr, i));
  }

  const size_t n = endpoints_.size();
  std::vector<uint64_t> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = endpoints_[i]->config().weight;

  // Round robin: one cycle of smooth weighted round robin. Weights are reduced
  // by their gcd and, if the cycle would be huge, scaled down (keeping >= 1).
  {
    std::vector<uint64_t> rw = w;
    uint64_t g = 0;
    for (uint64_t x : rw) g = std::gcd(g, x);
    for (uint64_t& x : rw) x /= g;
    uint64_t sum = std::accumulate(rw.begin(), rw.end(), uint64_t{0});
    constexpr uint64_t kMaxCycle = 1 << 16;
    if (sum > kMaxCycle) {
      uint64_t maxw = *std::max_element(rw.begin(), rw.end());
      for (uint64_t& x : rw) x = std::max<uint64_t>(1, x * (kMaxCycle / n) / maxw);
      sum = std::accumulate(rw.begin(), rw.end(), uint64_t{0});
    }
    std::vector<int64_t> current(n, 0);
    rr_schedule_.reserve(sum);
    for (uint64_t k = 0; k < sum; ++k) {
      size_t best = 0;
      for (size_t i = 0; i < n; ++i) {
        current[i] += static_cast<int64_t>(rw[i]);
        if (current[i] > current[best]) best = i;
      }
      current[best] -= static_cast<int64_t>(sum);
      rr_schedule_.push_back(static_cast<uint32_t>(best));
    }
  }

  // Least request: cumulative weights for weighted sampling.
  cumulative_weight_.resize(n);
  total_weight_ = 0;
  for (size_t i = 0; i < n; ++i) {
    total_weight_ += w[i];
    cumulative_weight_[i] = total_weight_;
    uniform_weights_ = uniform_weights_ && w[i] == w[0];
  }

  // Maglev table (hash only).
  if (c.lb == LbPolicy::Hash) {
    const uint64_t m = maglevSize(n);
    std::vector<uint64_t> offset(n), skip(n), next(n, 0);
    std::vector<double> credit(n, 0.0);
    const double maxw = static_cast<double>(*std::max_element(w.begin(), w.end()));
    for (size_t i = 0; i < n; ++i) {
      // The key is the configured address (plus its occurrence number for
      // duplicates), so removing one endpoint does not move the others' slots.
      size_t dup = 0;
      for (size_t j = 0; j < i; ++j) dup += endpoints_[j]->config().address == endpoints_[i]->config().address;
      std::string key = endpoints_[i]->config().address;
      if (dup) key += "#" + std::to_string(dup);
      offset[i] = hashBytes(key, 0x6d61676c) % m;
      skip[i] = hashBytes(key, 0x736b6970) % (m - 1) + 1;
    }
    maglev_.assign(m, UINT32_MAX);
    uint64_t filled = 0;
    while (filled < m) {
      for (size_t i = 0; i < n && filled < m; ++i) {
        credit[i] += static_cast<double>(w[i]) / maxw;
        if (credit[i] < 1.0) continue;
        credit[i] -= 1.0;
        uint64_t slot;
        do {
          slot = (offset[i] + next[i] * skip[i]) % m;
          ++next[i];
        } while (maglev_[slot] != UINT32_MAX);
        maglev_[slot] = static_cast<uint32_t>(i);
        ++filled;
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------- Pool: selection

const Endpoint* Pool::pick(std::string_view hash_input, const Endpoint* exclude) {
  detail::NowCache now{&clock_};
  return pickWith(hash_input, exclude, now);
}

const Endpoint* Pool::pick(std::string_view hash_input, const Endpoint* exclude, TimePoint t) {
  detail::NowCache now{&clock_, t, true};
  return pickWith(hash_input, exclude, now);
}

const Endpoint* Pool::pickWith(std::string_view hash_input, const Endpoint* exclude, detail::NowCache& now) {
  switch (config_.lb) {
    case LbPolicy::LeastRequest: return pickLeastRequest(exclude, now);
    case LbPolicy::Hash:
      if (!hash_input.empty()) return pickHash(hash_input, exclude, now);
      return pickRoundRobin(exclude, now);
    case LbPolicy::RoundRobin: break;
  }
  return pickRoundRobin(exclude, now);
}

// First available endpoint from `start` on (wrapping), avoiding `exclude` unless it is the only one.
const Endpoint* Pool::anyAvailable(size_t start, const Endpoint* exclude, detail::NowCache& now) const {
  const size_t n = endpoints_.size();
  for (size_t k = 0; k < n; ++k) {
    const Endpoint* e = endpoints_[(start + k) % n].get();
    if (e != exclude && e->usable(now)) return e;
  }
  return (exclude && exclude->usable(now)) ? exclude : nullptr;
}

const Endpoint* Pool::pickRoundRobin(const Endpoint* exclude, detail::NowCache& now) {
  const size_t len = rr_schedule_.size();
  // An unavailable slot is consumed and the next counter value is drawn, so the
  // remaining endpoints keep their weighted shares (walking on to the next slot
  // would hand the skipped share to whoever follows it in the schedule).
  // After a few misses, walk the schedule once (nearly everything is down).
  uint64_t pos = rr_next_.fetch_add(1, std::memory_order_relaxed);
  const size_t draws = std::min<size_t>(len, 16);
  for (size_t k = 0; k < draws; ++k) {
    const Endpoint* e = endpoints_[rr_schedule_[pos % len]].get();
    if (e != exclude && e->usable(now)) return e;
    if (k + 1 < draws) pos = rr_next_.fetch_add(1, std::memory_order_relaxed);
  }
  for (size_t k = 1; k < len; ++k) {
    const Endpoint* e = endpoints_[rr_schedule_[(pos + k) % len]].get();
    if (e != exclude && e->usable(now)) return e;
  }
  return (exclude && exclude->usable(now)) ? exclude : nullptr;
}

const Endpoint* Pool::pickLeastRequest(const Endpoint* exclude, detail::NowCache& now) {
  const size_t n = endpoints_.size();
  if (n == 1) return endpoints_[0]->usable(now) ? endpoints_[0].get() : nullptr;
  auto sample = [&]() -> const Endpoint* {
    if (uniform_weights_) return endpoints_[nextRandom() % n].get();
    uint64_t r = nextRandom() % total_weight_;
    size_t i = std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), r) - cumulative_weight_.begin();
    return endpoints_[i].get();
  };
  const Endpoint* a = nullptr;
  for (int t = 0; t < 4 && !a; ++t) {
    const Endpoint* e = sample();
    if (e != exclude && e->usable(now)) a = e;
  }
  if (!a) {
    a = anyAvailable(nextRandom() % n, exclude, now);
    if (!a || a == exclude) return a;
  }
  const Endpoint* b = nullptr;
  for (int t = 0; t < 4 && !b; ++t) {
    const Endpoint* e = sample();
    if (e != a && e != exclude && e->usable(now)) b = e;
  }
  if (!b) {  // deterministic second candidate: the next available one after a
    for (size_t k = 1; k < n && !b; ++k) {
      const Endpoint* e = endpoints_[(a->index() + k) % n].get();
      if (e != exclude && e->usable(now)) b = e;
    }
    if (!b) return a;
  }
  // a.active / a.weight <= b.active / b.weight, cross-multiplied; ties go to a.
  uint64_t la = uint64_t{a->activeRequests()} * b->config().weight;
  uint64_t lb = uint64_t{b->activeRequests()} * a->config().weight;
  return lb < la ? b : a;
}

const Endpoint* Pool::pickHash(std::string_view key, const Endpoint* exclude, detail::NowCache& now) {
  const size_t m = maglev_.size();
  const size_t pos = hashBytes(key, 0x6b6579) % m;
  // Walking the table visits endpoints in a key-dependent pseudo-random order,
  // so an unavailable endpoint's keys spread over the others. Bounded walk,
  // then a plain scan (only reached when nearly everything is down).
  const size_t bound = std::min(m, endpoints_.size() * 8 + 16);
  for (size_t k = 0; k < bound; ++k) {
    const Endpoint* e = endpoints_[maglev_[(pos + k) % m]].get();
    if (e != exclude && e->usable(now)) return e;
  }
  return anyAvailable(pos % endpoints_.size(), exclude, now);
}

// ---------------------------------------------------------------- Pool: accounting and passive health

void Pool::requestStarted(const Endpoint& e) {
  const_cast<Endpoint&>(e).active_requests_.fetch_add(1, std::memory_order_relaxed);
}

void Pool::requestFinished(const Endpoint& e) {
  auto& a = const_cast<Endpoint&>(e).active_requests_;
  uint32_t cur = a.load(std::memory_order_relaxed);
  while (cur > 0 && !a.compare_exchange_weak(cur, cur - 1, std::memory_order_relaxed)) {
  }
}

void Pool::report(const Endpoint& e, Outcome o) {
  detail::NowCache now{&clock_};
  reportWith(e, o, now);
}

void Pool::report(const Endpoint& e, Outcome o, TimePoint t) {
  detail::NowCache now{&clock_, t, true};
  reportWith(e, o, now);
}

void Pool::reportWith(const Endpoint& ce, Outcome o, detail::NowCache& now) {
  Endpoint& e = const_cast<Endpoint&>(ce);  // endpoints are owned (non-const) by this pool
  e.requests_.fetch_add(1, std::memory_order_relaxed);
  bool is5xx = false;
  bool connect_failure = false;
  switch (o.kind) {
    case Outcome::Kind::Success: break;
    case Outcome::Kind::Status: is5xx = o.status >= 500; break;
    case Outcome::Kind::ConnectFailure: connect_failure = true; break;
    case Outcome::Kind::Reset:      // the gateway answers 502 for these:
    case Outcome::Kind::Timeout: is5xx = true; break;  // they count as 5xx of the endpoint
  }
  auto clear = [](std::atomic<uint32_t>& a) {
    if (a.load(std::memory_order_relaxed) != 0) a.store(0, std::memory_order_relaxed);
  };
  if (!is5xx && !connect_failure) {
    clear(e.consecutive_5xx_);
    clear(e.consecutive_connect_failures_);
    return;
  }
  e.failures_.fetch_add(1, std::memory_order_relaxed);
  if (!config_.passive.enabled) return;
  if (is5xx) {
    clear(e.consecutive_connect_failures_);  // it connected
    uint32_t c = e.consecutive_5xx_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (config_.passive.consecutive_5xx && c >= config_.passive.consecutive_5xx) maybeEject(e, now.get());
  } else {
    uint32_t c = e.consecutive_connect_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (config_.passive.consecutive_connect_failures && c >= config_.passive.consecutive_connect_failures)
      maybeEject(e, now.get());
  }
}

void Pool::setActiveHealthy(const Endpoint& ce, bool healthy) {
  Endpoint& e = const_cast<Endpoint&>(ce);
  if (e.active_healthy_.exchange(healthy, std::memory_order_relaxed) != healthy)
    e.health_flips_.fetch_add(1, std::memory_order_relaxed);
}

size_t Pool::ejectedCount(TimePoint now) const {
  size_t k = 0;
  for (const auto& e : endpoints_) k += e->ejected(now);
  return k;
}

// Ejection rule (Envoy's): an endpoint may be ejected while
//   (ejected + 1) * 100 <= max_ejected_percent * pool size,
// and in any case when no endpoint is ejected yet (so a small pool, say 2
// endpoints at 10%, can still eject one bad endpoint), unless the percent is 0
// (passive ejection off). When the rule refuses, the failure streak is kept
// and the next failure asks again. Ejection n lasts min(n * base, max); an
// endpoint that stayed in the pool for max_ejection_time since its last
// ejection ended starts again at n = 1.
void Pool::maybeEject(const Endpoint& ce, TimePoint now) {
  Endpoint& e = const_cast<Endpoint&>(ce);
  const auto& p = config_.passive;
  if (p.max_ejected_percent == 0) return;
  std::lock_guard lock(eject_mutex_);  // rare path: only at the end of a failure streak
  if (e.ejected(now)) return;
  const size_t ejected = ejectedCount(now);
  const bool allowed = ejected == 0 || (ejected + 1) * 100 <= uint64_t{p.max_ejected_percent} * endpoints_.size();
  if (!allowed) return;
  const int64_t now_ns = Endpoint::toNs(now);
  const int64_t max_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(p.max_ejection_time).count();
  const int64_t base_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(p.base_ejection_time).count();
  const int64_t prev_until = e.ejected_until_ns_.load(std::memory_order_relaxed);
  if (prev_until != 0 && now_ns - prev_until >= max_ns) e.times_ejected_.store(0, std::memory_order_relaxed);
  const uint32_t times = e.times_ejected_.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t dur = std::min<int64_t>(base_ns * times, std::max(max_ns, base_ns));
  e.ejected_until_ns_.store(std::max<int64_t>(now_ns + dur, 1), std::memory_order_relaxed);
  e.ejections_.fetch_add(1, std::memory_order_relaxed);
  e.consecutive_5xx_.store(0, std::memory_order_relaxed);
  e.consecutive_connect_failures_.store(0, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- Pool: admin and reload

std::string Pool::statusJson() const {
  const TimePoint t = now();
  std::string out = "{\"name\":\"";
  jsonEscape(out, config_.name);
  out += "\",\"lb\":\"";
  out += lbName(config_.lb);
  out += "\",\"active_checks\":";
  out += config_.active.enabled ? "true" : "false";
  size_t available = 0, ejected = 0, unhealthy = 0;
  for (const auto& e : endpoints_) {
    const bool ej = e->ejected(t), h = e->activeHealthy();
    ejected += ej;
    unhealthy += !h;
    available += h && !ej;
  }
  out += ",\"size\":" + std::to_string(endpoints_.size());
  out += ",\"available\":" + std::to_string(available);
  out += ",\"ejected\":" + std::to_string(ejected);
  out += ",\"unhealthy\":" + std::to_string(unhealthy);
  out += ",\"endpoints\":[";
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const Endpoint& e = *endpoints_[i];
    const EndpointStats s = e.stats(t);
    if (i) out += ',';
    out += "{\"address\":\"";
    jsonEscape(out, e.config().address);
    out += "\",\"resolved\":\"";
    jsonEscape(out, e.address().address().to_string() + ":" + std::to_string(e.address().port()));
    out += "\",\"weight\":" + std::to_string(e.config().weight);
    out += ",\"healthy\":" + std::string(s.active_healthy ? "true" : "false");
    out += ",\"ejected\":" + std::string(s.ejected ? "true" : "false");
    out += ",\"ejected_for_ms\":" + std::to_string(s.ejected_for_ms);
    out += ",\"available\":" + std::string(s.active_healthy && !s.ejected ? "true" : "false");
    out += ",\"active_requests\":" + std::to_string(s.active_requests);
    out += ",\"requests\":" + std::to_string(s.requests);
    out += ",\"failures\":" + std::to_string(s.failures);
    out += ",\"ejections\":" + std::to_string(s.ejections);
    out += ",\"health_flips\":" + std::to_string(s.health_flips);
    out += '}';
  }
  out += "]}";
  return out;
}

void Pool::inheritState(const Pool& previous) {
  std::vector<bool> used(previous.endpoints_.size(), false);
  for (auto& mine : endpoints_) {
    for (size_t j = 0; j < previous.endpoints_.size(); ++j) {
      const Endpoint& old = *previous.endpoints_[j];
      if (used[j] || old.address() != mine->address()) continue;
      used[j] = true;
      auto copy = [](auto& to, const auto& from) { to.store(from.load(std::memory_order_relaxed), std::memory_order_relaxed); };
      copy(mine->active_healthy_, old.active_healthy_);
      copy(mine->ejected_until_ns_, old.ejected_until_ns_);
      copy(mine->times_ejected_, old.times_ejected_);
      copy(mine->ejections_, old.ejections_);
      copy(mine->health_flips_, old.health_flips_);
      copy(mine->requests_, old.requests_);
      copy(mine->failures_, old.failures_);
      copy(mine->consecutive_5xx_, old.consecutive_5xx_);
      copy(mine->consecutive_connect_failures_, old.consecutive_connect_failures_);
      copy(mine->check_passes_, old.check_passes_);
      copy(mine->check_failures_, old.check_failures_);
      break;
    }
  }
}

// ---------------------------------------------------------------- RetryBudget

RetryBudget::RetryBudget(uint32_t percent, uint32_t min_concurrency)
    : percent_(percent), min_concurrency_(min_concurrency) {}

void RetryBudget::requestStarted() { active_requests_.fetch_add(1, std::memory_order_relaxed); }

void RetryBudget::requestFinished() {
  uint32_t cur = active_requests_.load(std::memory_order_relaxed);
  while (cur > 0 && !active_requests_.compare_exchange_weak(cur, cur - 1, std::memory_order_relaxed)) {
  }
}

bool RetryBudget::tryStartRetry() {
  const uint64_t by_share = uint64_t{active_requests_.load(std::memory_order_relaxed)} * percent_ / 100;
  const uint64_t budget = std::max<uint64_t>(min_concurrency_, by_share);
  uint32_t cur = active_retries_.load(std::memory_order_relaxed);
  while (cur < budget) {
    if (active_retries_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void RetryBudget::retryFinished() {
  uint32_t cur = active_retries_.load(std::memory_order_relaxed);
  while (cur > 0 && !active_retries_.compare_exchange_weak(cur, cur - 1, std::memory_order_relaxed)) {
  }
}

}  // namespace rampart::gateway::upstream
