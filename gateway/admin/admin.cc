#include "gateway/admin/admin.h"

#include <fmt/format.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__)
extern "C" size_t __sanitizer_get_current_allocated_bytes();  // sanitizer/allocator_interface.h
#endif

#include <charconv>
#include <map>

#include "gateway/core/server.h"
#include "gateway/http/parser.h"
#include "gateway/http/writer.h"
#include "gateway/log/access_log.h"

namespace rampart::gateway::admin {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kAdminIdle{60};

namespace {

std::string label(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

// Per-rule WAF costs of the running generation, summed over workers.
struct EngineCosts {
  std::string name;
  std::vector<waf::RuleCost> costs;
  waf::Engine::ScanStats scans;
};
std::vector<EngineCosts> wafCosts(core::Server& s) {
  std::vector<EngineCosts> out;
  const auto& w = s.runtime()->waf;
  for (size_t e = 0; e < w.engines.size(); ++e) {
    std::vector<const waf::RuleProfile*> ps;
    for (auto& p : w.profiles[e]) ps.push_back(p.get());
    out.push_back({w.engine_names[e], waf::ruleCosts(*w.engines[e], ps), w.engines[e]->scanStats()});
  }
  return out;
}

// GET /waf/rules[?top=N]: the N rules (default 20) that cost the most, per rule set.
std::string wafRules(core::Server& s, std::string_view query) {
  size_t top = 20;
  if (auto p = query.find("top="); p != std::string_view::npos) {
    size_t v = 0;
    auto q = query.substr(p + 4);
    auto [ptr, ec] = std::from_chars(q.data(), q.data() + q.size(), v);
    if (ec == std::errc() && v > 0) top = std::min<size_t>(v, 100000);
  }
  using P = filters::WafPolicies;
  std::string o = fmt::format(
      "{{\"sampling\":\"rules counted on 1 transaction in {0} per worker (the first, then every {0}th), timed on 1 "
      "in {1}; evaluations and matches are the counts times {0}\",\"rule_sets\":[",
      P::kProfileSampling, P::kProfileTiming);
  bool first = true;
  for (auto& ec : wafCosts(s)) {
    if (!first) o += ',';
    first = false;
    o += "{\"name\":";
    log::appendJsonString(o, ec.name);
    // How the rule set compiled: its Hyperscan databases, the rule links they
    // decide and those left to RE2 (Hyperscan refuses the pattern or scans it
    // slower), evaluated in full on every request.
    o += fmt::format(",\"prefilter\":{{\"databases\":{},\"kib\":{},\"patterns\":{},\"links\":{},\"left_out\":{}}}",
                     ec.scans.databases, ec.scans.bytes / 1024, ec.scans.patterns, ec.scans.links, ec.scans.left_out);
    o += ",\"rules\":[";
    for (size_t i = 0; i < ec.costs.size() && i < top; ++i) {
      const auto& c = ec.costs[i];
      if (i) o += ',';
      o += fmt::format("{{\"id\":{},\"phase\":{},\"evaluations\":{},\"matches\":{},\"mean_ns\":{:.0f},"
                       "\"est_seconds\":{:.6f},\"file\":",
                       c.rule.id, c.rule.phase, c.evaluations, c.matches, c.mean_ns(), c.est_time_ns / 1e9);
      log::appendJsonString(o, c.rule.file);
      o += fmt::format(",\"line\":{},\"how\":", c.rule.line);
      log::appendJsonString(o, c.rule.how);
      o += '}';
    }
    o += "]}";
  }
  o += "]}\n";
  return o;
}

std::string metrics(core::Server& s) {
  std::string o;
  o.reserve(16384);
  uint64_t accepted = 0, active = 0, req_active = 0, bin = 0, bout = 0, perr = 0, cfail = 0, retries = 0, nohealthy = 0,
           budget_out = 0;
  uint64_t tls_ok = 0, tls_resumed = 0, tls_failed = 0, rl_delayed = 0, utls_ok = 0, utls_resumed = 0, utls_failed = 0;
  uint64_t memo[12] = {};
  struct Agg {
    std::array<uint64_t, 6> cls{};
    std::array<uint64_t, kLatencyBuckets.size() + 1> lat{};
    uint64_t sum_us = 0;
    uint64_t waf[6] = {};
  };
  std::map<std::string, Agg> routes;
  for (auto& w : s.workers()) {
    auto& m = w->metrics();
    accepted += m.connections_accepted.get();
    active += m.connections_active.get();
    req_active += m.requests_active.get();
    bin += m.bytes_in.get();
    bout += m.bytes_out.get();
    perr += m.parse_errors.get();
    cfail += m.upstream_connect_failures.get();
    retries += m.upstream_retries.get();
    budget_out += m.upstream_retry_budget_exhausted.get();
    nohealthy += m.no_healthy_upstream.get();
    tls_ok += m.tls_handshakes.get();
    tls_resumed += m.tls_resumed.get();
    tls_failed += m.tls_handshake_failures.get();
    utls_ok += m.upstream_tls_handshakes.get();
    utls_resumed += m.upstream_tls_resumed.get();
    utls_failed += m.upstream_tls_failures.get();
    rl_delayed += m.ratelimit_delayed.get();
    const Counter* mc[12] = {&m.waf_memo_scan_values,   &m.waf_memo_scan_values_known, &m.waf_memo_scans,
                             &m.waf_memo_scans_skipped, &m.waf_memo_rule_tests,        &m.waf_memo_rule_tests_known,
                             &m.waf_memo_header_sets,   &m.waf_memo_header_sets_known, &m.waf_memo_request_sets,
                             &m.waf_memo_request_sets_known, &m.waf_memo_request_phases_replayed,
                             &m.waf_memo_scans_sieved};
    for (int i = 0; i < 12; ++i) memo[i] += mc[i]->get();
    std::lock_guard<std::mutex> g(m.mu);
    for (auto& [name, rm] : m.routes) {
      auto& a = routes[name];
      for (size_t i = 0; i < a.cls.size(); ++i) a.cls[i] += rm->by_class[i].get();
      for (size_t i = 0; i < a.lat.size(); ++i) a.lat[i] += rm->latency[i].get();
      a.sum_us += rm->latency_sum_us.get();
      const Counter* wc[6] = {&rm->waf_inspected, &rm->waf_blocked,        &rm->waf_detected,
                              &rm->waf_errors,    &rm->waf_shadow_differs, &rm->waf_time_ns};
      for (int i = 0; i < 6; ++i) a.waf[i] += wc[i]->get();
    }
  }
  auto counter = [&](std::string_view name, std::string_view help, uint64_t v, std::string_view type = "counter") {
    o += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  counter("rampart_connections_accepted_total", "Client connections accepted.", accepted);
  counter("rampart_connections_active", "Client connections open now.", active, "gauge");
  counter("rampart_requests_active", "Requests in flight now.", req_active, "gauge");
  counter("rampart_bytes_received_total", "Bytes received from clients.", bin);
  counter("rampart_bytes_sent_total", "Bytes sent to clients.", bout);
  counter("rampart_request_parse_errors_total", "Requests rejected by the HTTP parser.", perr);
  counter("rampart_upstream_connect_failures_total", "Failed connections to upstream endpoints.", cfail);
  counter("rampart_upstream_retries_total", "Requests retried on another attempt.", retries);
  counter("rampart_upstream_retry_budget_exhausted_total",
          "Retries the route's policy allowed but its retry budget refused.", budget_out);
  counter("rampart_no_healthy_upstream_total", "Requests answered 503 for lack of a healthy endpoint.", nohealthy);
  counter("rampart_tls_handshakes_total", "TLS handshakes completed.", tls_ok);
  counter("rampart_tls_resumed_total", "TLS handshakes that resumed a session.", tls_resumed);
  counter("rampart_tls_handshake_failures_total", "TLS handshakes that failed.", tls_failed);
  {
    std::array<uint64_t, admin::kTlsFailureReasons.size()> by{};
    for (auto& w : s.workers())
      for (size_t i = 0; i < by.size(); ++i) by[i] += w->metrics().tls_failure_reasons[i].get();
    o += "# HELP rampart_tls_handshake_failures_by_reason_total TLS handshakes that failed, by reason.\n"
         "# TYPE rampart_tls_handshake_failures_by_reason_total counter\n";
    for (size_t i = 0; i < by.size(); ++i)
      o += fmt::format("rampart_tls_handshake_failures_by_reason_total{{reason=\"{}\"}} {}\n",
                       admin::kTlsFailureReasons[i], by[i]);
  }
  counter("rampart_upstream_tls_handshakes_total", "TLS handshakes with upstream endpoints completed.", utls_ok);
  counter("rampart_upstream_tls_resumed_total", "Upstream TLS handshakes that resumed a session.", utls_resumed);
  counter("rampart_upstream_tls_failures_total", "Upstream TLS handshakes that failed (verification included).",
          utls_failed);
  counter("rampart_ratelimit_delayed_total", "Requests a delay policy held back before admitting them.", rl_delayed);
  counter("rampart_waf_memo_scan_values_total", "Request values the WAF gathered for its phase scans.", memo[0]);
  counter("rampart_waf_memo_scan_values_known_total",
          "Of them, values left out: known (waf.value_memo) to match nothing in that scan.", memo[1]);
  counter("rampart_waf_memo_scans_total", "WAF phase scans with values to scan.", memo[2]);
  counter("rampart_waf_memo_scans_skipped_total", "Of them, scans not run: every value known to match nothing.",
          memo[3]);
  counter("rampart_waf_memo_scans_sieved_total",
          "Of them, scans not run: no value not known holds a byte the scan's patterns need.", memo[11]);
  counter("rampart_waf_memo_rule_tests_total", "Request values the WAF's remembered rules had to test.", memo[4]);
  counter("rampart_waf_memo_rule_tests_known_total", "Of them, tests passed over: the value known not to match.",
          memo[5]);
  counter("rampart_waf_memo_header_sets_total", "Requests whose merged headers the WAF looked up as a set.", memo[6]);
  counter("rampart_waf_memo_header_sets_known_total",
          "Of them, found: the memo's answers for their header lists taken from an earlier request's.", memo[7]);
  counter("rampart_waf_memo_request_sets_total",
          "Requests (their line and merged headers) the WAF looked up as a set.", memo[8]);
  counter("rampart_waf_memo_request_sets_known_total",
          "Of them, found: the memo's questions answered as for an earlier request with the same bytes.", memo[9]);
  counter("rampart_waf_memo_request_phases_replayed_total",
          "Phases of requests found as a set replayed: what the earlier request's did, applied without walking "
          "their rules.",
          memo[10]);
  o += fmt::format(
      "# HELP rampart_config_reloads_total Configuration reloads by result.\n"
      "# TYPE rampart_config_reloads_total counter\n"
      "rampart_config_reloads_total{{result=\"ok\"}} {}\nrampart_config_reloads_total{{result=\"error\"}} {}\n",
      s.reloadsOk(), s.reloadsFailed());
  counter("rampart_config_generations_live",
          "Configuration generations alive: the current one and those kept by connections begun under them.",
          core::Runtime::live(), "gauge");
  {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer's allocator replaces malloc's (mallinfo2 reads zeros there).
    const uint64_t heap = __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = ::mallinfo2();
    const uint64_t heap = mi.uordblks + mi.hblkhd;
#endif
    counter("rampart_process_heap_bytes", "Heap bytes in use (allocated and not freed), all malloc arenas.", heap,
            "gauge");
  }
  o += "# HELP rampart_requests_total Requests by route and status class.\n# TYPE rampart_requests_total counter\n";
  static const char* kClass[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (auto& [name, a] : routes)
    for (size_t i = 0; i < a.cls.size(); ++i)
      if (a.cls[i])
        o += fmt::format("rampart_requests_total{{route=\"{}\",class=\"{}\"}} {}\n", label(name), kClass[i], a.cls[i]);
  o += "# HELP rampart_request_duration_seconds Time from request head to the end of the response.\n"
       "# TYPE rampart_request_duration_seconds histogram\n";
  for (auto& [name, a] : routes) {
    uint64_t cum = 0;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cum += a.lat[i];
      o += fmt::format("rampart_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", label(name),
                       kLatencyBuckets[i], cum);
    }
    cum += a.lat.back();
    o += fmt::format("rampart_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", label(name), cum);
    o += fmt::format("rampart_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n", label(name), a.sum_us / 1e6);
    o += fmt::format("rampart_request_duration_seconds_count{{route=\"{}\"}} {}\n", label(name), cum);
  }
  struct WafMetric {
    const char* name;
    const char* help;
  };
  static const WafMetric kWaf[6] = {
      {"rampart_waf_inspected_total", "Requests inspected by the WAF."},
      {"rampart_waf_blocked_total", "Requests or responses the WAF blocked."},
      {"rampart_waf_detected_total", "Detect mode: requests block mode would have blocked."},
      {"rampart_waf_errors_total", "WAF engine errors (handled by the route's on_error)."},
      {"rampart_waf_shadow_differences_total", "Requests where the shadow rule set's verdict differed."},
      {"rampart_waf_seconds_total", "Time spent in the WAF engine."}};
  for (int i = 0; i < 6; ++i) {
    o += fmt::format("# HELP {} {}\n# TYPE {} counter\n", kWaf[i].name, kWaf[i].help, kWaf[i].name);
    for (auto& [name, a] : routes) {
      if (!a.waf[0]) continue;
      if (i == 5) o += fmt::format("{}{{route=\"{}\"}} {:.9f}\n", kWaf[i].name, label(name), double(a.waf[i]) / 1e9);
      else o += fmt::format("{}{{route=\"{}\"}} {}\n", kWaf[i].name, label(name), a.waf[i]);
    }
  }
  {
    // Per rule (every rule evaluated at least once in this generation).
    auto costs = wafCosts(s);
    const auto n = filters::WafPolicies::kProfileSampling;
    std::string ev = fmt::format(
        "# HELP rampart_waf_rule_evaluations_total WAF rule evaluations (chain heads; 1 transaction in {0} "
        "counted, times {0}).\n# TYPE rampart_waf_rule_evaluations_total counter\n", n);
    std::string ma = fmt::format(
        "# HELP rampart_waf_rule_matches_total WAF rules that matched (whole chain; 1 transaction in {0} counted, "
        "times {0}).\n# TYPE rampart_waf_rule_matches_total counter\n", n);
    std::string se = "# HELP rampart_waf_rule_seconds_total Estimated time in each WAF rule (sampled).\n"
                     "# TYPE rampart_waf_rule_seconds_total counter\n";
    for (auto& ec : costs)
      for (auto& c : ec.costs) {
        std::string lbl = fmt::format("{{rule_set=\"{}\",rule_id=\"{}\"}}", label(ec.name), c.rule.id);
        ev += fmt::format("rampart_waf_rule_evaluations_total{} {}\n", lbl, c.evaluations);
        ma += fmt::format("rampart_waf_rule_matches_total{} {}\n", lbl, c.matches);
        se += fmt::format("rampart_waf_rule_seconds_total{} {:.6f}\n", lbl, c.est_time_ns / 1e9);
      }
    o += ev + ma + se;
  }
  {
    const auto& rls = s.runtime()->rate_limits.policies;
    std::string a = "# HELP rampart_ratelimit_allowed_total Requests a rate limit admitted.\n"
                    "# TYPE rampart_ratelimit_allowed_total counter\n";
    std::string r = "# HELP rampart_ratelimit_rejected_total Requests a rate limit answered 429.\n"
                    "# TYPE rampart_ratelimit_rejected_total counter\n";
    std::string e = "# HELP rampart_ratelimit_evictions_total Keys evicted because the table was at max_keys.\n"
                    "# TYPE rampart_ratelimit_evictions_total counter\n";
    std::string k = "# HELP rampart_ratelimit_keys Keys tracked now.\n# TYPE rampart_ratelimit_keys gauge\n";
    std::string f = "# HELP rampart_ratelimit_redis_fallback_total Requests a global limit decided without Redis "
                    "(fail open or closed).\n# TYPE rampart_ratelimit_redis_fallback_total counter\n";
    for (const auto& p : rls) {
      const std::string lbl = fmt::format("{{policy=\"{}\"}}", label(p.cfg->policy.name));
      // The three kinds of limiter report alike; fallbacks only where Redis is involved.
      auto emit = [&](const auto& l, const uint64_t* fallbacks) {
        a += fmt::format("rampart_ratelimit_allowed_total{} {}\n", lbl, l.allowedCount());
        r += fmt::format("rampart_ratelimit_rejected_total{} {}\n", lbl, l.rejectedCount());
        e += fmt::format("rampart_ratelimit_evictions_total{} {}\n", lbl, l.evictions());
        k += fmt::format("rampart_ratelimit_keys{} {}\n", lbl, l.size());
        if (fallbacks) f += fmt::format("rampart_ratelimit_redis_fallback_total{} {}\n", lbl, *fallbacks);
      };
      if (p.global) {
        const uint64_t fb = p.global->fallbacks();
        emit(*p.global, &fb);
      } else if (p.strict) {
        const uint64_t fb = p.strict->fallbacks();
        emit(*p.strict, &fb);
      } else {
        emit(*p.limiter, nullptr);
      }
    }
    o += a + r + e + k + f;
    if (const auto& bans = s.runtime()->rate_limits.bans; !bans.empty()) {
      std::string st = "# HELP rampart_bans_started_total Clients banned after repeated offences.\n"
                       "# TYPE rampart_bans_started_total counter\n";
      std::string rj = "# HELP rampart_bans_rejected_total Requests answered 403 because the client was banned.\n"
                       "# TYPE rampart_bans_rejected_total counter\n";
      std::string ac = "# HELP rampart_bans_active Clients banned now (here or, for global bans, by any "
                       "instance).\n# TYPE rampart_bans_active gauge\n";
      std::string ev = "# HELP rampart_bans_evictions_total Clients dropped from a ban table at max_keys.\n"
                       "# TYPE rampart_bans_evictions_total counter\n";
      for (const auto& b : bans) {
        std::string lbl = fmt::format("{{ban=\"{}\"}}", label(b->policy().name));
        st += fmt::format("rampart_bans_started_total{} {}\n", lbl, b->bansStarted());
        rj += fmt::format("rampart_bans_rejected_total{} {}\n", lbl, b->rejected());
        ac += fmt::format("rampart_bans_active{} {}\n", lbl, b->active());
        ev += fmt::format("rampart_bans_evictions_total{} {}\n", lbl, b->evictions());
      }
      o += st + rj + ac + ev;
    }
    if (s.accessLog() || s.auditLog()) {
      o += "# HELP rampart_log_records_total Records the log writer rendered, by stream.\n"
           "# TYPE rampart_log_records_total counter\n";
      if (const auto* l = s.accessLog()) o += fmt::format("rampart_log_records_total{{stream=\"access\"}} {}\n", l->written());
      if (const auto* l = s.auditLog()) o += fmt::format("rampart_log_records_total{{stream=\"waf\"}} {}\n", l->written());
      o += "# HELP rampart_log_records_dropped_total Records a worker could not queue (its ring was full).\n"
           "# TYPE rampart_log_records_dropped_total counter\n";
      if (const auto* l = s.accessLog())
        o += fmt::format("rampart_log_records_dropped_total{{stream=\"access\"}} {}\n", l->dropped());
      if (const auto* l = s.auditLog())
        o += fmt::format("rampart_log_records_dropped_total{{stream=\"waf\"}} {}\n", l->dropped());
    }
    if (auto sinks = s.sinks(); !sinks.empty()) {
      struct M {
        const char* name;
        const char* type;
        const char* help;
        std::string body;
      };
      M ms[] = {
          {"rampart_sink_records_enqueued_total", "counter", "Records a sink accepted into memory.", {}},
          {"rampart_sink_records_shipped_total", "counter", "Records stored by the sink's store.", {}},
          {"rampart_sink_records_spooled_total", "counter",
           "Records of batches that waited in the spool after a failed upload (or found there at start).", {}},
          {"rampart_sink_records_dropped_total", "counter",
           "Records lost by reason: memory (in-memory cap), spool (spool cap or spool write failure).", {}},
          {"rampart_sink_records_filtered_total", "counter", "Access records left out by the filter or sampling.",
           {}},
          {"rampart_sink_batches_total", "counter", "Batches stored.", {}},
          {"rampart_sink_bytes_total", "counter", "Bytes stored (after compression).", {}},
          {"rampart_sink_raw_bytes_total", "counter", "Bytes of records batched (before compression).", {}},
          {"rampart_sink_upload_seconds_total", "counter", "Time spent in successful uploads.", {}},
          {"rampart_sink_errors_total", "counter", "Failed uploads by kind.", {}},
          {"rampart_sink_spool_bytes", "gauge", "Bytes in the spool now.", {}},
          {"rampart_sink_spool_batches", "gauge", "Batches in the spool now.", {}},
      };
      for (const auto* sk : sinks) {
        const auto& c = sk->counters();
        const std::string n = label(sk->name());
        for (int k = 0; k < 2; ++k) {
          const std::string l = fmt::format("{{sink=\"{}\",stream=\"{}\"", n, k == 0 ? "access" : "waf");
          ms[0].body += fmt::format("{}{}}} {}\n", ms[0].name, l, c.enqueued[k].load());
          ms[1].body += fmt::format("{}{}}} {}\n", ms[1].name, l, c.shipped[k].load());
          ms[2].body += fmt::format("{}{}}} {}\n", ms[2].name, l, c.spooled[k].load());
          ms[3].body += fmt::format("{}{},reason=\"memory\"}} {}\n", ms[3].name, l, c.dropped_memory[k].load());
          ms[3].body += fmt::format("{}{},reason=\"spool\"}} {}\n", ms[3].name, l, c.dropped_spool[k].load());
          ms[4].body += fmt::format("{}{}}} {}\n", ms[4].name, l, c.dropped_filter[k].load());
        }
        const std::string l = fmt::format("{{sink=\"{}\"}}", n);
        ms[5].body += fmt::format("{}{} {}\n", ms[5].name, l, c.batches.load());
        ms[6].body += fmt::format("{}{} {}\n", ms[6].name, l, c.bytes.load());
        ms[7].body += fmt::format("{}{} {}\n", ms[7].name, l, c.raw_bytes.load());
        ms[8].body += fmt::format("{}{} {:.6f}\n", ms[8].name, l, double(c.upload_us.load()) / 1e6);
        for (auto [kind, v] : {std::pair{"connect", &c.errors_connect}, {"timeout", &c.errors_timeout},
                               {"auth", &c.errors_auth}, {"client", &c.errors_client}, {"server", &c.errors_server},
                               {"io", &c.errors_io}})
          ms[9].body += fmt::format("{}{{sink=\"{}\",kind=\"{}\"}} {}\n", ms[9].name, n, kind, v->load());
        ms[10].body += fmt::format("{}{} {}\n", ms[10].name, l, c.spool_bytes.load());
        ms[11].body += fmt::format("{}{} {}\n", ms[11].name, l, c.spool_batches.load());
      }
      for (const auto& m : ms) o += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", m.name, m.help, m.name, m.type, m.body);
    }
    if (const auto* rs = s.redisSync()) {
      o += fmt::format(
          "# HELP rampart_ratelimit_redis_up Whether the last sync with Redis succeeded.\n"
          "# TYPE rampart_ratelimit_redis_up gauge\nrampart_ratelimit_redis_up {}\n"
          "# HELP rampart_ratelimit_redis_syncs_total Syncs of global rate limits with Redis by result.\n"
          "# TYPE rampart_ratelimit_redis_syncs_total counter\n"
          "rampart_ratelimit_redis_syncs_total{{result=\"ok\"}} {}\n"
          "rampart_ratelimit_redis_syncs_total{{result=\"error\"}} {}\n"
          "# HELP rampart_ratelimit_redis_commands_total Commands sent to Redis.\n"
          "# TYPE rampart_ratelimit_redis_commands_total counter\nrampart_ratelimit_redis_commands_total {}\n"
          "# HELP rampart_ratelimit_redis_sync_seconds_total Time spent in successful syncs.\n"
          "# TYPE rampart_ratelimit_redis_sync_seconds_total counter\nrampart_ratelimit_redis_sync_seconds_total {:.6f}\n",
          rs->up() ? 1 : 0, rs->syncs(), rs->errors(), rs->commands(), double(rs->syncMicros()) / 1e6);
    }
  }
  o += "# HELP rampart_upstream_healthy Endpoint available (active-healthy and not ejected).\n"
       "# TYPE rampart_upstream_healthy gauge\n";
  std::string reqs =
      "# HELP rampart_upstream_requests_total Requests sent to an endpoint.\n"
      "# TYPE rampart_upstream_requests_total counter\n";
  std::string fails =
      "# HELP rampart_upstream_failures_total Failed requests to an endpoint.\n"
      "# TYPE rampart_upstream_failures_total counter\n";
  std::string ejects =
      "# HELP rampart_upstream_ejections_total Passive ejections of an endpoint.\n"
      "# TYPE rampart_upstream_ejections_total counter\n";
  std::string actives =
      "# HELP rampart_upstream_active_requests Requests in flight to an endpoint.\n"
      "# TYPE rampart_upstream_active_requests gauge\n";
  auto now = upstream::Clock::now();
  for (auto& p : s.runtime()->pools) {
    if (!p) continue;
    for (auto& e : p->endpoints()) {
      auto st = e->stats(now);
      std::string l =
          fmt::format("{{pool=\"{}\",endpoint=\"{}\"}}", label(p->config().name), label(e->config().address));
      o += fmt::format("rampart_upstream_healthy{} {}\n", l, (st.active_healthy && !st.ejected) ? 1 : 0);
      reqs += fmt::format("rampart_upstream_requests_total{} {}\n", l, st.requests);
      fails += fmt::format("rampart_upstream_failures_total{} {}\n", l, st.failures);
      ejects += fmt::format("rampart_upstream_ejections_total{} {}\n", l, st.ejections);
      actives += fmt::format("rampart_upstream_active_requests{} {}\n", l, st.active_requests);
    }
  }
  o += reqs + fails + ejects + actives;
  return o;
}

std::string upstreams(core::Server& s) {
  std::string o = "{\"pools\":[";
  bool first = true;
  for (auto& p : s.runtime()->pools) {
    if (!p) continue;
    if (!first) o += ',';
    first = false;
    o += p->statusJson();
  }
  o += "]}\n";
  return o;
}

}  // namespace

// One admin connection (a plain function: a coroutine lambda's captures would
// die with the lambda object before the frame runs).
asio::awaitable<void> serveAdminConnection(core::Server& server, tcp::socket s) {
  asio::steady_timer idle(s.get_executor());
  std::vector<char> buf(16384);
  size_t end = 0;
  for (;;) {
    http::RequestHead head;
    http::ParseError err;
    http::Limits lim;
    lim.max_header_bytes = buf.size();
    http::ParseStatus st = http::ParseStatus::NeedMore;
    while ((st = end ? http::parseRequestHead(std::string_view(buf.data(), end), lim, head, err)
                     : http::ParseStatus::NeedMore) == http::ParseStatus::NeedMore) {
      if (end == buf.size()) co_return;
      // Idle admin connections (a scraper's keep-alive) close after a minute.
      idle.expires_after(kAdminIdle);
      auto r = co_await (s.async_read_some(asio::buffer(buf.data() + end, buf.size() - end), kTuple) ||
                         idle.async_wait(kTuple));
      if (r.index() == 1) co_return;
      auto [rec, n] = std::get<0>(r);
      if (rec || n == 0) co_return;
      end += n;
    }
    if (st == http::ParseStatus::Error || head.framing != http::BodyFraming::None) {
      std::string r = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      co_await asio::async_write(s, asio::buffer(r), kTuple);
      co_return;
    }
    std::string_view target = head.target;
    auto q = target.find('?');
    std::string_view path = target.substr(0, q);
    uint16_t status = 200;
    std::string body, type = "text/plain; charset=utf-8";
    if (head.method != "GET" && head.method != "HEAD") {
      status = 405;
      body = "only GET and HEAD\n";
    } else if (path == "/metrics") {
      body = metrics(server);
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (path == "/healthz") {
      body = "ok\n";
    } else if (path == "/ready") {
      if (server.draining())
        status = 503, body = "draining\n";
      else
        body = "ready\n";
    } else if (path == "/upstreams") {
      body = upstreams(server);
      type = "application/json";
    } else if (path == "/config") {
      body = config::toJson(*server.runtime()->config) + "\n";
      type = "application/json";
    } else if (path == "/waf/rules") {
      body = wafRules(server, q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
      type = "application/json";
    } else if (path == "/") {
      body = "rampart admin: /metrics /healthz /ready /upstreams /config /waf/rules\n";
    } else {
      status = 404;
      body = "not found\n";
    }
    std::string r;
    http::appendStatusLine(r, status);
    http::appendHeader(r, "Content-Type", type);
    http::appendHeader(r, "Content-Length", std::to_string(body.size()));
    if (!head.keep_alive) http::appendHeader(r, "Connection", "close");
    r += "\r\n";
    if (head.method != "HEAD") r += body;
    bool keep = head.keep_alive;
    size_t used = head.head_size;
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(r), kTuple);
    if (wec || !keep) co_return;
    std::memmove(buf.data(), buf.data() + used, end - used);
    end -= used;
  }
}

asio::awaitable<void> serveAdmin(core::Server& server, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (!acceptor.is_open()) co_return;
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serveAdminConnection(server, std::move(sock)), asio::detached);
  }
}

}  // namespace rampart::gateway::admin
