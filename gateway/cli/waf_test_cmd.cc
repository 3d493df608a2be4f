// `rampart waf test`: runs go-ftw regression tests (OWASP CRS's tests/ folder)
// against a rule set without a network: each stage's request is built as
// go-ftw builds it, parsed by the gateway's strict HTTP parser, inspected by a
// fresh Transaction, answered by an emulated CRS reflector backend (response
// phases), and judged on the rule ids that fired, the status, and the log.
//
// Semantics chosen where go-ftw talks to a real server:
//  - "the log" is one ModSecurity-style line per fired rule that logs (nolog
//    rules do not reach an error log, so they are not "fired" for the checks);
//  - a request the gateway's parser rejects gets that status (400...) and
//    fires nothing: the gateway answers before the WAF, as nginx/Apache do;
//    it satisfies expect_error (the request failed) and a matching status;
//  - a request whose head never completes gets no answer: an error.
#include <re2/re2.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gateway/cli/ftw_gateway.h"
#include "gateway/cli/ftw_request.h"
#include "gateway/cli/ftw_test.h"
#include "gateway/cli/waf_commands.h"
#include "gateway/cli/waf_runner.h"

namespace rampart::cli {
namespace {

struct TestOptions {
  std::vector<std::string> rules;
  std::string tests;
  std::string overrides;
  std::string expected_failures;
  std::string only;
  bool verbose = false;
  bool gateway = false;
};

int usageError(const std::string& msg) {
  std::fprintf(stderr, "rampart waf test: %s\n", msg.c_str());
  std::fputs(
      "usage: rampart waf test --rules FILE_OR_GLOB... --tests DIR [--overrides FILE]\n"
      "                        [--expected-failures FILE] [--only RULEID|RULEID-TESTID] [--gateway] [-v]\n"
      "  --gateway   run the tests over HTTP through `rampart run` (detect mode) in front of a\n"
      "              reflector backend, reading fired rules from the audit output, as go-ftw does;\n"
      "              without it the tests run in process (same parser, engine and reflector)\n",
      stderr);
  return 2;
}

struct StageOutcome {
  std::set<long long> fired;       // logged rule ids
  std::set<long long> fired_all;   // including nolog
  std::string log;                 // log lines, '\n'-separated
  int status = 0;                  // 0: no response
  bool error = false;              // no response at all (expect_error)
  bool rejected = false;
  std::string note;                // rejection / error reason
  std::string response;            // status line + headers + body, for response_contains
};

StageOutcome runStage(const std::shared_ptr<const waf::Engine>& engine, const ftw::Input& input,
                      const std::string& unique_id) {
  StageOutcome out;
  ftw::WireRequest wire = ftw::parseWire(ftw::buildRawRequest(input));
  if (wire.incomplete) {
    out.error = true;
    out.note = wire.reason;
    return out;
  }
  if (wire.rejected) {
    out.rejected = true;
    out.status = wire.status;
    out.note = fmt::format("rejected by the gateway's HTTP parser: {} {}", wire.status, wire.reason);
    out.response = fmt::format("HTTP/1.1 {} \r\n\r\n", wire.status);
    return out;
  }
  if (wire.body_truncated) out.note = "body shorter than its framing announced; inspected what arrived";
  wafrun::Response resp;  // outlives the transaction (views into it)
  waf::Transaction tx(engine, unique_id);
  tx.processConnection("127.0.0.1", 40000, "127.0.0.1", 80);
  tx.processUri(wire.method, wire.target, wire.protocol);
  for (const auto& [n, v] : wire.headers) tx.addRequestHeader(n, v);
  waf::Verdict v = tx.processRequestHeaders();
  if (!v.disruptive()) {
    if (!wire.body.empty() && !tx.appendRequestBody(wire.body)) {
      out.note = "request body over the limit (413)";
    }
    v = tx.processRequestBody();
  }
  if (v.disruptive()) {
    out.status = v.status ? v.status : 403;
  } else {
    resp = wafrun::reflect(wire.method, wire.target, wire.body);
    tx.setResponseStatus(resp.status, "HTTP/1.1");
    for (const auto& [n, val] : resp.headers) tx.addResponseHeader(n, val);
    v = tx.processResponseHeaders();
    if (!v.disruptive()) {
      if (!resp.body.empty()) tx.appendResponseBody(resp.body);
      v = tx.processResponseBody();
    }
    out.status = v.disruptive() ? (v.status ? v.status : 403) : resp.status;
    out.response = fmt::format("HTTP/1.1 {} \r\n", out.status);
    for (const auto& [n, val] : resp.headers) out.response += n + ": " + val + "\r\n";
    out.response += "\r\n" + resp.body;
  }
  tx.processLogging();
  for (const auto& m : tx.matches()) {
    out.fired_all.insert(m.id);
    if (!m.logged) continue;
    out.fired.insert(m.id);
    out.log += wafrun::logLine(m, wire.target, unique_id);
    out.log += '\n';
  }
  return out;
}

// The same stage through the real gateway (see ftw_gateway.h).
StageOutcome runStageGateway(ftw::GatewayRun& g, const ftw::Input& input) {
  StageOutcome out;
  std::string raw = ftw::buildRawRequest(input);
  ftw::WireRequest wire = ftw::parseWire(raw);
  auto r = g.send(raw);
  out.note = r.note;
  if (r.error) {
    out.error = true;
    return out;
  }
  out.status = r.status;
  out.response = r.response;
  if (wire.rejected) {
    out.rejected = true;
    out.note = fmt::format("rejected by the gateway's HTTP parser: {} {}", wire.status, wire.reason);
  }
  for (const auto& m : r.matches) {
    out.fired.insert(m.id);
    out.fired_all.insert(m.id);
    out.log += wafrun::logLine(m, wire.target, r.request_id);
    out.log += '\n';
  }
  return out;
}

std::string idList(const std::set<long long>& ids) {
  std::string s = "[";
  for (auto id : ids) {
    if (s.size() > 1) s += ' ';
    s += std::to_string(id);
  }
  return s + "]";
}

// Checks one stage; returns the problems found (empty: the stage holds).
std::vector<std::string> judge(const ftw::Output& want, const StageOutcome& got, std::set<long long>& missing,
                               std::set<long long>& unexpected) {
  std::vector<std::string> problems;
  for (auto id : want.expect_ids)
    if (!got.fired.count(id)) missing.insert(id);
  for (auto id : want.no_expect_ids)
    if (got.fired.count(id)) unexpected.insert(id);
  if (!missing.empty() || !unexpected.empty()) problems.push_back("ids");
  bool failed_request = got.error || got.rejected;
  if (want.expect_error.value_or(false)) {
    if (!failed_request) problems.push_back(fmt::format("expected the request to fail, got status {}", got.status));
  } else if (got.error) {
    problems.push_back("no response: " + got.note);
  }
  if (!want.status.empty() &&
      std::find(want.status.begin(), want.status.end(), got.status) == want.status.end()) {
    std::string w;
    for (int s : want.status) w += (w.empty() ? "" : "|") + std::to_string(s);
    problems.push_back(fmt::format("status {} (expected {})", got.status, w));
  }
  for (const auto& re : want.match_regex) {
    RE2 r(re, RE2::Quiet);
    if (!r.ok()) problems.push_back("bad match_regex /" + re + "/: " + r.error());
    else if (!RE2::PartialMatch(got.log, r)) problems.push_back("log does not match /" + re + "/");
  }
  for (const auto& re : want.no_match_regex) {
    RE2 r(re, RE2::Quiet);
    if (!r.ok()) problems.push_back("bad no_match_regex /" + re + "/: " + r.error());
    else if (RE2::PartialMatch(got.log, r)) problems.push_back("log matches /" + re + "/");
  }
  if (!want.response_contains.empty()) {
    RE2 r(want.response_contains, RE2::Quiet);
    if (!r.ok() || !RE2::PartialMatch(got.response, r))
      problems.push_back("response does not match /" + want.response_contains + "/");
  }
  if (got.rejected && (!want.expect_ids.empty() || !want.match_regex.empty())) problems.push_back(got.note);
  return problems;
}

}  // namespace

int wafTestMain(int argc, char** argv) {
  TestOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      return argv[++i];
    };
    if (a == "--rules") {
      while (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0 && std::strcmp(argv[i + 1], "-v") != 0)
        o.rules.push_back(argv[++i]);
      if (o.rules.empty()) return usageError("--rules needs at least one file or glob");
    } else if (a == "--tests") {
      auto v = need("--tests");
      if (!v) return usageError("--tests needs a directory");
      o.tests = v;
    } else if (a == "--overrides") {
      auto v = need("--overrides");
      if (!v) return usageError("--overrides needs a file");
      o.overrides = v;
    } else if (a == "--expected-failures") {
      auto v = need("--expected-failures");
      if (!v) return usageError("--expected-failures needs a file");
      o.expected_failures = v;
    } else if (a == "--only") {
      auto v = need("--only");
      if (!v) return usageError("--only needs RULEID or RULEID-TESTID");
      o.only = v;
    } else if (a == "--gateway") {
      o.gateway = true;
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (a == "-h" || a == "--help") {
      usageError("help");
      return 0;
    } else {
      return usageError("unknown argument: " + a);
    }
  }
  if (o.rules.empty() || o.tests.empty()) return usageError("--rules and --tests are required");

  std::vector<std::string> errors;
  auto tests = ftw::loadTests(o.tests, errors);
  std::vector<ftw::Override> overrides;
  if (!o.overrides.empty()) overrides = ftw::loadOverrides(o.overrides, errors);
  std::map<std::string, std::string> expected;
  if (!o.expected_failures.empty()) expected = ftw::loadExpectedFailures(o.expected_failures, errors);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "rampart waf test: %s\n", e.c_str());
    return 2;
  }
  if (tests.empty()) {
    std::fprintf(stderr, "rampart waf test: no tests found below %s\n", o.tests.c_str());
    return 2;
  }

  auto rules = wafrun::loadRules(wafrun::crsTestSettings(), o.rules);
  for (const auto& w : rules.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!rules.engine) {
    for (const auto& e : rules.errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "rampart waf test: the rule set did not load (%zu errors)\n", rules.errors.size());
    return 2;
  }
  std::fprintf(stderr, "rules: %zu loaded in %.0f ms, compiled in %.0f ms; %zu tests\n", rules.engine->ruleCount(),
               rules.load_ms, rules.compile_ms, tests.size());
  std::unique_ptr<ftw::GatewayRun> gw;
  if (o.gateway) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    gw = std::make_unique<ftw::GatewayRun>();
    std::string err;
    if (ec || !gw->start(self.string(), wafrun::crsTestSettings(), o.rules, &err)) {
      std::fprintf(stderr, "rampart waf test --gateway: %s\n", ec ? ec.message().c_str() : err.c_str());
      return 2;
    }
    std::fprintf(stderr, "gateway: rampart run in detect mode in front of the reflector (%s)\n", gw->dir().c_str());
  }

  size_t passed = 0, failed = 0, skipped = 0, unlisted = 0;
  std::set<std::string> seen_keys;
  for (auto& t : tests) {
    const std::string key = t.key();
    if (!o.only.empty() && o.only != key && o.only != std::to_string(t.rule_id)) continue;
    seen_keys.insert(key);
    std::string expect_reason;
    bool expect_fail = false;
    if (auto it = expected.find(key); it != expected.end()) {
      expect_fail = true;
      expect_reason = it->second;
    }
    bool skip = t.stages.empty();
    for (const auto& ov : overrides) {
      if (ov.rule_id != t.rule_id) continue;
      if (!ov.test_ids.empty() && std::find(ov.test_ids.begin(), ov.test_ids.end(), t.test_id) == ov.test_ids.end())
        continue;
      if (ov.output)
        for (auto& s : t.stages) s.output = *ov.output;
      if (ov.expect_failure) {
        expect_fail = true;
        expect_reason = "override: " + ov.reason;
      } else if (!ov.output) {
        skip = true;
      }
    }
    if (skip) {
      ++skipped;
      if (o.verbose) std::printf("SKIP %s %s\n", t.file.c_str(), key.c_str());
      continue;
    }

    bool ok = true;
    std::set<long long> expected_ids, fired, missing, unexpected;
    std::vector<std::string> problems;
    std::string logs;
    for (size_t si = 0; si < t.stages.size(); ++si) {
      const auto& stage = t.stages[si];
      StageOutcome got;
      try {
        got = gw ? runStageGateway(*gw, stage.input)
                 : runStage(rules.engine, stage.input, fmt::format("{}-{}", key, si + 1));
      } catch (const std::exception& e) {
        got.error = true;
        got.note = std::string("exception: ") + e.what();
      }
      for (auto id : stage.output.expect_ids) expected_ids.insert(id);
      fired.insert(got.fired.begin(), got.fired.end());
      auto p = judge(stage.output, got, missing, unexpected);
      if (!p.empty()) {
        ok = false;
        for (auto& x : p)
          if (x != "ids") problems.push_back(t.stages.size() > 1 ? fmt::format("stage {}: {}", si + 1, x) : x);
      }
      if (o.verbose) {
        logs += got.log;
        if (!got.note.empty()) logs += "  note: " + got.note + "\n";
      }
    }

    if (ok) {
      ++passed;
      if (expect_fail) std::printf("now passing: %s (listed: %s)\n", key.c_str(), expect_reason.c_str());
      if (o.verbose) std::printf("PASS %s %s fired %s\n", t.file.c_str(), key.c_str(), idList(fired).c_str());
    } else {
      ++failed;
      if (!expect_fail) ++unlisted;
      std::string line = fmt::format("{} {}: expected {} fired {} missing {} unexpected {}", t.file, key,
                                     idList(expected_ids), idList(fired), idList(missing), idList(unexpected));
      for (auto& p : problems) line += "; " + p;
      if (expect_fail) line += "  [expected failure: " + expect_reason + "]";
      std::printf("%s\n", line.c_str());
    }
    if (o.verbose && !logs.empty()) std::printf("%s", logs.c_str());
  }
  if (!o.only.empty() && seen_keys.empty()) {
    std::fprintf(stderr, "rampart waf test: --only %s matched no test\n", o.only.c_str());
    return 2;
  }
  std::printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  std::fflush(stdout);
  return unlisted == 0 ? 0 : 1;
}

}  // namespace rampart::cli
