// The WAF as the request path sees it: for every (listener, route) pair the
// compiled engine to run, its mode, an optional shadow engine and the fail
// mode, built once per Runtime generation off the request path.
//
// A rule set is compiled once per distinct source text: the generated
// settings (engine directives and the CRS tx.* shortcuts of the config), the
// rule files in order, the inline rules and the route's exclusions compiled to
// SecLang. Every route and worker using the same text shares one
// std::shared_ptr<const waf::Engine>; memory grows with the number of
// distinct rule sets, not with routes. The mode is not part of the text: it is
// applied per transaction (Transaction::setRuleEngine), so `detect` and
// `block` routes share an engine too, and a SecRuleEngine line inside the
// user's files (modsecurity.conf has one) never overrides the route's mode.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/filters/waf_audit.h"
#include "waf/transaction.h"

namespace rampart::gateway::filters {

struct WafPolicy {
  std::shared_ptr<const waf::Engine> engine;  // null: the WAF is off here
  std::shared_ptr<const waf::Engine> shadow;  // null: no shadow set
  int engine_index = -1;                      // into WafPolicies::engines
  int shadow_index = -1;
  config::WafMode mode = config::WafMode::Off;
  bool fail_open = false;
  std::string rule_set;     // the rule set's name (metrics, audit)
  std::string shadow_name;
  bool active() const { return engine && mode != config::WafMode::Off; }
};

struct WafPolicies {
  std::vector<WafPolicy> listener;            // [listener]: requests that match no route
  std::vector<std::vector<WafPolicy>> route;  // [listener][route]
  std::shared_ptr<const AuditRedactor> redactor;  // from waf.audit

  // The distinct compiled engines, their display names (the rule set's name,
  // "name#2"... when exclusions make several of one set), and a rule profile
  // per engine per worker (sampled timing; counters start at zero each reload).
  std::vector<std::shared_ptr<const waf::Engine>> engines;
  std::vector<std::string> engine_names;
  std::vector<std::vector<std::unique_ptr<waf::RuleProfile>>> profiles;  // [engine][worker]
  // Of a worker's transactions, 1 in kProfileSampling (its first, then every
  // 64th) has its rules counted, each count standing for kProfileSampling,
  // and 1 in kProfileTiming its rules timed too: a timed transaction reads the
  // clock twice a rule (~250 rules at PL1), which at 1 in 16 was 2.5% of a
  // worker's CPU. A profiled transaction runs every rule entry (the others the
  // shortened plan, or replay a request set's phases 1 and 2: ~52k
  // instructions more for a profiled GET with CRS than a replayed one, 3.2k a
  // GET at 1 in 16).
  static constexpr uint64_t kProfileSampling = 64;
  static constexpr uint64_t kProfileTiming = 64;
  static_assert(kProfileTiming % kProfileSampling == 0, "a timed transaction is a counted one");
  waf::RuleProfile* profile(int engine_index, unsigned worker) const {
    if (engine_index < 0 || size_t(engine_index) >= profiles.size()) return nullptr;
    auto& row = profiles[size_t(engine_index)];
    return worker < row.size() ? row[worker].get() : nullptr;
  }
  size_t distinct_engines = 0;
  double compile_ms = 0;

  const WafPolicy& forRoute(size_t listener_index, size_t route_index) const {
    return route[listener_index][route_index];
  }

  // Compiles every rule set the configuration uses, each distinct one once.
  // A reload recompiles (rule and data files may have changed on disk); the
  // old engines live until the last request that started on them ends.
  // False with *errors ("file:line:column: error: problem") on any error.
  static bool build(const config::Config& cfg, WafPolicies& out, std::vector<std::string>* errors);
};

// The SecLang generated in front of a rule set's files (engine directives, the
// recommended body-processor rules, the CRS shortcuts, runtime exclusions) and
// after them (configure-time exclusions). Exposed for tests and `rampart check -v`.
struct GeneratedRules {
  std::string before;
  std::string after;
};
GeneratedRules generateRules(const config::WafRuleSet& rs, const std::vector<config::WafExclusion>& exclusions);

}  // namespace rampart::gateway::filters
