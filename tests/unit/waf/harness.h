// Test helpers: compile a tiny rule set from text and run one request through
// every phase, as the gateway does.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rules/parser.h"
#include "waf/transaction.h"

namespace rampart::waf::testing {

inline std::shared_ptr<const Engine> compileRules(const std::string& text, bool on = true,
                                                  std::vector<rules::Diagnostic>* errors = nullptr) {
  std::string prefix = on ? "SecRuleEngine On\nSecRequestBodyAccess On\nSecResponseBodyAccess On\n" : "";
  rules::ParseOptions opts;
  opts.base_dir = RAMPART_TEST_DATA "/waf";
  auto loaded = rules::loadString(prefix + text, RAMPART_TEST_DATA "/waf/inline.conf", opts);
  if (!loaded.ok()) {
    for (auto& d : loaded.diagnostics) ADD_FAILURE() << rules::format(d);
    return nullptr;
  }
  auto compiled = Engine::compile(loaded.ruleset);
  if (errors) *errors = compiled.errors;
  else
    for (auto& d : compiled.errors) ADD_FAILURE() << rules::format(d);
  return compiled.engine;
}

// The same with one of the engine's A/B switches (RAMPART_WAF_TX_PATH=0 and the
// like, read when rules compile) set for the compile only.
inline std::shared_ptr<const Engine> compileRulesWith(const char* env, const char* value, const std::string& text) {
  setenv(env, value, 1);
  auto engine = compileRules(text);
  unsetenv(env);
  return engine;
}

struct Request {
  std::string method = "GET";
  std::string uri = "/";
  std::string protocol = "HTTP/1.1";
  std::vector<std::pair<std::string, std::string>> headers = {{"Host", "example.com"}};
  std::string body;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> response_headers = {{"Content-Type", "text/html"}};
  std::string response_body;
  // The phases a gateway may leave out: 4 (a response body not inspected),
  // 3 and 4 (`waf inspect`, which has no response).
  bool response_body_phase = true;
  bool response_phases = true;
};

// A form POST (application/x-www-form-urlencoded) of `body` to `uri`.
inline Request formPost(std::string uri, std::string body) {
  Request req;
  req.method = "POST";
  req.uri = std::move(uri);
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  req.body = std::move(body);
  return req;
}

struct Run {
  std::unique_ptr<Transaction> tx;
  Verdict first;  // the first disruptive/allow verdict returned by a phase
  bool body_accepted = true;

  std::vector<int64_t> ids() const {
    std::vector<int64_t> v;
    for (auto& m : tx->matches()) v.push_back(m.id);
    return v;
  }
  bool fired(int64_t id) const {
    auto v = ids();
    return std::find(v.begin(), v.end(), id) != v.end();
  }
  std::string tx_(const std::string& name) const { return tx->txValue(name); }
};

// `req` must outlive the returned Run (the transaction keeps views into it).
inline Run run(const std::shared_ptr<const Engine>& engine, const Request& req) {
  Run r;
  r.tx = std::make_unique<Transaction>(engine, "test-1");
  auto& tx = *r.tx;
  tx.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
  tx.processUri(req.method, req.uri, req.protocol);
  for (auto& [n, v] : req.headers) tx.addRequestHeader(n, v);
  auto keep = [&](Verdict v) {
    if (r.first.action == Verdict::Action::None && v.action != Verdict::Action::None) r.first = v;
    return v.disruptive();
  };
  if (!keep(tx.processRequestHeaders())) {
    if (!req.body.empty()) r.body_accepted = tx.appendRequestBody(req.body);
    if (!keep(tx.processRequestBody()) && req.response_phases) {
      tx.setResponseStatus(req.status, "HTTP/1.1");
      for (auto& [n, v] : req.response_headers) tx.addResponseHeader(n, v);
      if (!keep(tx.processResponseHeaders()) && req.response_body_phase) {
        if (!req.response_body.empty()) tx.appendResponseBody(req.response_body);
        keep(tx.processResponseBody());
      }
    }
  }
  tx.processLogging();
  return r;
}

}  // namespace rampart::waf::testing
