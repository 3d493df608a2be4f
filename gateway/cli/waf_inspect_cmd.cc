// `rampart waf inspect`: replays a JSONL corpus of requests through the WAF,
// request side only (what the gateway does before choosing a backend), and
// prints each verdict, or with --bench the per-request inspection latency.
//
// Corpus lines use the format of ../shared/modsec-oracle (modsec_inspect):
//   {"method":"GET","uri":"/a?b=c","version":"1.1","headers":[["Host","x"],...],"body":""}
// and the measurement mirrors it (same phases, warm-up pass, nearest-rank
// percentiles, requests/s = samples / sum of latencies), so that the two
// outputs can be compared line by line. Verdict lines (the default output, or
// --bench --verdicts FILE) use its --verdicts shape:
// "index<TAB>status<TAB>rule ids<TAB>method uri" (status 0 = passed).
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gateway/cli/alloc_counter.h"
#include "gateway/cli/waf_commands.h"
#include "gateway/cli/waf_runner.h"
#include "gateway/http/parser.h"
#include "waf/match/value_memo.h"

namespace rampart::cli {
namespace {

struct CorpusRequest {
  std::string method;
  std::string uri;
  std::string protocol;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string unique_id;
  std::string group;  // the corpus's "tag" up to its first '/' ("benign", "attack"), empty when untagged
};

struct InspectOptions {
  std::vector<std::string> rules;
  std::string corpus;
  bool bench = false;
  int paranoia = 0;
  int passes = 5;
  std::string label;
  std::string verdicts;  // --bench: also write verdict lines here (untimed pass)
  int profile = 0;       // --profile N: per-rule cost table, top N
  size_t evict_kib = 0;  // --evict KIB: write this much memory between timed requests
  int slowest = 0;       // --slowest N: the N requests with the highest median time
  std::string memo = "pass";  // --memo: the value memo emptied before each pass, never, or off
};

int usageError(const std::string& msg) {
  std::fprintf(stderr, "rampart waf inspect: %s\n", msg.c_str());
  std::fputs(
      "usage: rampart waf inspect --rules FILE_OR_GLOB... --corpus FILE.jsonl [--bench] [--paranoia N]\n"
      "                           [--passes N] [--label TEXT] [--verdicts FILE] [--profile [N]] [--evict KIB]\n"
      "                           [--slowest N] [--memo pass|warm|off]\n"
      "  --profile [N]   after the timed passes, one more set of passes with every rule timed; prints\n"
      "                  the N (default 30) rules that cost the most: evaluations, matches, time\n"
      "  --evict KIB     before each request (untimed), write KIB KiB of other memory: the engine's data\n"
      "                  is then partly out of the caches, as between requests in a busy gateway\n"
      "  --memo MODE     the values each scan group and remembered rule found nothing in, kept across\n"
      "                  requests (as a gateway worker does): `pass` (default) empties it before each\n"
      "                  pass, so a pass sees the corpus as new traffic; `warm` keeps it; `off` scans\n"
      "                  and tests every value every time\n",
      stderr);
  return 2;
}

bool loadCorpus(const std::string& path, std::vector<CorpusRequest>& out) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "rampart waf inspect: cannot open corpus %s\n", path.c_str());
    return false;
  }
  simdjson::dom::parser parser;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto fail = [&](const char* what) {
      std::fprintf(stderr, "rampart waf inspect: %s:%zu: %s\n", path.c_str(), lineno, what);
      return false;
    };
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) return fail("not JSON");
    CorpusRequest r;
    std::string_view s;
    if (doc["method"].get(s)) return fail("no \"method\"");
    r.method = s;
    if (doc["uri"].get(s)) return fail("no \"uri\"");
    r.uri = s;
    if (doc["version"].get(s)) s = "1.1";
    r.protocol = s.rfind("HTTP/", 0) == 0 ? std::string(s) : "HTTP/" + std::string(s);
    simdjson::dom::array headers;
    if (doc["headers"].get(headers)) return fail("no \"headers\" array");
    for (auto h : headers) {
      simdjson::dom::array pair;
      std::string_view n, v;
      if (h.get(pair) || pair.size() != 2 || pair.at(0).get(n) || pair.at(1).get(v))
        return fail("header is not a [name, value] pair");
      r.headers.emplace_back(std::string(n), std::string(v));
    }
    if (!doc["body"].get(s)) r.body = s;
    if (!doc["tag"].get(s)) r.group = std::string(s.substr(0, s.find('/')));
    r.unique_id = fmt::format("inspect-{}", out.size());
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    std::fprintf(stderr, "rampart waf inspect: corpus %s has no requests\n", path.c_str());
    return false;
  }
  return true;
}

// One request-side transaction, as the gateway runs it; returns the status of
// the intervention (0 when the request passes).
int inspectOne(const std::shared_ptr<const waf::Engine>& engine, const CorpusRequest& r, std::vector<int64_t>* ids,
               waf::RuleProfile* profile = nullptr) {
  waf::Transaction tx(engine, r.unique_id);
  if (profile) tx.setProfile(profile, true);
  tx.processConnection("127.0.0.1", 40000, "127.0.0.1", 80);
  tx.processUri(r.method, r.uri, r.protocol);
  for (const auto& [n, v] : r.headers) tx.addRequestHeader(n, v);
  waf::Verdict v = tx.processRequestHeaders();
  int status = 0;
  if (v.disruptive()) {
    status = v.status ? v.status : 403;
  } else {
    if (!r.body.empty() && !tx.appendRequestBody(r.body)) status = 413;
    if (!status) {
      v = tx.processRequestBody();
      if (v.disruptive()) status = v.status ? v.status : 403;
    }
  }
  if (ids) {
    tx.processLogging();
    for (const auto& m : tx.matches())
      if (m.logged) ids->push_back(m.id);  // what an error log (and modsec_inspect --verdicts) shows
  }
  return status;
}

// One line per request: "index<TAB>status<TAB>logged rule ids<TAB>method uri"
// (modsec_inspect --verdicts shape). Returns how many were intervened.
size_t writeVerdicts(const std::shared_ptr<const waf::Engine>& engine, const std::vector<CorpusRequest>& corpus,
                     FILE* out) {
  size_t intervened = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    std::vector<int64_t> ids;
    int s = inspectOne(engine, corpus[i], &ids);
    if (s) ++intervened;
    std::set<int64_t> uniq(ids.begin(), ids.end());
    std::string list;
    for (auto id : uniq) list += (list.empty() ? "" : ",") + std::to_string(id);
    std::string uri = corpus[i].uri.size() > 160 ? corpus[i].uri.substr(0, 160) + "..." : corpus[i].uri;
    for (char& c : uri)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    std::fprintf(out, "%zu\t%d\t%s\t%s %s\n", i, s, list.c_str(), corpus[i].method.c_str(), uri.c_str());
  }
  return intervened;
}

double pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// The latency figures every distribution line prints (all samples, a tag group).
struct Distribution {
  double sum = 0, mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Distribution distribution(std::vector<double> v) {
  Distribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  for (double x : v) d.sum += x;
  d.mean = d.sum / static_cast<double>(v.size());
  d.p50 = pct(v, 50);
  d.p90 = pct(v, 90);
  d.p99 = pct(v, 99);
  d.max = v.back();
  return d;
}

}  // namespace

int wafInspectMain(int argc, char** argv) {
  InspectOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rules") {
      while (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) o.rules.push_back(argv[++i]);
      if (o.rules.empty()) return usageError("--rules needs at least one file or glob");
    } else if (a == "--corpus" && i + 1 < argc) {
      o.corpus = argv[++i];
    } else if (a == "--profile") {
      o.profile = 30;
      if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9') o.profile = std::atoi(argv[++i]);
      if (o.profile < 1) return usageError("--profile needs a positive count");
    } else if (a == "--bench") {
      o.bench = true;
    } else if (a == "--paranoia" && i + 1 < argc) {
      o.paranoia = std::atoi(argv[++i]);
      if (o.paranoia < 1 || o.paranoia > 4) return usageError("--paranoia must be 1..4");
    } else if (a == "--memo" && i + 1 < argc) {
      o.memo = argv[++i];
      if (o.memo != "pass" && o.memo != "warm" && o.memo != "off") return usageError("--memo must be pass, warm or off");
    } else if (a == "--passes" && i + 1 < argc) {
      o.passes = std::atoi(argv[++i]);
      if (o.passes < 2) return usageError("--passes must be at least 2 (the first is a warm-up)");
    } else if (a == "--evict" && i + 1 < argc) {
      const long kib = std::atol(argv[++i]);
      if (kib < 0 || kib > (1 << 20)) return usageError("--evict must be 0..1048576 (KiB)");
      o.evict_kib = size_t(kib);
    } else if (a == "--slowest" && i + 1 < argc) {
      o.slowest = std::atoi(argv[++i]);
      if (o.slowest < 1) return usageError("--slowest needs a positive count");
    } else if (a == "--label" && i + 1 < argc) {
      o.label = argv[++i];
    } else if (a == "--verdicts" && i + 1 < argc) {
      o.verdicts = argv[++i];
    } else if (a == "-h" || a == "--help") {
      usageError("help");
      return 0;
    } else {
      return usageError("unknown or incomplete argument: " + a);
    }
  }
  if (o.rules.empty() || o.corpus.empty()) return usageError("--rules and --corpus are required");

  auto rules = wafrun::loadRules(wafrun::inspectSettings(o.paranoia), o.rules);
  for (const auto& w : rules.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!rules.engine) {
    for (const auto& e : rules.errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "rampart waf inspect: the rule set did not load (%zu errors)\n", rules.errors.size());
    return 2;
  }
  std::vector<CorpusRequest> corpus;
  if (!loadCorpus(o.corpus, corpus)) return 2;
  const size_t n = corpus.size();

  if (!o.bench) {
    size_t intervened = writeVerdicts(rules.engine, corpus, stdout);
    std::printf("intervened: %zu of %zu\n", intervened, n);
    return 0;
  }

  std::printf("rampart: %s (%s)\n", RAMPART_VERSION, RAMPART_BUILD);
  std::printf("rules: %zu rules (%s%s), loaded in %.0f ms, compiled in %.0f ms\n", rules.engine->ruleCount(),
              o.rules.front().c_str(), o.rules.size() > 1 ? " ..." : "", rules.load_ms, rules.compile_ms);
  {
    auto st = rules.engine->scanStats();
    std::printf("prefilter: %zu Hyperscan databases (%.0f KiB), %zu patterns (%zu in prefilter mode), deciding %zu "
                "rule links; %zu left to RE2 (refused by Hyperscan or scanned slower)\n",
                st.databases, double(st.bytes) / 1024, st.patterns, st.prefilter_mode, st.links, st.left_out);
    std::printf("folded: %zu TX-only phase-1 rules run once at compile time; %zu rules decided by their TX; %zu "
                "replayed while a request leaves their TX alone\n",
                rules.engine->foldedRules(), rules.engine->constantRules(), rules.engine->replayedRules());
  }
  std::printf("corpus: %s (%zu requests), passes: %d (first is warm-up), paranoia: %s\n", o.corpus.c_str(), n,
              o.passes, o.paranoia ? std::to_string(o.paranoia).c_str() : "rule set default");
  waf::match::ValueMemo::setEnabled(o.memo != "off");
  auto& memo = waf::match::ValueMemo::forThread();
  memo.clear();

  std::vector<int> status(n, -1);
  std::vector<double> samples;
  samples.reserve(n * static_cast<size_t>(o.passes - 1));
  size_t unstable = 0;
  uint64_t allocs = 0;
  std::vector<std::vector<double>> per_request(o.slowest ? n : 0);  // --slowest: each request's timed passes
  std::map<std::string, std::vector<double>> by_group;  // a tagged corpus: the samples of each tag group
  auto wall0 = std::chrono::steady_clock::now();
  std::vector<char> evict(o.evict_kib * 1024, 1);
  [[maybe_unused]] static volatile unsigned evict_sink = 0;
  for (int pass = 0; pass < o.passes; ++pass) {
    if (o.memo == "pass") memo.clear();
    if (pass == 1) memo.stats = {};  // the timed passes'
    for (size_t i = 0; i < n; ++i) {
      if (!evict.empty()) {  // a line at a time, left dirty; the sum keeps the loop from being optimised out
        unsigned sum = 0;
        for (size_t k = 0; k < evict.size(); k += 64) sum += static_cast<unsigned char>(++evict[k]);
        evict_sink = sum;
      }
      uint64_t a0 = threadAllocations();
      auto t0 = std::chrono::steady_clock::now();
      int s = inspectOne(rules.engine, corpus[i], nullptr);
      auto t1 = std::chrono::steady_clock::now();
      uint64_t a1 = threadAllocations();
      if (pass == 0) {
        status[i] = s;
      } else {
        if (status[i] != s) ++unstable;
        samples.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        if (o.slowest) per_request[i].push_back(samples.back());
        if (!corpus[i].group.empty()) by_group[corpus[i].group].push_back(samples.back());
        allocs += a1 - a0;
      }
    }
  }
  auto wall1 = std::chrono::steady_clock::now();
  const Distribution all = distribution(samples);
  const double rps = static_cast<double>(samples.size()) / (all.sum / 1e6);
  const double allocs_per = static_cast<double>(allocs) / static_cast<double>(samples.size());
  size_t intervened = 0;
  std::map<int, size_t> by_status;
  for (int s : status)
    if (s != 0) {
      ++intervened;
      ++by_status[s];
    }
  std::printf("samples: %zu, wall: %.2f s\n", samples.size(), std::chrono::duration<double>(wall1 - wall0).count());
  std::printf("latency us: mean %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", all.mean, all.p50, all.p90,
              all.p99, all.max);
  std::printf("requests/s (one core): %.0f\n", rps);
  std::printf("allocations/request: %.1f\n", allocs_per);
  std::printf("intervened: %zu of %zu", intervened, n);
  for (auto& [s, c] : by_status) std::printf("  [status %d: %zu]", s, c);
  std::printf("\n");
  if (unstable) std::printf("WARNING: %zu verdicts differed between passes\n", unstable);
  {
    const auto& ms = memo.stats;
    auto pct = [](uint64_t a, uint64_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; };
    std::printf("value memo: %s (%zu rule links%s); timed passes: %.1f%% of scans skipped (every value known), "
                "%.1f%% sieved (no value not known holds a byte their patterns need), %.1f%% of scanned values "
                "and %.1f%% of remembered links' tests passed over, %.1f%% of remembered links decided without "
                "their values (every one known), %.1f%% of requests known as a set "
                "(%.2f of their phases replayed each), %.1f%% of the others' headers\n",
                o.memo == "off" ? "off" : o.memo == "pass" ? "emptied before each pass" : "kept across passes",
                rules.engine->memoLinks(), o.memo == "off" ? "" : ", up to 64 scan groups",
                pct(ms.scans_skipped, ms.scans), pct(ms.scans_sieved, ms.scans), pct(ms.values_known, ms.values),
                pct(ms.link_values_known, ms.link_values), pct(ms.links_skipped, ms.links),
                pct(ms.request_sets_known, ms.request_sets), ms.request_sets_known ? double(ms.request_phases_replayed) / double(ms.request_sets_known) : 0.0,
                pct(ms.header_sets_known, ms.header_sets));
  }
  std::printf(
      "RESULT label=%s requests=%zu mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f rps=%.0f "
      "intervened=%zu allocs_per_request=%.1f load_ms=%.0f compile_ms=%.0f\n",
      o.label.empty() ? "-" : o.label.c_str(), n, all.mean, all.p50, all.p90, all.p99, all.max, rps, intervened,
      allocs_per, rules.load_ms, rules.compile_ms);
  // A tagged corpus (bench/gen_corpus.py): the same samples by group, so that
  // the benign requests' figures read apart from the attacks' (which run every
  // rule to the blocking evaluation and confirm their matches).
  for (const auto& [group, v] : by_group) {
    const Distribution g = distribution(v);
    std::printf("GROUP label=%s group=%s samples=%zu mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
                o.label.empty() ? "-" : o.label.c_str(), group.c_str(), v.size(), g.mean, g.p50, g.p90, g.p99, g.max);
  }
  if (o.slowest) {
    // Each request's median over the timed passes (one pass's hiccup does not
    // make a request slow), the highest first: what the tail is made of.
    std::vector<std::pair<double, size_t>> med;
    for (size_t i = 0; i < n; ++i) {
      auto& v = per_request[i];
      std::sort(v.begin(), v.end());
      med.emplace_back(v[v.size() / 2], i);
    }
    std::sort(med.begin(), med.end(), std::greater<>());
    std::printf("\nslowest requests (median of %d timed passes):\n%9s %7s  %s\n", o.passes - 1, "us", "body", "request");
    for (size_t k = 0; k < med.size() && k < size_t(o.slowest); ++k) {
      const CorpusRequest& r = corpus[med[k].second];
      std::string_view type;
      for (const auto& [name, value] : r.headers)
        if (gateway::http::iequals(name, "Content-Type")) type = value;
      std::printf("%9.1f %7zu  #%zu %s %.80s%s%.*s\n", med[k].first, r.body.size(), med[k].second, r.method.c_str(),
                  r.uri.c_str(), type.empty() ? "" : "  ", int(std::min<size_t>(type.size(), 60)),
                  type.empty() ? "" : type.data());
    }
  }
  if (o.profile) {
    waf::RuleProfile profile(*rules.engine);
    auto p0 = std::chrono::steady_clock::now();
    for (int pass = 1; pass < o.passes; ++pass)
      for (size_t i = 0; i < n; ++i) inspectOne(rules.engine, corpus[i], nullptr, &profile);
    double wall_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - p0).count();
    auto costs = waf::ruleCosts(*rules.engine, {&profile});
    double total = 0;
    for (auto& c : costs) total += c.est_time_ns;
    const double reqs = double(n) * double(o.passes - 1);
    std::printf("\nper-rule cost (%zu rules evaluated; rules account for %.0f%% of the profiled time)\n", costs.size(),
                wall_ns > 0 ? 100.0 * total / wall_ns : 0.0);
    {
      const auto& sc = profile.scans();
      uint64_t scans = sc.evaluations.load(), sampled = sc.sampled_evaluations.load(), ns = sc.time_ns.load();
      double mean_ns = sampled ? double(ns) / double(sampled) : 0;
      std::printf("phase scans (Hyperscan prefilter, not in the rules' figures): %.2f per request, mean %.0f ns, "
                  "%.2f us/request, %.0f%% of the profiled time\n",
                  double(scans) / reqs, mean_ns, mean_ns * double(scans) / reqs / 1000.0,
                  wall_ns > 0 ? 100.0 * mean_ns * double(scans) / wall_ns : 0.0);
    }
    std::printf("%4s %9s %5s %12s %10s %10s %12s %7s  %-40s %s\n", "rank", "rule", "phase", "evals/req", "matches",
                "mean ns", "us/request", "share", "where", "how (per link: scan group, regex set, memo bit, keyed set)");
    for (size_t k = 0; k < costs.size() && k < size_t(o.profile); ++k) {
      const auto& c = costs[k];
      const std::string where = fmt::format("{}:{}", std::filesystem::path(c.rule.file).filename().string(), c.rule.line);
      std::printf("%4zu %9lld %5d %12.2f %10llu %10.0f %12.2f %6.1f%%  %-40s %s\n", k + 1, (long long)c.rule.id,
                  c.rule.phase, double(c.evaluations) / reqs, (unsigned long long)c.matches, c.mean_ns(),
                  c.est_time_ns / reqs / 1000.0, total > 0 ? 100.0 * c.est_time_ns / total : 0.0, where.c_str(),
                  c.rule.how.c_str());
    }
  }
  if (!o.verdicts.empty()) {
    FILE* f = std::fopen(o.verdicts.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "rampart waf inspect: cannot write %s\n", o.verdicts.c_str());
      return 2;
    }
    writeVerdicts(rules.engine, corpus, f);
    std::fclose(f);
    std::printf("verdicts: %s\n", o.verdicts.c_str());
  }
  return 0;
}

}  // namespace rampart::cli
