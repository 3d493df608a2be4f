#include "gateway/filters/waf_audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "gateway/http/headers.h"
#include "gateway/log/json.h"

namespace rampart::gateway::filters {

namespace {

constexpr std::string_view kRedacted = "[redacted]";
constexpr size_t kMinScrubLength = 4;  // shorter values would scrub unrelated text

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// Replaces every case-insensitive occurrence of `needle` in `s`.
void scrub(std::string& s, std::string_view needle) {
  if (needle.size() < kMinScrubLength || s.size() < needle.size()) return;
  std::string out;
  size_t i = 0, last = 0;
  bool changed = false;
  while (i + needle.size() <= s.size()) {
    size_t k = 0;
    while (k < needle.size() && lower(s[i + k]) == lower(needle[k])) ++k;
    if (k == needle.size()) {
      out.append(s, last, i - last);
      out += kRedacted;
      i += needle.size();
      last = i;
      changed = true;
    } else {
      ++i;
    }
  }
  if (!changed) return;
  out.append(s, last, std::string::npos);
  s = std::move(out);
}

// "a=1&password=x;b=2" -> the values of sensitive keys replaced.
std::string redactPairs(std::string_view s, const AuditRedactor& r) {
  std::string out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find_first_of("&;", pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view pair = s.substr(pos, end - pos);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && r.sensitiveArg(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out += kRedacted;
    } else {
      out.append(pair);
    }
    if (end < s.size()) out += s[end];
    pos = end + 1;
  }
  return out;
}

std::string redactUri(std::string_view uri, const AuditRedactor& r) {
  auto q = uri.find('?');
  if (q == std::string_view::npos) return std::string(uri);
  return std::string(uri.substr(0, q + 1)) + redactPairs(uri.substr(q + 1), r);
}

std::string_view collectionOf(std::string_view var) { return var.substr(0, var.find(':')); }
std::string_view keyOf(std::string_view var) {
  auto c = var.find(':');
  return c == std::string_view::npos ? std::string_view() : var.substr(c + 1);
}

bool sensitiveVar(std::string_view var, const AuditRedactor& r) {
  std::string_view coll = collectionOf(var), key = keyOf(var);
  if (key.empty()) return false;
  if (coll == "REQUEST_COOKIES") return true;
  if (coll == "REQUEST_HEADERS" || coll == "RESPONSE_HEADERS") return r.sensitiveHeader(key);
  if (coll == "ARGS" || coll == "ARGS_GET" || coll == "ARGS_POST" || coll == "FILES") return r.sensitiveArg(key);
  return false;
}

// Variables whose values are whole query strings or bodies: pairs get redacted.
bool aggregateVar(std::string_view var) {
  std::string_view coll = collectionOf(var);
  return coll == "REQUEST_BODY" || coll == "REQUEST_URI" || coll == "REQUEST_URI_RAW" || coll == "REQUEST_LINE" ||
         coll == "QUERY_STRING" || coll == "FULL_REQUEST" || coll == "ARGS_COMBINED_SIZE";
}

const char* severityName(int s) {
  static const char* kNames[] = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
  return s >= 0 && s <= 7 ? kNames[s] : "";
}

const char* actionName(waf::Verdict::Action a) {
  switch (a) {
    case waf::Verdict::Action::Deny: return "deny";
    case waf::Verdict::Action::Drop: return "drop";
    case waf::Verdict::Action::Redirect: return "redirect";
    case waf::Verdict::Action::Allow: return "allow";
    case waf::Verdict::Action::None: break;
  }
  return "pass";
}


void field(std::string& o, std::string_view name, std::string_view value) {
  o += ',';
  log::appendJsonField(o, name, value);
}

}  // namespace

AuditRedactor::AuditRedactor(const config::WafAudit& c) : cfg(c) {
  if (!c.redact_args.empty()) {
    re2::RE2::Options opts;
    opts.set_case_sensitive(false);
    opts.set_log_errors(false);
    args = std::make_unique<re2::RE2>(c.redact_args, opts);
    if (!args->ok()) args.reset();
  }
}

bool AuditRedactor::sensitiveArg(std::string_view name) const {
  return args && re2::RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *args);
}

bool AuditRedactor::sensitiveHeader(std::string_view name) const {
  return std::any_of(cfg.redact_headers.begin(), cfg.redact_headers.end(),
                     [&](const std::string& h) { return http::iequals(h, name); });
}

bool wantsAuditEvent(const waf::Transaction& tx, const config::WafAudit& cfg, bool shadow) {
  if (cfg.blocked_only) {
    // Shadow sets and detect mode never block: "would have blocked" counts.
    return tx.verdict().disruptive() || tx.wouldBeVerdict().disruptive();
  }
  return !tx.loggedMatches().empty();
}

std::string renderAuditEvent(const AuditContext& ctx, const waf::Transaction& tx, const AuditRedactor& r) {
  // Secret values of this request, scrubbed wherever they appear verbatim.
  std::vector<std::string> secrets;
  if (ctx.req) {
    for (const auto& h : ctx.req->headers) {
      if (!r.sensitiveHeader(h.name)) continue;
      secrets.emplace_back(h.value);
      if (http::iequals(h.name, "Cookie")) {
        std::string_view v = h.value;
        size_t pos = 0;
        while (pos < v.size()) {
          size_t semi = v.find(';', pos);
          if (semi == std::string_view::npos) semi = v.size();
          auto kv = http::trimOws(v.substr(pos, semi - pos));
          if (auto eq = kv.find('='); eq != std::string_view::npos) secrets.emplace_back(kv.substr(eq + 1));
          pos = semi + 1;
        }
      }
    }
  }
  tx.forEachArgument([&](std::string_view kind, std::string_view name, std::string_view value) {
    if (kind == "REQUEST_COOKIES" || r.sensitiveArg(name)) secrets.emplace_back(value);
  });
  std::sort(secrets.begin(), secrets.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  auto clean = [&](std::string s) {
    for (auto& sec : secrets) scrub(s, sec);
    return s;
  };

  const waf::Verdict& v = tx.verdict();
  const waf::Verdict& would = tx.wouldBeVerdict();
  std::string o;
  o.reserve(2048);
  o += "{\"type\":\"waf\"";
  o += ",\"time\":\"";
  log::appendIsoTime(o, ctx.time_ms);
  o += '"';
  field(o, "request_id", ctx.request_id);
  field(o, "listener", ctx.listener);
  field(o, "route", ctx.route);
  field(o, "rule_set", ctx.rule_set);
  field(o, "mode", ctx.mode);
  if (ctx.shadow) o += ",\"shadow\":true";
  field(o, "client", ctx.client);
  if (ctx.req) {
    field(o, "method", ctx.req->method);
    field(o, "host", ctx.req->host);
    field(o, "uri", clean(redactUri(ctx.req->target, r)));
  }
  o += fmt::format(",\"status\":{}", ctx.status);
  std::string_view action = v.disruptive() ? actionName(v.action)
                            : would.disruptive() ? "detected"
                                                 : "pass";
  field(o, "action", action);
  const waf::Verdict& decided = v.disruptive() ? v : would;
  if (decided.disruptive()) {
    o += fmt::format(",\"decision\":{{\"phase\":{},\"rule_id\":{}", decided.phase, decided.rule_id);
    field(o, "would_be", actionName(decided.action));
    o += '}';
  }
  std::string scores;
  for (auto [name, key] : {std::pair<std::string_view, std::string_view>{"inbound", "blocking_inbound_anomaly_score"},
                           {"outbound", "blocking_outbound_anomaly_score"}}) {
    std::string val = tx.txValue(key);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), n);
    if (val.empty() || ec != std::errc() || p != val.data() + val.size()) continue;
    scores += fmt::format("{}\"{}\":{}", scores.empty() ? "" : ",", name, n);
  }
  o += ",\"anomaly_score\":{" + scores + "}";
  o += ",\"matches\":[";
  bool first = true;
  for (const auto& m : tx.loggedMatches()) {
    if (!first) o += ',';
    first = false;
    bool sensitive = sensitiveVar(m.matched_var_name, r);
    std::string data = sensitive ? std::string(kRedacted)
                       : aggregateVar(m.matched_var_name) ? redactPairs(m.matched_data, r)
                                                          : m.matched_data;
    data = clean(std::move(data));
    if (data.size() > r.cfg.max_matched_data) data.resize(r.cfg.max_matched_data);
    std::string logdata;
    if (sensitive) {
      // CRS: "Matched Data: X found within VAR: VALUE" -> keep where, drop what.
      auto within = m.logdata.find(" found within ");
      logdata = within != std::string::npos && m.logdata.rfind("Matched Data: ", 0) == 0
                    ? fmt::format("Matched Data: {} found within {}: {}", kRedacted, m.matched_var_name, kRedacted)
                    : std::string(kRedacted);
    } else {
      logdata = clean(aggregateVar(m.matched_var_name) ? redactPairs(m.logdata, r) : m.logdata);
    }
    if (logdata.size() > r.cfg.max_matched_data + 128) logdata.resize(r.cfg.max_matched_data + 128);
    o += fmt::format("{{\"id\":{},\"phase\":{}", m.id, m.phase);
    field(o, "msg", clean(m.msg));
    field(o, "logdata", logdata);
    if (m.severity >= 0) field(o, "severity", severityName(m.severity));
    o += ",\"tags\":[";
    for (size_t i = 0; i < m.tags.size(); ++i) {
      if (i) o += ',';
      log::appendJsonString(o, m.tags[i]);
    }
    o += ']';
    field(o, "variable", m.matched_var_name);
    field(o, "data", data);
    if (m.disruptive) o += ",\"disruptive\":true";
    o += '}';
  }
  o += "]}";
  return o;
}

}  // namespace rampart::gateway::filters
