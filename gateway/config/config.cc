// YAML -> Config, strict: unknown keys and wrong types are errors that name
// the file, line and column. Every error is collected; nothing is silently
// defaulted when the operator wrote something we do not understand.
#include "gateway/config/config.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "gateway/http/headers.h"
#include "gateway/log/json.h"
#include "gateway/ratelimit/client_address.h"

namespace rampart::gateway::config {

std::string format(const Error& e) {
  return fmt::format("{}:{}:{}: error: {}", e.loc.file, e.loc.line, e.loc.column, e.message);
}

bool parseDuration(std::string_view s, Duration& out) {
  if (s.empty()) return false;
  size_t i = 0;
  uint64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > (1ull << 40)) return false;
    n = n * 10 + uint64_t(s[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  std::string_view unit = s.substr(i);
  uint64_t ms;
  if (unit.empty() || unit == "s") ms = n * 1000;
  else if (unit == "ms") ms = n;
  else if (unit == "m") ms = n * 60000;
  else if (unit == "h") ms = n * 3600000;
  else if (unit == "d") ms = n * 86400000;
  else return false;
  out = Duration(ms);
  return true;
}

bool parseSize(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  size_t i = 0;
  uint64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > (1ull << 50)) return false;
    n = n * 10 + uint64_t(s[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  std::string_view unit = s.substr(i);
  uint64_t mul;
  if (unit.empty() || unit == "B") mul = 1;
  else if (unit == "KiB" || unit == "k" || unit == "K") mul = 1ull << 10;
  else if (unit == "MiB" || unit == "M") mul = 1ull << 20;
  else if (unit == "GiB" || unit == "G") mul = 1ull << 30;
  else if (unit == "KB") mul = 1000;
  else if (unit == "MB") mul = 1000000;
  else if (unit == "GB") mul = 1000000000;
  else return false;
  out = n * mul;
  return true;
}

static bool parsePort(std::string_view p, uint16_t& port) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535) return false;
  port = uint16_t(v);
  return true;
}

bool parseListenAddress(std::string_view s, ListenAddress& out, std::string* why) {
  out.text = std::string(s);
  std::string_view host, port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      if (why) *why = "expected [ipv6]:port";
      return false;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      if (why) *why = "expected host:port";
      return false;
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      if (why) *why = "IPv6 addresses must be written [addr]:port";
      return false;
    }
  }
  if (!parsePort(port, out.port)) {
    if (why) *why = fmt::format("invalid port '{}'", port);
    return false;
  }
  if (host == "*" || host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  out.host = std::string(host);
  return true;
}

namespace {

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  std::vector<Error> errors;

  Location loc(const YAML::Node& n) const {
    auto m = n.Mark();
    return Location{file_, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
  }
  void error(const YAML::Node& n, std::string msg) { errors.push_back({loc(n), std::move(msg)}); }
  void error(Location l, std::string msg) { errors.push_back({std::move(l), std::move(msg)}); }

  // Checks that `n` is a map whose keys are all in `allowed`.
  bool map(const YAML::Node& n, std::string_view what, std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
      error(n, fmt::format("{} must be a mapping", what));
      return false;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(it->first, fmt::format("unknown key '{}' in {} (expected one of: {})", key, what, list));
      }
    }
    return true;
  }

  bool str(const YAML::Node& n, std::string_view what, std::string& out) {
    if (!n.IsScalar()) {
      error(n, fmt::format("{} must be a string", what));
      return false;
    }
    out = n.Scalar();
    return true;
  }
  bool u64(const YAML::Node& n, std::string_view what, uint64_t& out, uint64_t min = 0,
           uint64_t max = UINT64_MAX) {
    if (!n.IsScalar()) {
      error(n, fmt::format("{} must be a number", what));
      return false;
    }
    const std::string& s = n.Scalar();
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      error(n, fmt::format("{} must be a whole number, got '{}'", what, s));
      return false;
    }
    if (v < min || v > max) {
      error(n, fmt::format("{} must be between {} and {}, got {}", what, min, max, v));
      return false;
    }
    out = v;
    return true;
  }
  template <typename T>
  bool uint(const YAML::Node& n, std::string_view what, T& out, uint64_t min = 0,
            uint64_t max = std::numeric_limits<T>::max()) {
    uint64_t v;
    if (!u64(n, what, v, min, max)) return false;
    out = T(v);
    return true;
  }
  bool boolean(const YAML::Node& n, std::string_view what, bool& out) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true" || s == "yes" || s == "on") return out = true, true;
      if (s == "false" || s == "no" || s == "off") return out = false, true;
    }
    error(n, fmt::format("{} must be true or false", what));
    return false;
  }
  bool duration(const YAML::Node& n, std::string_view what, Duration& out) {
    if (!n.IsScalar() || !parseDuration(n.Scalar(), out)) {
      error(n, fmt::format("{} must be a duration like 250ms, 5s, 2m, 1h, 7d", what));
      return false;
    }
    return true;
  }
  bool size(const YAML::Node& n, std::string_view what, uint64_t& out) {
    if (!n.IsScalar() || !parseSize(n.Scalar(), out)) {
      error(n, fmt::format("{} must be a size like 512, 64KiB, 10MiB", what));
      return false;
    }
    return true;
  }
  bool strList(const YAML::Node& n, std::string_view what, std::vector<std::string>& out) {
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return true;
    }
    if (!n.IsSequence()) {
      error(n, fmt::format("{} must be a list of strings", what));
      return false;
    }
    for (const auto& e : n) {
      std::string s;
      if (str(e, what, s)) out.push_back(std::move(s));
    }
    return true;
  }
  bool listen(const YAML::Node& n, std::string_view what, ListenAddress& out) {
    std::string s, why;
    if (!str(n, what, s)) return false;
    if (!parseListenAddress(s, out, &why)) {
      error(n, fmt::format("{}: {}", what, why));
      return false;
    }
    return true;
  }

  void limits(const YAML::Node& n, Limits& l) {
    if (!map(n, "limits", {"max_request_line", "max_header_bytes", "max_headers", "max_body",
                           "max_connections"}))
      return;
    if (auto v = n["max_request_line"]) size(v, "limits.max_request_line", l.max_request_line);
    if (auto v = n["max_header_bytes"]) size(v, "limits.max_header_bytes", l.max_header_bytes);
    if (auto v = n["max_headers"]) u64(v, "limits.max_headers", l.max_headers, 1, 10000);
    if (auto v = n["max_body"]) size(v, "limits.max_body", l.max_body);
    if (auto v = n["max_connections"]) u64(v, "limits.max_connections", l.max_connections, 1, 10000000);
    if (l.max_request_line < 64) error(n, "limits.max_request_line must be at least 64 bytes");
    if (l.max_header_bytes < 1024) error(n, "limits.max_header_bytes must be at least 1KiB");
  }

  void timeouts(const YAML::Node& n, Timeouts& t) {
    if (!map(n, "timeouts", {"client_header", "client_body", "keepalive", "drain"})) return;
    if (auto v = n["client_header"]) duration(v, "timeouts.client_header", t.client_header);
    if (auto v = n["client_body"]) duration(v, "timeouts.client_body", t.client_body);
    if (auto v = n["keepalive"]) duration(v, "timeouts.keepalive", t.keepalive);
    if (auto v = n["drain"]) duration(v, "timeouts.drain", t.drain);
  }

  void log(const YAML::Node& n, Log& l) {
    if (!map(n, "log", {"level", "format", "access"})) return;
    if (auto v = n["level"]) {
      if (str(v, "log.level", l.level)) {
        static const std::set<std::string> ok = {"trace", "debug", "info", "warn", "error"};
        if (!ok.count(l.level)) error(v, "log.level must be one of trace, debug, info, warn, error");
      }
    }
    if (auto v = n["format"]) {
      if (str(v, "log.format", l.format) && l.format != "text" && l.format != "json")
        error(v, "log.format must be text or json");
    }
    if (auto a = n["access"]) {
      if (map(a, "log.access", {"enabled", "path"})) {
        if (auto v = a["enabled"]) boolean(v, "log.access.enabled", l.access_enabled);
        if (auto v = a["path"]) {
          if (str(v, "log.access.path", l.access_path) && l.access_path.empty())
            error(v, "log.access.path must not be empty");
        }
      }
    }
  }

  void headerOps(const YAML::Node& n, std::string_view what, HeaderOps& ops) {
    if (!map(n, what, {"add", "remove"})) return;
    if (auto a = n["add"]) {
      if (!a.IsMap()) {
        error(a, fmt::format("{}.add must be a mapping of header name to value", what));
      } else {
        for (auto it = a.begin(); it != a.end(); ++it) {
          std::string name = it->first.Scalar(), value;
          if (!http::isToken(name)) error(it->first, fmt::format("invalid header name '{}'", name));
          if (str(it->second, "header value", value)) {
            if (!http::isValidFieldValue(value))
              error(it->second, fmt::format("invalid characters in the value of header '{}'", name));
            ops.add.emplace_back(std::move(name), std::move(value));
          }
        }
      }
    }
    if (auto r = n["remove"]) strList(r, fmt::format("{}.remove", what), ops.remove);
  }

  void route(const YAML::Node& n, Route& r, size_t index) {
    r.loc = loc(n);
    if (!map(n, "route", {"name", "listeners", "match", "direct_response", "pool", "rewrite_prefix",
                          "timeouts", "retry", "request_headers", "response_headers", "waf", "rate_limits",
                          "hsts"}))
      return;
    if (auto v = n["name"]) str(v, "route.name", r.name);
    if (r.name.empty()) r.name = fmt::format("route{}", index);
    if (auto v = n["listeners"]) strList(v, "route.listeners", r.listeners);
    if (auto m = n["match"]) {
      if (map(m, "route.match", {"hosts", "path", "methods", "headers", "client_certificate"})) {
        if (auto cc = m["client_certificate"]) {
          if (map(cc, "match.client_certificate", {"subject", "subject_regex", "present", "fingerprint"})) {
            HeaderMatch hm;
            int kinds = 0;
            if (auto v = cc["subject"]) ++kinds, hm.kind = HeaderMatch::Kind::Exact, str(v, "client_certificate.subject", hm.value);
            if (auto v = cc["subject_regex"]) {
              ++kinds;
              hm.kind = HeaderMatch::Kind::Regex;
              if (str(v, "client_certificate.subject_regex", hm.value)) {
                auto re = std::make_shared<re2::RE2>(hm.value, re2::RE2::Quiet);
                if (!re->ok()) error(v, fmt::format("invalid subject regex: {}", re->error()));
                else hm.regex = re;
              }
            }
            if (auto v = cc["present"]) {
              ++kinds;
              bool b = true;
              boolean(v, "client_certificate.present", b);
              hm.kind = b ? HeaderMatch::Kind::Present : HeaderMatch::Kind::Absent;
            }
            if (auto v = cc["fingerprint"]) {
              ++kinds;
              hm.kind = HeaderMatch::Kind::Present;  // and the fingerprint below
              if (str(v, "client_certificate.fingerprint", r.client_fingerprint)) {
                std::string fp;
                for (char ch : r.client_fingerprint)
                  if (ch != ':') fp += char(std::tolower(static_cast<unsigned char>(ch)));
                if (fp.size() != 64 || fp.find_first_not_of("0123456789abcdef") != std::string::npos)
                  error(v, "client_certificate.fingerprint must be a SHA-256 in hex (64 digits, colons allowed)");
                r.client_fingerprint = fp;
              }
            }
            if (kinds != 1)
              error(cc, "match.client_certificate needs exactly one of subject, subject_regex, present, fingerprint");
            r.client_certificate = std::move(hm);
          }
        }
        if (auto v = m["hosts"]) {
          strList(v, "match.hosts", r.hosts);
          for (auto& h : r.hosts) {
            std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
            if (h.find('*') != std::string::npos && (h.rfind("*.", 0) != 0 || h.find('*', 1) != std::string::npos))
              error(v, fmt::format("host '{}': only a leading '*.' wildcard is supported", h));
          }
        }
        if (auto p = m["path"]) {
          if (map(p, "match.path", {"exact", "prefix", "regex"})) {
            int kinds = 0;
            if (auto v = p["exact"]) ++kinds, r.path.kind = PathMatch::Kind::Exact, str(v, "path.exact", r.path.value);
            if (auto v = p["prefix"]) ++kinds, r.path.kind = PathMatch::Kind::Prefix, str(v, "path.prefix", r.path.value);
            if (auto v = p["regex"]) {
              ++kinds;
              r.path.kind = PathMatch::Kind::Regex;
              if (str(v, "path.regex", r.path.value)) {
                auto re = std::make_shared<re2::RE2>(r.path.value, re2::RE2::Quiet);
                if (!re->ok()) error(v, fmt::format("invalid path regex: {}", re->error()));
                else r.path.regex = re;
              }
            }
            if (kinds != 1) error(p, "match.path needs exactly one of exact, prefix, regex");
            if ((r.path.kind == PathMatch::Kind::Exact || r.path.kind == PathMatch::Kind::Prefix) &&
                (r.path.value.empty() || r.path.value[0] != '/'))
              error(p, "match.path exact/prefix must start with '/'");
          }
        }
        if (auto v = m["methods"]) {
          strList(v, "match.methods", r.methods);
          for (auto& meth : r.methods)
            if (!http::isToken(meth)) error(v, fmt::format("invalid method '{}'", meth));
        }
        if (auto hs = m["headers"]) {
          if (!hs.IsSequence()) {
            error(hs, "match.headers must be a list");
          } else {
            for (const auto& h : hs) {
              if (!map(h, "match.headers[]", {"name", "exact", "regex", "present"})) continue;
              HeaderMatch hm;
              if (auto v = h["name"]) str(v, "header name", hm.name);
              if (hm.name.empty()) error(h, "match.headers[] needs a name");
              int kinds = 0;
              if (auto v = h["exact"]) ++kinds, hm.kind = HeaderMatch::Kind::Exact, str(v, "exact", hm.value);
              if (auto v = h["regex"]) {
                ++kinds;
                hm.kind = HeaderMatch::Kind::Regex;
                if (str(v, "regex", hm.value)) {
                  auto re = std::make_shared<re2::RE2>(hm.value, re2::RE2::Quiet);
                  if (!re->ok()) error(v, fmt::format("invalid header regex: {}", re->error()));
                  else hm.regex = re;
                }
              }
              if (auto v = h["present"]) {
                ++kinds;
                bool b = true;
                boolean(v, "present", b);
                hm.kind = b ? HeaderMatch::Kind::Present : HeaderMatch::Kind::Absent;
              }
              if (kinds != 1) error(h, "match.headers[] needs exactly one of exact, regex, present");
              r.headers.push_back(std::move(hm));
            }
          }
        }
      }
    }
    if (auto d = n["direct_response"]) {
      DirectResponse dr;
      if (map(d, "direct_response", {"status", "body", "content_type"})) {
        if (auto v = d["status"]) uint(v, "direct_response.status", dr.status, 100, 599);
        if (auto v = d["body"]) str(v, "direct_response.body", dr.body);
        if (auto v = d["content_type"]) str(v, "direct_response.content_type", dr.content_type);
      }
      r.direct = std::move(dr);
    }
    if (auto v = n["pool"]) str(v, "route.pool", r.pool);
    if (r.direct && !r.pool.empty()) error(n, fmt::format("route '{}': pool and direct_response exclude each other", r.name));
    if (!r.direct && r.pool.empty()) error(n, fmt::format("route '{}' needs a pool or a direct_response", r.name));
    if (auto v = n["rewrite_prefix"]) {
      std::string s;
      if (str(v, "rewrite_prefix", s)) {
        if (r.path.kind != PathMatch::Kind::Prefix) error(v, "rewrite_prefix needs a match.path prefix");
        if (s.empty() || s[0] != '/') error(v, "rewrite_prefix must start with '/'");
        r.rewrite_prefix = s;
      }
    }
    if (auto t = n["timeouts"]) {
      if (map(t, "route.timeouts", {"connect", "first_byte", "idle"})) {
        if (auto v = t["connect"]) duration(v, "timeouts.connect", r.timeouts.connect);
        if (auto v = t["first_byte"]) duration(v, "timeouts.first_byte", r.timeouts.first_byte);
        if (auto v = t["idle"]) duration(v, "timeouts.idle", r.timeouts.idle);
      }
    }
    if (auto rt = n["retry"]) {
      if (map(rt, "route.retry", {"attempts", "on", "budget_percent"})) {
        if (auto v = rt["attempts"]) uint(v, "retry.attempts", r.retry.attempts, 0, 10);
        if (auto v = rt["budget_percent"]) uint(v, "retry.budget_percent", r.retry.budget_percent, 0, 100);
        if (auto v = rt["on"]) {
          std::vector<std::string> on;
          strList(v, "retry.on", on);
          for (auto& o : on) {
            if (o == "connect-failure") r.retry.on_connect_failure = true;
            else if (o == "reset") r.retry.on_reset = true;
            else {
              uint16_t st = 0;
              auto [p, ec] = std::from_chars(o.data(), o.data() + o.size(), st);
              if (ec != std::errc() || p != o.data() + o.size() || st < 100 || st > 599)
                error(v, fmt::format("retry.on: '{}' is not connect-failure, reset or a status code", o));
              else r.retry.statuses.push_back(st);
            }
          }
        }
      }
    }
    if (auto v = n["request_headers"]) headerOps(v, "request_headers", r.request_headers);
    if (auto v = n["response_headers"]) headerOps(v, "response_headers", r.response_headers);
    if (auto v = n["waf"]) wafAttach(v, "route.waf", r.waf);
    if (auto v = n["rate_limits"]) strList(v, "route.rate_limits", r.rate_limits);
    if (auto h = n["hsts"]) {
      if (map(h, "route.hsts", {"max_age", "include_subdomains", "preload"})) {
        Duration age{31536000000};
        bool sub = false, preload = false;
        if (auto v = h["max_age"]) duration(v, "hsts.max_age", age);
        if (auto v = h["include_subdomains"]) boolean(v, "hsts.include_subdomains", sub);
        if (auto v = h["preload"]) boolean(v, "hsts.preload", preload);
        if (preload && (!sub || age.count() < 31536000000))
          error(h, "hsts.preload needs include_subdomains and a max_age of at least a year");
        r.hsts = fmt::format("max-age={}{}{}", age.count() / 1000, sub ? "; includeSubDomains" : "",
                             preload ? "; preload" : "");
      }
    }
  }

  void pool(const YAML::Node& n, upstream::PoolConfig& p) {
    if (!map(n, "pool", {"name", "endpoints", "lb", "hash", "connections", "health", "tls"})) return;
    if (auto v = n["name"]) str(v, "pool.name", p.name);
    {
      Location l = loc(n);
      p.location = fmt::format("{}:{}", l.file, l.line);
    }
    if (auto t = n["tls"]) upstreamTls(t, p);
    if (p.name.empty()) error(n, "pool needs a name");
    if (auto eps = n["endpoints"]) {
      if (!eps.IsSequence() || eps.size() == 0) {
        error(eps, "pool.endpoints must be a non-empty list");
      } else {
        for (const auto& e : eps) {
          upstream::EndpointConfig ec;
          YAML::Node addr;
          addr.reset(e);  // (operator= on a Node assigns into the node it refers to)
          if (e.IsMap()) {
            if (!map(e, "endpoint", {"address", "weight"})) continue;
            addr.reset(e["address"]);
            if (!addr) {
              error(e, "endpoint needs an address");
              continue;
            }
            if (auto w = e["weight"]) uint(w, "endpoint.weight", ec.weight, 1, 1000);
          }
          if (!str(addr, "endpoint.address", ec.address)) continue;
          ListenAddress la;
          std::string why;
          // host:port where host may be a name; reuse the listen parser for the split.
          std::string_view s = ec.address;
          auto colon = s.rfind(':');
          if (colon == std::string_view::npos || !parsePort(s.substr(colon + 1), ec.port)) {
            error(addr, fmt::format("endpoint address '{}' must be host:port", ec.address));
            continue;
          }
          std::string_view host = s.substr(0, colon);
          if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
          if (host.empty()) {
            error(addr, fmt::format("endpoint address '{}' has no host", ec.address));
            continue;
          }
          ec.host = std::string(host);
          p.endpoints.push_back(std::move(ec));
        }
      }
    } else {
      error(n, fmt::format("pool '{}' needs endpoints", p.name));
    }
    if (auto v = n["lb"]) {
      std::string lb;
      if (str(v, "pool.lb", lb)) {
        if (lb == "round_robin") p.lb = upstream::LbPolicy::RoundRobin;
        else if (lb == "least_request") p.lb = upstream::LbPolicy::LeastRequest;
        else if (lb == "hash") p.lb = upstream::LbPolicy::Hash;
        else error(v, "pool.lb must be round_robin, least_request or hash");
      }
    }
    if (auto h = n["hash"]) {
      if (map(h, "pool.hash", {"on", "name"})) {
        std::string on;
        if (auto v = h["on"]; v && str(v, "hash.on", on)) {
          if (on == "client_ip") p.hash_on = upstream::HashOn::ClientIp;
          else if (on == "header") p.hash_on = upstream::HashOn::Header;
          else if (on == "cookie") p.hash_on = upstream::HashOn::Cookie;
          else error(v, "hash.on must be client_ip, header or cookie");
        }
        if (auto v = h["name"]) str(v, "hash.name", p.hash_name);
        if (p.hash_on != upstream::HashOn::ClientIp && p.hash_name.empty())
          error(h, "hash.name is required for hash.on header/cookie");
      }
      if (p.lb != upstream::LbPolicy::Hash) error(h, "pool.hash is only used with lb: hash");
    }
    if (auto c = n["connections"]) {
      if (map(c, "pool.connections", {"max_per_endpoint", "max_idle_per_endpoint", "idle_timeout"})) {
        if (auto v = c["max_per_endpoint"]) uint(v, "connections.max_per_endpoint", p.connections.max_per_endpoint, 1, 1000000);
        if (auto v = c["max_idle_per_endpoint"]) uint(v, "connections.max_idle_per_endpoint", p.connections.max_idle_per_endpoint, 0, 1000000);
        if (auto v = c["idle_timeout"]) duration(v, "connections.idle_timeout", p.connections.idle_timeout);
      }
    }
    if (auto h = n["health"]) {
      if (map(h, "pool.health", {"active", "passive"})) {
        if (auto a = h["active"]) {
          auto& ac = p.active;
          ac.enabled = true;
          if (map(a, "health.active", {"path", "host", "interval", "timeout", "healthy_threshold",
                                       "unhealthy_threshold", "expected_statuses"})) {
            if (auto v = a["path"]) {
              if (str(v, "health.active.path", ac.path) && (ac.path.empty() || ac.path[0] != '/'))
                error(v, "health.active.path must start with '/'");
            }
            if (auto v = a["host"]) str(v, "health.active.host", ac.host);
            if (auto v = a["interval"]) duration(v, "health.active.interval", ac.interval);
            if (auto v = a["timeout"]) duration(v, "health.active.timeout", ac.timeout);
            if (auto v = a["healthy_threshold"]) uint(v, "healthy_threshold", ac.healthy_threshold, 1, 100);
            if (auto v = a["unhealthy_threshold"]) uint(v, "unhealthy_threshold", ac.unhealthy_threshold, 1, 100);
            if (auto v = a["expected_statuses"]) {
              std::vector<std::string> ranges;
              strList(v, "expected_statuses", ranges);
              ac.expected_statuses.clear();
              for (auto& r : ranges) {
                unsigned lo = 0, hi = 0;
                auto dash = r.find('-');
                std::string a1 = r.substr(0, dash), b1 = dash == std::string::npos ? a1 : r.substr(dash + 1);
                auto [p1, e1] = std::from_chars(a1.data(), a1.data() + a1.size(), lo);
                auto [p2, e2] = std::from_chars(b1.data(), b1.data() + b1.size(), hi);
                if (e1 != std::errc() || e2 != std::errc() || p1 != a1.data() + a1.size() ||
                    p2 != b1.data() + b1.size() || lo < 100 || hi > 599 || lo > hi)
                  error(v, fmt::format("expected_statuses: '{}' is not a status or range like 200-399", r));
                else ac.expected_statuses.emplace_back(uint16_t(lo), uint16_t(hi));
              }
            }
            if (ac.timeout >= ac.interval) error(a, "health.active.timeout must be shorter than the interval");
          }
        }
        if (auto ps = h["passive"]) {
          auto& pc = p.passive;
          if (map(ps, "health.passive", {"enabled", "consecutive_5xx", "consecutive_connect_failures",
                                          "base_ejection_time", "max_ejection_time", "max_ejected_percent"})) {
            if (auto v = ps["enabled"]) boolean(v, "passive.enabled", pc.enabled);
            if (auto v = ps["consecutive_5xx"]) uint(v, "consecutive_5xx", pc.consecutive_5xx, 0, 1000);
            if (auto v = ps["consecutive_connect_failures"]) uint(v, "consecutive_connect_failures", pc.consecutive_connect_failures, 0, 1000);
            if (auto v = ps["base_ejection_time"]) duration(v, "base_ejection_time", pc.base_ejection_time);
            if (auto v = ps["max_ejection_time"]) duration(v, "max_ejection_time", pc.max_ejection_time);
            if (auto v = ps["max_ejected_percent"]) uint(v, "max_ejected_percent", pc.max_ejected_percent, 0, 100);
          }
        }
      }
    }
  }


  bool wafMode(const YAML::Node& n, WafMode& out) {
    std::string m;
    if (!str(n, "waf.mode", m)) return false;
    if (m == "off") out = WafMode::Off;
    else if (m == "detect") out = WafMode::Detect;
    else if (m == "block") out = WafMode::Block;
    else {
      error(n, fmt::format("waf.mode must be off, detect or block, got '{}'", m));
      return false;
    }
    return true;
  }

  // A SecLang variable name with an optional :selector, as exclusion targets are written.
  bool wafTarget(const YAML::Node& n, const std::string& t) {
    static const RE2 re("[A-Za-z_]+(:(/.+/|[^\\s,;\"|]+))?");
    if (!RE2::FullMatch(t, re)) {
      error(n, fmt::format("exclusion target '{}' must be VARIABLE or VARIABLE:selector (e.g. ARGS:password, "
                           "REQUEST_COOKIES:/^sess_/)", t));
      return false;
    }
    return true;
  }

  void wafAttach(const YAML::Node& n, std::string_view what, WafAttach& w) {
    w.present = true;
    w.loc = loc(n);
    if (n.IsScalar()) {  // waf: off | detect | block (the listener's rule set)
      WafMode m;
      if (wafMode(n, m)) w.mode = m;
      return;
    }
    if (!map(n, what, {"rule_set", "mode", "shadow", "on_error", "exclusions"})) return;
    if (auto v = n["rule_set"]) {
      std::string s;
      if (str(v, "waf.rule_set", s)) w.rule_set = s;
    }
    if (auto v = n["mode"]) {
      WafMode m;
      if (wafMode(v, m)) w.mode = m;
    }
    if (auto v = n["shadow"]) {
      std::string s;
      if (str(v, "waf.shadow", s)) w.shadow = s;
    }
    if (auto v = n["on_error"]) {
      std::string s;
      if (str(v, "waf.on_error", s)) {
        if (s == "open") w.fail_open = true;
        else if (s == "closed") w.fail_open = false;
        else error(v, "waf.on_error must be open or closed");
      }
    }
    if (auto ex = n["exclusions"]) {
      if (!ex.IsSequence()) {
        error(ex, "waf.exclusions must be a list");
        return;
      }
      for (const auto& e : ex) {
        WafExclusion x;
        x.loc = loc(e);
        if (!map(e, "waf.exclusions[]", {"rule_ids", "tags", "targets", "path_prefix", "path_exact"})) continue;
        if (auto v = e["rule_ids"]) {
          std::vector<std::string> ids;
          strList(v, "exclusions.rule_ids", ids);
          static const RE2 idre("[0-9]{1,9}(-[0-9]{1,9})?");
          for (auto& id : ids) {
            if (!RE2::FullMatch(id, idre)) error(v, fmt::format("exclusions.rule_ids: '{}' is not an id or a range like 942100-942199", id));
            else x.rule_ids.push_back(id);
          }
        }
        if (auto v = e["tags"]) {
          strList(v, "exclusions.tags", x.tags);
          for (auto& t : x.tags)
            if (t.empty() || t.find_first_of("\"',;\\ \t") != std::string::npos)
              error(v, fmt::format("exclusions.tags: '{}' must be a plain tag name", t));
        }
        if (auto v = e["targets"]) {
          strList(v, "exclusions.targets", x.targets);
          for (auto& t : x.targets) wafTarget(v, t);
        }
        if (auto v = e["path_prefix"]) {
          if (str(v, "exclusions.path_prefix", x.path_prefix) && (x.path_prefix.empty() || x.path_prefix[0] != '/' ||
                                                                  x.path_prefix.find_first_of("\"\\ \t") != std::string::npos))
            error(v, "exclusions.path_prefix must start with '/' and hold no quotes, backslashes or spaces");
        }
        if (auto v = e["path_exact"]) {
          if (str(v, "exclusions.path_exact", x.path_exact) && (x.path_exact.empty() || x.path_exact[0] != '/' ||
                                                                x.path_exact.find_first_of("\"\\ \t") != std::string::npos))
            error(v, "exclusions.path_exact must start with '/' and hold no quotes, backslashes or spaces");
          if (!x.path_prefix.empty()) error(v, "an exclusion takes path_prefix or path_exact, not both");
        }
        if (x.rule_ids.empty() == x.tags.empty()) error(e, "an exclusion needs exactly one of rule_ids or tags");
        w.exclusions.push_back(std::move(x));
      }
    }
  }

  void wafRuleSet(const YAML::Node& n, WafRuleSet& rs) {
    rs.loc = loc(n);
    if (!map(n, "waf rule set",
             {"files", "rules", "paranoia_level", "detection_paranoia_level", "anomaly_threshold", "allowed_methods",
              "allowed_content_types", "request_body_limit", "request_body_no_files_limit",
              "request_body_limit_action", "response_body", "pcre_match_limit"}))
      return;
    if (auto v = n["files"]) strList(v, "rule_set.files", rs.files);
    if (auto v = n["rules"]) str(v, "rule_set.rules", rs.rules);
    if (rs.files.empty() && rs.rules.empty()) error(n, fmt::format("rule set '{}' needs files or rules", rs.name));
    if (auto v = n["paranoia_level"]) uint(v, "paranoia_level", rs.paranoia_level, 1, 4);
    if (auto v = n["detection_paranoia_level"]) uint(v, "detection_paranoia_level", rs.detection_paranoia_level, 1, 4);
    if (rs.detection_paranoia_level && rs.paranoia_level && rs.detection_paranoia_level < rs.paranoia_level)
      error(n, "detection_paranoia_level must not be below paranoia_level");
    if (auto a = n["anomaly_threshold"]) {
      if (map(a, "anomaly_threshold", {"inbound", "outbound"})) {
        if (auto v = a["inbound"]) uint(v, "anomaly_threshold.inbound", rs.inbound_anomaly_threshold, 1, 10000);
        if (auto v = a["outbound"]) uint(v, "anomaly_threshold.outbound", rs.outbound_anomaly_threshold, 1, 10000);
      }
    }
    if (auto v = n["allowed_methods"]) {
      strList(v, "allowed_methods", rs.allowed_methods);
      for (auto& m : rs.allowed_methods)
        if (!http::isToken(m)) error(v, fmt::format("allowed_methods: '{}' is not a method", m));
    }
    if (auto v = n["allowed_content_types"]) {
      strList(v, "allowed_content_types", rs.allowed_content_types);
      for (auto& t : rs.allowed_content_types)
        if (t.find('/') == std::string::npos || t.find_first_of("|' \"") != std::string::npos)
          error(v, fmt::format("allowed_content_types: '{}' is not a media type like application/json", t));
    }
    if (auto v = n["request_body_limit"]) size(v, "request_body_limit", rs.request_body_limit);
    if (auto v = n["request_body_no_files_limit"]) size(v, "request_body_no_files_limit", rs.request_body_no_files_limit);
    if (auto v = n["request_body_limit_action"]) {
      std::string a;
      if (str(v, "request_body_limit_action", a)) {
        if (a == "reject") rs.request_body_limit_reject = true;
        else if (a == "process_partial") rs.request_body_limit_reject = false;
        else error(v, "request_body_limit_action must be reject or process_partial");
      }
    }
    if (auto r = n["response_body"]) {
      if (map(r, "response_body", {"enabled", "mime_types", "limit", "limit_action"})) {
        rs.response_body = true;
        if (auto v = r["enabled"]) boolean(v, "response_body.enabled", rs.response_body);
        if (auto v = r["mime_types"]) {
          rs.response_mime_types.clear();
          strList(v, "response_body.mime_types", rs.response_mime_types);
        }
        if (auto v = r["limit"]) size(v, "response_body.limit", rs.response_body_limit);
        if (auto v = r["limit_action"]) {
          std::string a;
          if (str(v, "response_body.limit_action", a)) {
            if (a == "reject") rs.response_body_limit_reject = true;
            else if (a == "process_partial") rs.response_body_limit_reject = false;
            else error(v, "response_body.limit_action must be reject or process_partial");
          }
        }
      }
    }
    if (auto v = n["pcre_match_limit"]) u64(v, "pcre_match_limit", rs.pcre_match_limit, 1, 100000000);
  }

  void waf(const YAML::Node& n, Waf& w) {
    if (!map(n, "waf", {"rule_sets", "audit", "value_memo"})) return;
    if (auto v = n["value_memo"]) boolean(v, "waf.value_memo", w.value_memo);
    if (auto sets = n["rule_sets"]) {
      if (!sets.IsMap()) {
        error(sets, "waf.rule_sets must be a mapping of name to rule set");
      } else {
        for (auto it = sets.begin(); it != sets.end(); ++it) {
          WafRuleSet rs;
          rs.name = it->first.Scalar();
          wafRuleSet(it->second, rs);
          w.rule_sets.push_back(std::move(rs));
        }
      }
    }
    if (auto a = n["audit"]) {
      if (map(a, "waf.audit", {"path", "events", "redact_headers", "redact_args", "max_matched_data"})) {
        if (auto v = a["path"]) {
          if (str(v, "waf.audit.path", w.audit.path) && w.audit.path.empty()) error(v, "waf.audit.path must not be empty");
        }
        if (auto v = a["events"]) {
          std::string e;
          if (str(v, "waf.audit.events", e)) {
            if (e == "matched") w.audit.blocked_only = false;
            else if (e == "blocked") w.audit.blocked_only = true;
            else error(v, "waf.audit.events must be matched or blocked");
          }
        }
        if (auto v = a["redact_headers"]) {
          w.audit.redact_headers.clear();
          strList(v, "waf.audit.redact_headers", w.audit.redact_headers);
        }
        if (auto v = a["redact_args"]) {
          if (str(v, "waf.audit.redact_args", w.audit.redact_args)) {
            RE2 re(w.audit.redact_args, RE2::Quiet);
            if (!re.ok()) error(v, fmt::format("waf.audit.redact_args: invalid regex: {}", re.error()));
          }
        }
        if (auto v = a["max_matched_data"]) uint(v, "waf.audit.max_matched_data", w.audit.max_matched_data, 16, 65536);
      }
    }
  }

  // "50/s", "100/m", "1000/h", "10/2s": count per duration.
  bool rate(const YAML::Node& n, ratelimit::Rate& out) {
    std::string s;
    if (!str(n, "rate", s)) return false;
    auto slash = s.find('/');
    uint64_t count = 0;
    if (slash != std::string::npos) {
      std::string c = s.substr(0, slash), per = s.substr(slash + 1);
      auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), count);
      Duration d{0};
      if (per == "s" || per == "sec" || per == "second") d = Duration(1000);
      else if (per == "m" || per == "min" || per == "minute") d = Duration(60000);
      else if (per == "h" || per == "hour") d = Duration(3600000);
      else if (!parseDuration(per, d)) d = Duration(0);
      if (ec == std::errc() && p == c.data() + c.size() && count > 0 && d.count() > 0) {
        out.count = count;
        out.per = d;
        return true;
      }
    }
    error(n, fmt::format("rate must be COUNT/s, COUNT/m, COUNT/h or COUNT/DURATION with COUNT > 0, got '{}'", s));
    return false;
  }

  void ban(const YAML::Node& n, Config::Ban& b) {
    b.loc = loc(n);
    if (!map(n, "ban", {"name", "on", "threshold", "window", "duration", "max_keys", "scope"})) return;
    auto& p = b.policy;
    if (auto v = n["name"]) str(v, "bans.name", p.name);
    if (p.name.empty()) error(n, "a ban needs a name");
    if (auto v = n["on"]) {
      std::vector<std::string> on;
      strList(v, "bans.on", on);
      p.on_waf = p.on_rate_limit = false;
      for (auto& o : on) {
        if (o == "waf") p.on_waf = true;
        else if (o == "rate_limit") p.on_rate_limit = true;
        else error(v, fmt::format("bans.on: '{}' is not an offence (waf, rate_limit)", o));
      }
      if (on.empty()) error(v, "bans.on needs at least one of waf, rate_limit");
    }
    if (auto v = n["threshold"]) uint(v, "bans.threshold", p.threshold, 1, 1000000);
    if (auto v = n["window"]) duration(v, "bans.window", p.window);
    if (auto v = n["duration"]) duration(v, "bans.duration", p.duration);
    if (p.window.count() <= 0) error(n, "bans.window must be > 0");
    if (p.duration.count() <= 0) error(n, "bans.duration must be > 0");
    if (auto v = n["max_keys"]) u64(v, "bans.max_keys", p.max_keys, 64, 100000000);
    if (auto v = n["scope"]) {
      std::string scope;
      if (str(v, "bans.scope", scope)) {
        if (scope == "global") p.global = true;
        else if (scope != "local") error(v, "bans.scope must be local or global");
      }
    }
  }

  // A secret given inline or by environment variable (KEY_env).
  void secret(const YAML::Node& n, const char* key, std::string_view what, std::string& out) {
    if (auto v = n[key]) str(v, what, out);
    const std::string env_key = std::string(key) + "_env";
    if (auto v = n[env_key]) {
      std::string var;
      if (str(v, what, var)) {
        const char* val = std::getenv(var.c_str());
        if (!val) error(v, fmt::format("{}_env: the environment has no {}", what, var));
        else out = val;
      }
    }
  }

  // AWS credentials file (INI): the profile's keys.
  void awsCredentialsFile(const YAML::Node& at, const std::string& path, const std::string& profile,
                          sinks::S3Settings& s) {
    std::ifstream in(path);
    if (!in) {
      error(at, fmt::format("sink credentials file {}: {}", path, std::strerror(errno)));
      return;
    }
    std::string line, section;
    bool found = false;
    while (std::getline(in, line)) {
      auto trim = [](std::string x) {
        x.erase(0, x.find_first_not_of(" \t\r"));
        x.erase(x.find_last_not_of(" \t\r") + 1);
        return x;
      };
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[' && line.back() == ']') {
        section = trim(line.substr(1, line.size() - 2));
        if (section.rfind("profile ", 0) == 0) section = trim(section.substr(8));
        continue;
      }
      if (section != profile) continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
      found = true;
      if (k == "aws_access_key_id") s.access_key_id = v;
      else if (k == "aws_secret_access_key") s.secret_access_key = v;
      else if (k == "aws_session_token") s.session_token = v;
    }
    if (!found) error(at, fmt::format("sink credentials file {} has no profile '{}'", path, profile));
  }

  void sink(const YAML::Node& n, sinks::SinkConfig& s, size_t index) {
    if (!map(n, "sink", {"name", "type", "streams", "filter", "sample", "batch", "compression", "prefix", "instance",
                         "spool", "memory", "format", "path", "retention", "bucket", "region", "endpoint", "addressing",
                         "access_key_id", "access_key_id_env", "secret_access_key", "secret_access_key_env",
                         "session_token", "session_token_env", "credentials_file", "profile", "multipart",
                         "account", "container", "shared_key", "shared_key_env", "sas_token", "sas_token_env"}))
      return;
    if (auto v = n["name"]) str(v, "sinks.name", s.name);
    if (s.name.empty()) error(n, "a sink needs a name");
    std::string type;
    if (auto v = n["type"]) str(v, "sinks.type", type);
    if (type == "local") s.type = sinks::SinkConfig::Type::kLocal;
    else if (type == "s3") s.type = sinks::SinkConfig::Type::kS3;
    else if (type == "azure") s.type = sinks::SinkConfig::Type::kAzure;
    else error(n["type"] ? n["type"] : n, fmt::format("sink '{}': type must be local, s3 or azure", s.name));
    auto only = [&](std::initializer_list<const char*> keys, const char* for_type, sinks::SinkConfig::Type t) {
      for (const char* k : keys)
        if (n[k] && s.type != t) error(n[k], fmt::format("sink '{}': {} is for {} sinks", s.name, k, for_type));
    };
    only({"path", "retention"}, "local", sinks::SinkConfig::Type::kLocal);
    only({"bucket", "region", "addressing", "access_key_id", "access_key_id_env", "secret_access_key",
          "secret_access_key_env", "session_token", "session_token_env", "credentials_file", "profile", "multipart"},
         "s3", sinks::SinkConfig::Type::kS3);
    only({"account", "container", "shared_key", "shared_key_env", "sas_token", "sas_token_env"}, "azure",
         sinks::SinkConfig::Type::kAzure);
    if (auto v = n["streams"]) {
      std::vector<std::string> names;
      strList(v, "sinks.streams", names);
      s.streams.clear();
      for (auto& x : names) {
        if (x == "access") s.streams.push_back(sinks::Kind::kAccess);
        else if (x == "waf") s.streams.push_back(sinks::Kind::kWaf);
        else error(v, fmt::format("sinks.streams: '{}' is not a stream (access, waf)", x));
      }
      if (names.empty()) error(v, "sinks.streams needs access and/or waf");
    }
    if (auto f = n["filter"]) {
      if (map(f, "sinks.filter", {"min_status", "waf"})) {
        if (auto v = f["min_status"]) uint(v, "filter.min_status", s.min_status, 100, 599);
        if (auto v = f["waf"]) boolean(v, "filter.waf", s.only_waf);
      }
    }
    if (auto v = n["sample"]) {
      try {
        s.sample = std::stod(v.Scalar());
      } catch (...) {
        s.sample = -1;
      }
      if (!v.IsScalar() || !(s.sample > 0 && s.sample <= 1)) error(v, "sinks.sample must be a share in (0, 1]");
    }
    if (auto b = n["batch"]) {
      if (map(b, "sinks.batch", {"max_records", "max_bytes", "max_age"})) {
        if (auto v = b["max_records"]) u64(v, "batch.max_records", s.batch_records, 1, 100000000);
        if (auto v = b["max_bytes"]) size(v, "batch.max_bytes", s.batch_bytes);
        if (auto v = b["max_age"]) {
          Duration d;
          if (duration(v, "batch.max_age", d)) s.batch_age = d;
          if (s.batch_age.count() < 10 || s.batch_age.count() > 3600000)
            error(v, "batch.max_age must be between 10ms and 1h");
        }
        if (s.batch_bytes < 1024 || s.batch_bytes > (4ull << 30)) error(b, "batch.max_bytes must be between 1KiB and 4GiB");
      }
    }
    if (auto v = n["compression"]) {
      std::string c;
      if (str(v, "sinks.compression", c)) {
        if (c == "zstd") s.compression = sinks::Compression::kZstd;
        else if (c == "gzip") s.compression = sinks::Compression::kGzip;
        else if (c == "none") s.compression = sinks::Compression::kNone;
        else error(v, "sinks.compression must be zstd, gzip or none");
      }
    }
    if (auto v = n["prefix"]) str(v, "sinks.prefix", s.prefix);
    if (auto v = n["format"]) {
      std::string f;
      if (str(v, "sinks.format", f)) {
        if (f == "ocsf") s.ocsf = true;
        else if (f != "ndjson") error(v, "sinks.format must be ndjson or ocsf (OCSF applies to WAF events)");
      }
    }
    if (auto v = n["memory"]) size(v, "sinks.memory", s.memory_max_bytes);
    if (auto sp = n["spool"]) {
      if (map(sp, "sinks.spool", {"path", "max_bytes"})) {
        if (auto v = sp["path"]) str(v, "spool.path", s.spool_path);
        if (auto v = sp["max_bytes"]) size(v, "spool.max_bytes", s.spool_max_bytes);
      }
    }
    if (s.spool_path.empty()) {
      error(n, fmt::format("sink '{}' needs spool.path: a directory where batches wait, fsynced, until stored", s.name));
    } else {
      if (s.spool_path[0] != '/' && !base_.empty()) s.spool_path = base_ + "/" + s.spool_path;
      std::error_code ec;
      std::filesystem::create_directories(s.spool_path, ec);
      const std::string probe = s.spool_path + "/.rampart-probe";
      FILE* f = ec ? nullptr : std::fopen(probe.c_str(), "w");
      if (!f) {
        error(n["spool"], fmt::format("sink '{}': spool directory {} is not writable: {}", s.name, s.spool_path,
                                      ec ? ec.message() : std::strerror(errno)));
      } else {
        std::fclose(f);
        std::remove(probe.c_str());
      }
    }
    (void)index;
    switch (s.type) {
      case sinks::SinkConfig::Type::kLocal: {
        if (auto v = n["path"]) str(v, "sinks.path", s.local.path);
        else error(n, fmt::format("sink '{}' (local) needs a path", s.name));
        if (!s.local.path.empty() && s.local.path[0] != '/' && !base_.empty()) s.local.path = base_ + "/" + s.local.path;
        if (auto r = n["retention"]) {
          if (map(r, "sinks.retention", {"max_files", "max_bytes"})) {
            if (auto v = r["max_files"]) u64(v, "retention.max_files", s.local.max_files, 1, 100000000);
            if (auto v = r["max_bytes"]) size(v, "retention.max_bytes", s.local.max_bytes);
          }
        }
        break;
      }
      case sinks::SinkConfig::Type::kS3: {
        auto& s3 = s.s3;
        if (auto v = n["bucket"]) str(v, "sinks.bucket", s3.bucket);
        if (s3.bucket.empty()) error(n, fmt::format("sink '{}' (s3) needs a bucket", s.name));
        if (auto v = n["region"]) str(v, "sinks.region", s3.region);
        else if (const char* r = std::getenv("AWS_REGION")) s3.region = r;
        if (auto v = n["endpoint"]) {
          str(v, "sinks.endpoint", s3.endpoint);
          if (s3.endpoint.rfind("http://", 0) != 0 && s3.endpoint.rfind("https://", 0) != 0)
            error(v, "sinks.endpoint must be an http:// or https:// URL");
        }
        if (auto v = n["addressing"]) {
          std::string a;
          if (str(v, "sinks.addressing", a)) {
            if (a == "path") s3.path_style = true;
            else if (a != "virtual") error(v, "sinks.addressing must be path or virtual");
          }
        }
        if (auto m = n["multipart"]) {
          if (map(m, "sinks.multipart", {"threshold", "part_size"})) {
            if (auto v = m["threshold"]) size(v, "multipart.threshold", s3.multipart_threshold);
            if (auto v = m["part_size"]) size(v, "multipart.part_size", s3.part_size);
            if (s3.part_size < (5ull << 20)) error(m, "multipart.part_size must be at least 5MiB (S3's minimum)");
          }
        }
        // Credentials: the file's settings, else the environment, else a credentials file.
        secret(n, "access_key_id", "sinks.access_key_id", s3.access_key_id);
        secret(n, "secret_access_key", "sinks.secret_access_key", s3.secret_access_key);
        secret(n, "session_token", "sinks.session_token", s3.session_token);
        if (s3.access_key_id.empty() && !n["credentials_file"]) {
          const char* id = std::getenv("AWS_ACCESS_KEY_ID");
          const char* key = std::getenv("AWS_SECRET_ACCESS_KEY");
          if (id && key) {
            s3.access_key_id = id;
            s3.secret_access_key = key;
            if (const char* t = std::getenv("AWS_SESSION_TOKEN")) s3.session_token = t;
          }
        }
        if (s3.access_key_id.empty()) {
          std::string file, profile = "default";
          if (const char* p = std::getenv("AWS_PROFILE")) profile = p;
          if (auto v = n["profile"]) str(v, "sinks.profile", profile);
          if (auto v = n["credentials_file"]) {
            str(v, "sinks.credentials_file", file);
            if (!file.empty() && file[0] != '/' && !base_.empty()) file = base_ + "/" + file;
          } else if (const char* f = std::getenv("AWS_SHARED_CREDENTIALS_FILE")) {
            file = f;
          } else if (const char* home = std::getenv("HOME")) {
            file = std::string(home) + "/.aws/credentials";
          }
          if (!file.empty()) awsCredentialsFile(n["credentials_file"] ? n["credentials_file"] : n, file, profile, s3);
        }
        if (s3.access_key_id.empty() || s3.secret_access_key.empty())
          error(n, fmt::format("sink '{}' (s3) has no credentials: access_key_id and secret_access_key, "
                               "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a credentials file",
                               s.name));
        break;
      }
      case sinks::SinkConfig::Type::kAzure: {
        auto& az = s.azure;
        if (auto v = n["account"]) str(v, "sinks.account", az.account);
        if (auto v = n["container"]) str(v, "sinks.container", az.container);
        if (az.account.empty()) error(n, fmt::format("sink '{}' (azure) needs an account", s.name));
        if (az.container.empty()) error(n, fmt::format("sink '{}' (azure) needs a container", s.name));
        if (auto v = n["endpoint"]) str(v, "sinks.endpoint", az.endpoint);
        secret(n, "shared_key", "sinks.shared_key", az.shared_key);
        secret(n, "sas_token", "sinks.sas_token", az.sas_token);
        if (az.shared_key.empty() == az.sas_token.empty())
          error(n, fmt::format("sink '{}' (azure) needs exactly one of shared_key and sas_token", s.name));
        break;
      }
    }
    if (auto v = n["instance"]) {
      if (str(v, "sinks.instance", s.instance) &&
          (s.instance.empty() || s.instance.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                              "0123456789._-") != std::string::npos))
        error(v, "sinks.instance may hold letters, digits, '.', '_' and '-' only (it is part of object names)");
    }
  }

  void redis(const YAML::Node& n, RedisConfig& r) {
    r.loc = loc(n);
    if (!map(n, "redis", {"address", "password", "password_env", "db", "timeout", "sync_interval", "key_prefix",
                          "replicas"}))
      return;
    r.enabled = true;
    auto& s = r.settings;
    if (auto v = n["address"]) {
      std::string a;
      if (str(v, "redis.address", a)) {
        auto colon = a.rfind(':');
        uint16_t port = 0;
        if (colon == std::string::npos || colon == 0 || !parsePort(std::string_view(a).substr(colon + 1), port))
          error(v, fmt::format("redis.address '{}' must be host:port", a));
        else
          s.host = a.substr(0, colon), s.port = port;
        if (s.host.size() >= 2 && s.host.front() == '[' && s.host.back() == ']') s.host = s.host.substr(1, s.host.size() - 2);
      }
    } else {
      error(n, "redis needs an address (host:port)");
    }
    if (auto v = n["password"]) str(v, "redis.password", s.password);
    if (auto v = n["password_env"]) {
      std::string var;
      if (str(v, "redis.password_env", var)) {
        const char* val = std::getenv(var.c_str());
        if (!val) error(v, fmt::format("redis.password_env: the environment has no {}", var));
        else s.password = val;
      }
    }
    if (auto v = n["db"]) uint(v, "redis.db", s.db, 0, 1000);
    if (auto v = n["timeout"]) duration(v, "redis.timeout", s.timeout);
    if (auto v = n["sync_interval"]) {
      if (duration(v, "redis.sync_interval", s.sync_interval) &&
          (s.sync_interval.count() < 10 || s.sync_interval.count() > 1000))
        error(v, "redis.sync_interval must be between 10ms and 1s");
    }
    if (s.timeout.count() <= 0 || s.timeout.count() > 10000) error(n, "redis.timeout must be between 1ms and 10s");
    if (auto v = n["key_prefix"]) str(v, "redis.key_prefix", s.key_prefix);
    if (auto v = n["replicas"]) uint(v, "redis.replicas", r.replicas, 1, 10000);
    else error(n, "redis needs replicas: the number of instances sharing the limits (a global limit falls back to "
                  "limit / replicas per instance when Redis is out)");
  }

  void rateLimit(const YAML::Node& n, RateLimitPolicy& rl) {
    rl.loc = loc(n);
    if (!map(n, "rate limit", {"name", "key", "rate", "burst", "exempt", "headers", "max_keys", "delay", "scope",
                                "on_redis_error", "strict"}))
      return;
    if (auto v = n["scope"]) {
      std::string scope;
      if (str(v, "rate_limits.scope", scope)) {
        if (scope == "global") rl.global = true;
        else if (scope != "local") error(v, "rate_limits.scope must be local or global");
      }
    }
    if (auto v = n["on_redis_error"]) {
      std::string mode;
      if (str(v, "rate_limits.on_redis_error", mode)) {
        if (mode == "closed") rl.fail_open = false;
        else if (mode != "open") error(v, "rate_limits.on_redis_error must be open or closed");
      }
      if (!rl.global) error(v, "on_redis_error is for scope: global");
    }
    if (auto v = n["strict"]) {
      boolean(v, "rate_limits.strict", rl.strict);
      if (rl.strict && !rl.global) error(v, "strict is for scope: global (a local limit is exact already)");
    }
    if (rl.global && n["delay"]) error(n["delay"], "delay is for local rate limits (a global one rejects)");
    if (rl.global && n["burst"])
      error(n["burst"], "burst is for local rate limits (a global window admits its whole rate at once)");
    auto& p = rl.policy;
    if (auto v = n["name"]) str(v, "rate_limits.name", p.name);
    else error(n, "a rate limit needs a name");
    if (auto v = n["rate"]) rate(v, p.rate);
    else error(n, fmt::format("rate limit '{}' needs a rate", p.name));
    if (auto v = n["burst"]) u64(v, "rate_limits.burst", p.burst, 1, 1000000000);
    if (auto v = n["headers"]) boolean(v, "rate_limits.headers", p.headers);
    if (auto v = n["max_keys"]) u64(v, "rate_limits.max_keys", rl.max_keys, 64, 100000000);
    if (auto d = n["delay"]) {
      if (map(d, "rate_limits.delay", {"max_queued", "max_delay"})) {
        rl.delay = true;
        rl.delay_max_queued = 10;
        rl.delay_max = Duration(1000);
        if (auto v = d["max_queued"]) u64(v, "delay.max_queued", rl.delay_max_queued, 1, 100000);
        if (auto v = d["max_delay"]) duration(v, "delay.max_delay", rl.delay_max);
        if (rl.delay_max.count() <= 0 || rl.delay_max.count() > 60000)
          error(d, "delay.max_delay must be between 1ms and 60s");
      }
    }
    if (auto v = n["exempt"]) {
      strList(v, "rate_limits.exempt", p.exemptions);
      for (auto& c : p.exemptions)
        if (!ratelimit::parseCidr(c)) error(v, fmt::format("exempt: '{}' is not an address or CIDR", c));
    }
    if (auto k = n["key"]) {
      p.key.clear();
      std::vector<YAML::Node> parts;
      if (k.IsSequence())
        for (const auto& e : k) parts.push_back(e);
      else
        parts.push_back(k);
      for (const auto& e : parts) {
        ratelimit::KeyPart kp;
        if (e.IsScalar()) {
          const std::string& s = e.Scalar();
          if (s == "client_ip") kp.kind = ratelimit::KeyPart::Kind::kClientIp;
          else if (s == "route") kp.kind = ratelimit::KeyPart::Kind::kRoute;
          else if (s == "host") kp.kind = ratelimit::KeyPart::Kind::kHost;
          else if (s == "tls_client_subject") kp.kind = ratelimit::KeyPart::Kind::kTlsSubject;
          else {
            error(e, fmt::format("unknown rate limit key '{}' (client_ip, route, host, tls_client_subject, or a map: "
                                 "header, cookie, query, "
                                 "client_ip with ipv6_prefix)", s));
            continue;
          }
        } else if (e.IsMap() && map(e, "rate limit key", {"header", "cookie", "query", "client_ip"})) {
          int kinds = 0;
          if (auto v = e["header"]) ++kinds, kp.kind = ratelimit::KeyPart::Kind::kHeader, str(v, "key.header", kp.name);
          if (auto v = e["cookie"]) ++kinds, kp.kind = ratelimit::KeyPart::Kind::kCookie, str(v, "key.cookie", kp.name);
          if (auto v = e["query"]) ++kinds, kp.kind = ratelimit::KeyPart::Kind::kQuery, str(v, "key.query", kp.name);
          if (auto c = e["client_ip"]) {
            ++kinds;
            kp.kind = ratelimit::KeyPart::Kind::kClientIp;
            if (map(c, "key.client_ip", {"ipv4_prefix", "ipv6_prefix"})) {
              if (auto v = c["ipv4_prefix"]) uint(v, "ipv4_prefix", kp.ipv4Prefix, 0, 32);
              if (auto v = c["ipv6_prefix"]) uint(v, "ipv6_prefix", kp.ipv6Prefix, 0, 128);
            }
          }
          if (kinds != 1) {
            error(e, "a rate limit key part is one of: client_ip, route, host, header, cookie, query");
            continue;
          }
        } else {
          continue;
        }
        p.key.push_back(kp);
      }
      if (p.key.empty()) error(k, fmt::format("rate limit '{}' has an empty key", p.name));
    }
    for (auto& e : ratelimit::validate(p)) error(n, e);
  }


  // pool.tls: TLS towards the endpoints. `tls: on` verifies against the system
  // trust store with each endpoint's host as the name.
  void upstreamTls(const YAML::Node& n, upstream::PoolConfig& p) {
    auto& t = p.tls.emplace();
    if (n.IsScalar()) {
      bool on = false;
      if (boolean(n, "pool.tls", on) && !on) p.tls.reset();
      return;
    }
    if (!map(n, "pool.tls", {"verify", "ca", "server_name", "min_version", "client_certificate",
                              "allow_insecure_key_permissions"}))
      return;
    auto rel = [&](std::string& f) {
      if (!f.empty() && f[0] != '/' && !base_.empty()) f = base_ + "/" + f;
    };
    if (auto v = n["verify"]) boolean(v, "pool.tls.verify", t.verify);
    if (auto v = n["ca"]) {
      if (str(v, "pool.tls.ca", t.ca_file)) rel(t.ca_file);
      if (!t.verify) error(v, "pool.tls.ca is unused with verify: false");
    }
    if (auto v = n["server_name"]) {
      if (str(v, "pool.tls.server_name", t.server_name) && t.server_name.empty())
        error(v, "pool.tls.server_name must not be empty");
    }
    if (auto v = n["min_version"]) {
      if (str(v, "pool.tls.min_version", t.min_version) && t.min_version != "1.2" && t.min_version != "1.3")
        error(v, "pool.tls.min_version must be \"1.2\" or \"1.3\"");
    }
    if (auto c = n["client_certificate"]) {
      if (map(c, "pool.tls.client_certificate", {"cert", "key"})) {
        auto& cp = t.client_certificate;
        if (auto v = c["cert"]) str(v, "client_certificate.cert", cp.cert_file);
        if (auto v = c["key"]) str(v, "client_certificate.key", cp.key_file);
        if (cp.cert_file.empty() || cp.key_file.empty()) error(c, "pool.tls.client_certificate needs cert and key");
        rel(cp.cert_file);
        rel(cp.key_file);
      }
    }
    if (auto v = n["allow_insecure_key_permissions"])
      boolean(v, "pool.tls.allow_insecure_key_permissions", t.allow_insecure_key_permissions);
  }

  void tlsSettings(const YAML::Node& n, tls::ServerSettings& t) {
    if (n.IsScalar() && (n.Scalar() == "self_signed" || n.Scalar() == "on" || n.Scalar() == "true")) return;
    if (!map(n, "listener.tls", {"certificates", "min_version", "profile", "alpn", "allow_insecure_key_permissions",
                                 "session_cache_size", "session_timeout", "client_certificates",
                                 "ticket_key_rotation", "ciphersuites", "ciphers", "groups", "watch"}))
      return;
    if (auto cs = n["certificates"]) {
      if (!cs.IsSequence()) {
        error(cs, "tls.certificates must be a list of {cert, key}");
      } else {
        for (const auto& c : cs) {
          if (!map(c, "tls.certificates[]", {"cert", "key", "ocsp"})) continue;
          tls::CertificatePair p;
          if (auto v = c["cert"]) str(v, "tls cert", p.cert_file);
          if (auto v = c["key"]) str(v, "tls key", p.key_file);
          if (auto v = c["ocsp"]) str(v, "tls ocsp", p.ocsp_file);
          if (p.cert_file.empty() || p.key_file.empty()) {
            error(c, "a certificate needs cert and key files");
            continue;
          }
          // Relative to the configuration file's directory, like rule files.
          for (auto* f : {&p.cert_file, &p.key_file, &p.ocsp_file})
            if (!f->empty() && (*f)[0] != '/' && !base_.empty()) *f = base_ + "/" + *f;
          t.certificates.push_back(std::move(p));
        }
      }
    }
    if (auto v = n["min_version"]) {
      if (str(v, "tls.min_version", t.min_version) && t.min_version != "1.2" && t.min_version != "1.3")
        error(v, "tls.min_version must be \"1.2\" or \"1.3\" (TLS 1.0 and 1.1 are not offered)");
    }
    if (auto v = n["profile"]) {
      if (str(v, "tls.profile", t.profile) && t.profile != "modern" && t.profile != "intermediate")
        error(v, "tls.profile must be modern or intermediate");
    }
    if (auto v = n["ciphersuites"]) str(v, "tls.ciphersuites", t.ciphersuites);
    if (auto v = n["ciphers"]) {
      str(v, "tls.ciphers", t.ciphers);
      if (t.min_version != "1.2") error(v, "tls.ciphers are TLS 1.2 ciphers: they need min_version \"1.2\"");
    }
    if (auto v = n["groups"]) str(v, "tls.groups", t.groups);
    if (auto v = n["watch"]) boolean(v, "tls.watch", t.watch);
    if (t.profile == "modern" && t.min_version == "1.2")
      error(n, "tls: min_version \"1.2\" needs profile: intermediate (the modern profile is TLS 1.3 only)");
    if (auto v = n["alpn"]) {
      t.alpn.clear();
      strList(v, "tls.alpn", t.alpn);
      for (auto& a : t.alpn)
        if (a != "http/1.1") error(v, fmt::format("tls.alpn: '{}' is not supported (http/1.1; h2 once HTTP/2 exists)", a));
    }
    if (auto cc = n["client_certificates"]) {
      auto& c = t.client;
      if (map(cc, "tls.client_certificates", {"mode", "ca", "verify_depth", "headers"})) {
        std::string mode = "required";
        if (auto v = cc["mode"]) str(v, "client_certificates.mode", mode);
        if (mode == "none") c.mode = tls::ClientCertificates::Mode::None;
        else if (mode == "optional") c.mode = tls::ClientCertificates::Mode::Optional;
        else if (mode == "required") c.mode = tls::ClientCertificates::Mode::Required;
        else error(cc["mode"], "client_certificates.mode must be none, optional or required");
        if (auto v = cc["ca"]) {
          if (str(v, "client_certificates.ca", c.ca_file) && !c.ca_file.empty() && c.ca_file[0] != '/' && !base_.empty())
            c.ca_file = base_ + "/" + c.ca_file;
        }
        if (c.mode != tls::ClientCertificates::Mode::None && c.ca_file.empty())
          error(cc, "client_certificates needs a ca bundle");
        if (auto v = cc["verify_depth"]) uint(v, "client_certificates.verify_depth", c.verify_depth, 1, 16);
        if (auto h = cc["headers"]) {
          if (map(h, "client_certificates.headers", {"subject", "fingerprint"})) {
            if (auto v = h["subject"]) str(v, "headers.subject", c.subject_header);
            if (auto v = h["fingerprint"]) str(v, "headers.fingerprint", c.fingerprint_header);
            for (auto* hn : {&c.subject_header, &c.fingerprint_header})
              if (!hn->empty() && !http::isToken(*hn)) error(h, fmt::format("invalid header name '{}'", *hn));
          }
        }
      }
    }
    if (auto v = n["allow_insecure_key_permissions"]) boolean(v, "allow_insecure_key_permissions", t.allow_insecure_key_permissions);
    if (auto v = n["ticket_key_rotation"]) {
      Duration d;
      if (duration(v, "tls.ticket_key_rotation", d))
        t.ticket_key_rotation_seconds = uint32_t(std::max<int64_t>(1, d.count() / 1000));
    }
    if (auto v = n["session_cache_size"]) uint(v, "tls.session_cache_size", t.session_cache_size, 0, 10000000);
    if (auto v = n["session_timeout"]) {
      Duration d;
      if (duration(v, "tls.session_timeout", d)) t.session_timeout_seconds = uint32_t(std::max<int64_t>(1, d.count() / 1000));
    }
  }

  std::string base_;  // the configuration file's directory

 private:
  std::string file_;
};

LoadResult build(const YAML::Node& root, const std::string& name) {
  Reader rd(name);
  if (auto slash = name.rfind('/'); slash != std::string::npos) rd.base_ = name.substr(0, slash);
  auto cfg = std::make_shared<Config>();
  cfg->path = name;
  LoadResult res;
  if (!root || root.IsNull()) {
    rd.error(Location{name, 1, 1}, "the configuration is empty");
    res.errors = std::move(rd.errors);
    return res;
  }
  if (rd.map(root, "the configuration", {"workers", "busy_poll_us", "log", "admin", "limits", "timeouts", "listeners",
                                        "routes", "pools", "waf", "rate_limits", "trusted_proxies", "redis",
                                        "bans", "sinks"})) {
    cfg->workers = std::max(1u, std::thread::hardware_concurrency());
    if (auto v = root["workers"]) {
      if (v.IsScalar() && v.Scalar() == "auto") {
      } else {
        rd.uint(v, "workers", cfg->workers, 1, 1024);
      }
    }
    if (auto v = root["busy_poll_us"]) rd.uint(v, "busy_poll_us", cfg->busy_poll_us, 0, 100000);
    if (auto v = root["log"]) rd.log(v, cfg->log);
    if (auto v = root["admin"]) {
      if (rd.map(v, "admin", {"listen"})) {
        if (auto l = v["listen"]) cfg->admin.enabled = rd.listen(l, "admin.listen", cfg->admin.listen);
      }
    }
    if (auto v = root["limits"]) rd.limits(v, cfg->limits);
    if (auto v = root["timeouts"]) rd.timeouts(v, cfg->timeouts);
    if (auto v = root["waf"]) rd.waf(v, cfg->waf);
    if (auto rls = root["rate_limits"]) {
      if (!rls.IsSequence()) {
        rd.error(rls, "rate_limits must be a list");
      } else {
        std::set<std::string> names;
        for (const auto& r : rls) {
          RateLimitPolicy rl;
          rd.rateLimit(r, rl);
          if (!names.insert(rl.policy.name).second)
            rd.error(r, fmt::format("duplicate rate limit name '{}'", rl.policy.name));
          cfg->rate_limits.push_back(std::move(rl));
        }
      }
    }
    if (auto v = root["redis"]) rd.redis(v, cfg->redis);
    if (auto ss = root["sinks"]) {
      if (!ss.IsSequence()) {
        rd.error(ss, "sinks must be a list");
      } else {
        std::set<std::string> names;
        for (const auto& sn : ss) {
          sinks::SinkConfig sc;
          rd.sink(sn, sc, cfg->sinks.size());
          if (!names.insert(sc.name).second) rd.error(sn, fmt::format("duplicate sink name '{}'", sc.name));
          for (const auto& other : cfg->sinks)
            if (!sc.spool_path.empty() && other.spool_path == sc.spool_path)
              rd.error(sn, fmt::format("sinks '{}' and '{}' share the spool {}: each sink needs its own",
                                       other.name, sc.name, sc.spool_path));
          cfg->sinks.push_back(std::move(sc));
        }
      }
    }
    if (auto bs = root["bans"]) {
      if (!bs.IsSequence()) {
        rd.error(bs, "bans must be a list");
      } else {
        std::set<std::string> names;
        for (const auto& b : bs) {
          Config::Ban ban;
          rd.ban(b, ban);
          if (!names.insert(ban.policy.name).second) rd.error(b, fmt::format("duplicate ban name '{}'", ban.policy.name));
          if (ban.policy.global && !cfg->redis.enabled)
            rd.error(b, fmt::format("ban '{}' is global: it needs a top-level redis section", ban.policy.name));
          cfg->bans.push_back(std::move(ban));
        }
      }
    }
    for (const auto& rl : cfg->rate_limits) {
      if (rl.global && !cfg->redis.enabled)
        rd.error(rl.loc, fmt::format("rate limit '{}' is global: it needs a top-level redis section", rl.policy.name));
      if (rl.global && rl.policy.rate.per.count() < 1000)
        rd.error(rl.loc, fmt::format("rate limit '{}': a global rate is per second or longer", rl.policy.name));
    }
    if (auto v = root["trusted_proxies"]) {
      rd.strList(v, "trusted_proxies", cfg->trusted_proxies);
      for (auto& c : cfg->trusted_proxies)
        if (!ratelimit::parseCidr(c)) rd.error(v, fmt::format("trusted_proxies: '{}' is not an address or CIDR", c));
    }

    std::set<std::string> listener_names;
    std::set<std::string> addresses;
    if (auto ls = root["listeners"]) {
      if (!ls.IsSequence()) {
        rd.error(ls, "listeners must be a list");
      } else {
        for (const auto& l : ls) {
          Listener li;
          li.loc = rd.loc(l);
          li.limits = cfg->limits;
          if (!rd.map(l, "listener", {"name", "listen", "limits", "tls", "waf", "rate_limits", "redirect_https",
                                       "proxy_protocol", "bans"}))
            continue;
          if (auto v = l["name"]) rd.str(v, "listener.name", li.name);
          if (li.name.empty()) li.name = fmt::format("listener{}", cfg->listeners.size());
          if (!listener_names.insert(li.name).second) rd.error(l, fmt::format("duplicate listener name '{}'", li.name));
          if (auto v = l["tls"]) {
            li.tls.emplace();
            rd.tlsSettings(v, *li.tls);
          }
          if (auto v = l["listen"]) {
            std::vector<YAML::Node> items;
            if (v.IsSequence()) for (const auto& e : v) items.push_back(e);
            else items.push_back(v);
            for (const auto& e : items) {
              ListenAddress a;
              if (rd.listen(e, "listener.listen", a)) {
                std::string key = fmt::format("{}|{}", a.host, a.port);
                if (!addresses.insert(key).second) rd.error(e, fmt::format("address {} is used twice", a.text));
                li.listen.push_back(std::move(a));
              }
            }
          }
          if (li.listen.empty()) rd.error(l, fmt::format("listener '{}' needs at least one listen address", li.name));
          if (auto v = l["limits"]) rd.limits(v, li.limits);
          if (auto v = l["waf"]) rd.wafAttach(v, "listener.waf", li.waf);
          if (auto v = l["rate_limits"]) rd.strList(v, "listener.rate_limits", li.rate_limits);
          if (auto v = l["bans"]) rd.strList(v, "listener.bans", li.bans);
          if (auto v = l["proxy_protocol"]) {
            if (rd.map(v, "proxy_protocol", {"trusted"})) {
              if (auto t = v["trusted"]) rd.strList(t, "proxy_protocol.trusted", li.proxy_protocol_trusted);
              if (li.proxy_protocol_trusted.empty())
                rd.error(v, "proxy_protocol needs trusted: the load balancers allowed to send it (CIDRs)");
              for (auto& c : li.proxy_protocol_trusted)
                if (!ratelimit::parseCidr(c)) rd.error(v, fmt::format("proxy_protocol.trusted: '{}' is not a CIDR", c));
            }
          }
          if (auto v = l["redirect_https"]) {
            if (v.IsMap()) {
              if (rd.map(v, "redirect_https", {"port"})) {
                li.redirect_https = true;
                if (auto p = v["port"]) rd.uint(p, "redirect_https.port", li.https_port, 1, 65535);
              }
            } else {
              rd.boolean(v, "redirect_https", li.redirect_https);
            }
            if (li.redirect_https && l["tls"]) rd.error(v, "redirect_https is for a plain listener, not a TLS one");
          }
          cfg->listeners.push_back(std::move(li));
        }
      }
    }
    if (cfg->listeners.empty()) rd.error(rd.loc(root), "at least one listener is required");
    if (cfg->admin.enabled) {
      std::string key = fmt::format("{}|{}", cfg->admin.listen.host, cfg->admin.listen.port);
      if (addresses.count(key)) rd.error(root["admin"], "admin.listen uses the address of a listener");
    }

    std::set<std::string> pool_names;
    if (auto ps = root["pools"]) {
      if (!ps.IsSequence()) {
        rd.error(ps, "pools must be a list");
      } else {
        for (const auto& p : ps) {
          upstream::PoolConfig pc;
          rd.pool(p, pc);
          if (!pc.name.empty() && !pool_names.insert(pc.name).second)
            rd.error(p, fmt::format("duplicate pool name '{}'", pc.name));
          cfg->pools.push_back(std::move(pc));
        }
      }
    }
    if (auto rs = root["routes"]) {
      if (!rs.IsSequence()) {
        rd.error(rs, "routes must be a list");
      } else {
        std::set<std::string> route_names;
        for (const auto& r : rs) {
          Route ro;
          rd.route(r, ro, cfg->routes.size());
          if (!route_names.insert(ro.name).second) rd.error(r, fmt::format("duplicate route name '{}'", ro.name));
          for (auto& l : ro.listeners)
            if (!listener_names.count(l)) rd.error(r, fmt::format("route '{}' names unknown listener '{}'", ro.name, l));
          if (!ro.pool.empty()) {
            auto it = std::find_if(cfg->pools.begin(), cfg->pools.end(), [&](auto& p) { return p.name == ro.pool; });
            if (it == cfg->pools.end()) rd.error(r["pool"] ? r["pool"] : r, fmt::format("route '{}' names unknown pool '{}'", ro.name, ro.pool));
            else ro.pool_index = size_t(it - cfg->pools.begin());
          }
          cfg->routes.push_back(std::move(ro));
        }
      }
    }
  }
  // WAF references: rule sets named by listeners and routes exist; a rule set is needed
  // wherever the WAF is not off.
  auto checkWaf = [&](const WafAttach& w, const WafAttach* inherited, std::string_view who) {
    if (!w.present) return;
    auto known = [&](const std::string& n) {
      return std::any_of(cfg->waf.rule_sets.begin(), cfg->waf.rule_sets.end(), [&](auto& r) { return r.name == n; });
    };
    if (w.rule_set && !known(*w.rule_set))
      rd.error(w.loc, fmt::format("{}: unknown waf rule set '{}'", who, *w.rule_set));
    if (w.shadow && !known(*w.shadow)) rd.error(w.loc, fmt::format("{}: unknown waf shadow rule set '{}'", who, *w.shadow));
    bool has_set = w.rule_set || (inherited && inherited->rule_set);
    WafMode mode = w.mode ? *w.mode : (inherited && inherited->mode) ? *inherited->mode : WafMode::Block;
    if (mode != WafMode::Off && !has_set)
      rd.error(w.loc, fmt::format("{}: waf needs a rule_set (here or on its listener)", who));
  };
  for (auto& l : cfg->listeners) checkWaf(l.waf, nullptr, fmt::format("listener '{}'", l.name));
  auto knownLimit = [&](const std::string& n) {
    return std::any_of(cfg->rate_limits.begin(), cfg->rate_limits.end(), [&](auto& r) { return r.policy.name == n; });
  };
  for (auto& l : cfg->listeners)
    for (auto& n : l.rate_limits)
      if (!knownLimit(n)) rd.error(l.loc, fmt::format("listener '{}' names unknown rate limit '{}'", l.name, n));
  for (auto& r : cfg->routes)
    for (auto& n : r.rate_limits)
      if (!knownLimit(n)) rd.error(r.loc, fmt::format("route '{}' names unknown rate limit '{}'", r.name, n));
  for (auto& l : cfg->listeners)
    for (auto& n : l.bans)
      if (std::none_of(cfg->bans.begin(), cfg->bans.end(), [&](auto& b) { return b.policy.name == n; }))
        rd.error(l.loc, fmt::format("listener '{}' names unknown ban '{}'", l.name, n));
  for (auto& r : cfg->routes) {
    const WafAttach* inherited = nullptr;
    for (auto& l : cfg->listeners)
      if (l.waf.present && (r.listeners.empty() || std::find(r.listeners.begin(), r.listeners.end(), l.name) != r.listeners.end()))
        if (!inherited || (l.waf.rule_set && !inherited->rule_set)) inherited = &l.waf;
    checkWaf(r.waf, inherited, fmt::format("route '{}'", r.name));
  }
  res.errors = std::move(rd.errors);
  if (res.errors.empty()) res.config = std::move(cfg);
  return res;
}

LoadResult parseText(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    LoadResult r;
    r.errors.push_back({Location{name, e.mark.line + 1, e.mark.column + 1}, e.msg});
    return r;
  }
  try {
    return build(root, name);
  } catch (const YAML::Exception& e) {
    LoadResult r;
    r.errors.push_back({Location{name, e.mark.line + 1, e.mark.column + 1}, e.msg});
    return r;
  }
}

}  // namespace

LoadResult loadString(const std::string& text, const std::string& name) { return parseText(text, name); }

LoadResult loadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({Location{path, 0, 0}, fmt::format("cannot read the file: {}", std::strerror(errno))});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parseText(ss.str(), path);
}

std::string toJson(const Config& c) {
  std::string o = "{";
  o += fmt::format("\"path\":");
  log::appendJsonString(o, c.path);
  o += fmt::format(",\"workers\":{},\"log\":{{\"level\":", c.workers);
  log::appendJsonString(o, c.log.level);
  o += ",\"access\":{\"enabled\":";
  o += c.log.access_enabled ? "true" : "false";
  o += ",\"path\":";
  log::appendJsonString(o, c.log.access_path);
  o += "}},\"admin\":";
  if (c.admin.enabled) log::appendJsonString(o, c.admin.listen.text);
  else o += "null";
  o += ",\"listeners\":[";
  for (size_t i = 0; i < c.listeners.size(); ++i) {
    auto& l = c.listeners[i];
    if (i) o += ',';
    o += "{\"name\":";
    log::appendJsonString(o, l.name);
    o += ",\"listen\":[";
    for (size_t j = 0; j < l.listen.size(); ++j) {
      if (j) o += ',';
      log::appendJsonString(o, l.listen[j].text);
    }
    o += fmt::format("],\"max_body\":{},\"max_header_bytes\":{}}}", l.limits.max_body, l.limits.max_header_bytes);
  }
  o += "],\"routes\":[";
  for (size_t i = 0; i < c.routes.size(); ++i) {
    auto& r = c.routes[i];
    if (i) o += ',';
    o += "{\"name\":";
    log::appendJsonString(o, r.name);
    if (r.direct) o += fmt::format(",\"direct_response\":{}", r.direct->status);
    else {
      o += ",\"pool\":";
      log::appendJsonString(o, r.pool);
    }
    o += ",\"request_headers_add\":[";
    // Header values may carry credentials (Authorization to a backend): names only.
    for (size_t j = 0; j < r.request_headers.add.size(); ++j) {
      if (j) o += ',';
      log::appendJsonString(o, r.request_headers.add[j].first + ": <redacted>");
    }
    o += "]}";
  }
  o += "],\"pools\":[";
  for (size_t i = 0; i < c.pools.size(); ++i) {
    auto& p = c.pools[i];
    if (i) o += ',';
    o += "{\"name\":";
    log::appendJsonString(o, p.name);
    o += ",\"endpoints\":[";
    for (size_t j = 0; j < p.endpoints.size(); ++j) {
      if (j) o += ',';
      log::appendJsonString(o, p.endpoints[j].address);
    }
    o += fmt::format("],\"active_health\":{}}}", p.active.enabled ? "true" : "false");
  }
  o += "]}";
  return o;
}

}  // namespace rampart::gateway::config
