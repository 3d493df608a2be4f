// The WAF engine's public API, as the gateway and the offline tools use it.
//
//   auto compiled = rampart::waf::Engine::compile(ruleset);      // once per rule-set generation
//   if (!compiled.ok()) ... compiled.errors ...
//   rampart::waf::Transaction tx(compiled.engine, request_id);   // per request, per worker
//   tx.processConnection("203.0.113.7", 51234, "127.0.0.1", 8080);
//   tx.processUri("GET", "/search?q=x", "HTTP/1.1");
//   tx.addRequestHeader("Host", "example.com"); ...
//   if (auto v = tx.processRequestHeaders(); v.disruptive()) -> answer v.status, stop
//   tx.appendRequestBody(chunk) ... ; tx.processRequestBody();
//   tx.setResponseStatus(200, "HTTP/1.1"); tx.addResponseHeader(...); tx.processResponseHeaders();
//   tx.appendResponseBody(chunk) ...; tx.processResponseBody();
//   tx.processLogging();                                   // always, errors included
//   for (auto& m : tx.matches()) ...                        // what fired, for the audit event
//
// Semantics are ModSecurity v2's. The Engine is immutable and shared by all
// workers (std::shared_ptr<const Engine>); a Transaction belongs to one thread.
// String views passed to process*/add* must stay valid until the Transaction is
// destroyed (the gateway passes views into its request buffers); body chunks
// are copied (the engine buffers bodies up to the configured limits).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ir.h"
#include "waf/match/value_memo.h"

namespace rampart::waf {

struct MatchedRule {
  int64_t id = 0;
  int phase = 0;
  std::string msg;         // macros expanded
  std::string logdata;     // macros expanded
  int severity = -1;       // 0..7 (EMERGENCY..DEBUG), -1 when not set
  std::vector<std::string> tags;
  std::string matched_var_name;  // e.g. "ARGS:q"
  std::string matched_data;      // the (transformed) value that matched, as MATCHED_VAR
  bool disruptive = false;       // this rule's disruptive action took effect
  bool logged = true;            // false for nolog rules (listed by matches() with id, phase, severity
                                 // and disruptive only: CRS runs ~70 nolog rules per request)
};

struct Verdict {
  enum class Action : uint8_t { None, Deny, Drop, Redirect, Allow };
  Action action = Action::None;  // None: go on. Allow: stop inspecting (per allow's scope)
  int status = 0;                // for Deny (403 default) and Redirect (302 default)
  std::string redirect_url;      // for Redirect
  int64_t rule_id = 0;           // the rule that decided
  int phase = 0;                 // the phase of the decision
  bool disruptive() const { return action == Action::Deny || action == Action::Drop || action == Action::Redirect; }
  bool operator==(const Verdict&) const = default;
};

class Engine;

// Per-rule cost profile (evaluations, matches, time), filled by the
// transactions it is attached to. One per (engine, worker thread): its counters
// are written by one thread only (relaxed stores, no locked instruction) and
// read by others when summed. Time is measured only on the transactions asked
// to; `sampled_evaluations` counts the evaluations those cover, so time per
// evaluation is time_ns / sampled_evaluations and the estimated total is that
// times evaluations. The gateway profiles one transaction in 64 per worker
// with weight 64 (Transaction::setProfile): evaluations and matches are then
// estimates too.
class RuleProfile {
 public:
  explicit RuleProfile(const Engine& engine);
  struct Counters {
    std::atomic<uint64_t> evaluations{0};
    std::atomic<uint64_t> matches{0};
    std::atomic<uint64_t> sampled_evaluations{0};
    std::atomic<uint64_t> time_ns{0};
  };
  size_t size() const { return counters_.size(); }
  Counters& at(size_t rule_index) { return counters_[rule_index]; }
  const Counters& at(size_t rule_index) const { return counters_[rule_index]; }
  // The phase scans (the batched Hyperscan prefilter), counted apart from the
  // rules: the rule that happens to need a scan first is not charged for it.
  Counters& scans() { return scans_; }
  const Counters& scans() const { return scans_; }

 private:
  Counters scans_;
  std::unique_ptr<Counters[]> counters_storage_;
  std::span<Counters> counters_;
};

// A rule of a compiled engine, for profile reports.
struct RuleInfo {
  int64_t id = 0;
  int phase = 0;
  std::string file;
  uint32_t line = 0;
  // How each link (head first, '+' between links) is decided, for profiles:
  // "scanN" (scan group N's database), "setN" (regex set N), "memoN" (value
  // memo bit N), "op" (its operator on every value), "folded", "const".
  std::string how;
};

// One rule's cost summed over profiles, for reports (admin /waf/rules,
// `waf inspect --profile`). est_time_ns = evaluations x time_ns / sampled_evaluations.
struct RuleCost {
  RuleInfo rule;
  uint64_t evaluations = 0;
  uint64_t matches = 0;
  uint64_t sampled_evaluations = 0;
  uint64_t time_ns = 0;
  double est_time_ns = 0;
  double mean_ns() const { return sampled_evaluations ? double(time_ns) / double(sampled_evaluations) : 0; }
};
// Every rule evaluated at least once, most expensive (estimated total time) first.
std::vector<RuleCost> ruleCosts(const Engine& engine, const std::vector<const RuleProfile*>& profiles);

struct CompileResult {
  std::shared_ptr<const Engine> engine;          // null when errors is non-empty
  std::vector<rules::Diagnostic> errors;         // file:line of the rule that failed to compile
  bool ok() const { return engine != nullptr; }
};

class Engine {
 public:
  // Compiles a resolved rule set (regexes, @pm sets, data files, matching
  // databases). Every rule that cannot be compiled is reported.
  static CompileResult compile(const rules::RuleSet& ruleset);
  const rules::EngineSettings& settings() const;
  size_t ruleCount() const;
  // Rules (chain heads and SecActions) by profile index, 0 .. ruleCount()-1.
  RuleInfo ruleInfo(size_t index) const;
  // The batched prefilter: Hyperscan databases (one per phase and set of
  // variables), the rule links they decide, patterns only in prefilter mode,
  // and links left out (Hyperscan refuses their pattern or scans it slower
  // than RE2 runs it: evaluated in full).
  struct ScanStats {
    size_t databases = 0, links = 0, patterns = 0, prefilter_mode = 0, bytes = 0, left_out = 0;
  };
  ScanStats scanStats() const;
  // Phase-1 rules run once at compile time (TX-only initialisation, see engine.cc).
  size_t foldedRules() const;
  // Rules whose outcome tx_init decides (read only TX no rule writes): not evaluated per request.
  size_t constantRules() const;
  // Rules that read and write only TX, replayed from a compile-time run while a
  // request leaves the TX they read alone (Engine::Impl::tx_sims).
  size_t replayedRules() const;
  // Rule links whose verdict on a request value the workers remember (match::ValueMemo).
  size_t memoLinks() const;
  ~Engine();

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  static void buildScans(const std::shared_ptr<Engine>& engine);
  static void precomputeInit(const std::shared_ptr<Engine>& engine);
  static void simulateTxPath(const std::shared_ptr<Engine>& engine);
  static void buildPlans(Impl& impl);  // Impl::plans, from the compiled rules and scans
  static void recognizeKeyedSets(Impl& impl);  // CompiledRule::keyed
  static void assignMemoBits(Impl& impl);  // CompiledRule::memo_bit, keyed_bit
  static void prepareTargets(Impl& impl);  // CompiledVar::var_list, vars_listed, pin_values
  std::unique_ptr<Impl> impl_;
};

class Transaction {
 public:
  Transaction(std::shared_ptr<const Engine> engine, std::string_view unique_id);
  // For a caller that keeps `engine` alive past the transaction (the gateway:
  // a connection holds its configuration generation, which holds the engine).
  // No copy of the shared_ptr: its count is one every worker would write
  // twice a request.
  Transaction(const Engine& engine, std::string_view unique_id);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void processConnection(std::string_view client_ip, uint16_t client_port, std::string_view server_ip,
                         uint16_t server_port);
  // uri is the request-target as sent; protocol e.g. "HTTP/1.1"
  void processUri(std::string_view method, std::string_view uri, std::string_view protocol);
  void addRequestHeader(std::string_view name, std::string_view value);
  Verdict processRequestHeaders();  // phase 1

  // Returns false when the body exceeds the limit and SecRequestBodyLimitAction is Reject
  // (the caller answers 413); with ProcessPartial the rest is ignored.
  bool appendRequestBody(std::string_view chunk);
  Verdict processRequestBody();  // phase 2; call it even when there is no body

  void setResponseStatus(int status, std::string_view protocol);
  void addResponseHeader(std::string_view name, std::string_view value);
  Verdict processResponseHeaders();  // phase 3
  bool appendResponseBody(std::string_view chunk);
  Verdict processResponseBody();  // phase 4 (runs only when response body access applies)

  void processLogging();  // phase 5; always call

  // Counts evaluations and matches per rule into `profile` (which must come from
  // this transaction's engine), and with `timed` the time of each evaluation.
  // `weight` is what each evaluation and match adds to the counts: a caller that
  // profiles one transaction in N passes N, so the counts estimate all of them
  // (a profiled transaction runs every rule entry, not the shortened plan).
  void setProfile(RuleProfile* profile, bool timed, uint32_t weight = 1);

  const std::vector<MatchedRule>& matches() const;  // in firing order, every phase so far
  // The same without the nolog rules' (the ones an audit event lists): cheaper,
  // matches() builds its list when asked.
  std::span<const MatchedRule> loggedMatches() const;
  const Verdict& verdict() const;                   // the first disruptive verdict, or None
  // The first disruptive decision a rule made, whether or not it took effect: in
  // DetectionOnly this is what blocking mode would have done (shadow rule sets, audit).
  const Verdict& wouldBeVerdict() const;

  // Per-transaction override of SecRuleEngine (the gateway's per-route mode); call
  // before processRequestHeaders.
  void setRuleEngine(rules::EngineSettings::RuleEngine mode);
  // After processResponseHeaders: whether processResponseBody will inspect the body
  // (response body access on, the engine active, the Content-Type in SecResponseBodyMimeType).
  bool wantsResponseBody() const;
  // Whether processRequestBody would look at a request body (SecRequestBodyAccess, engine on).
  bool wantsRequestBody() const;
  // What the value memo spared this transaction so far (match::ValueMemo).
  const match::ValueMemo::Stats& valueMemoStats() const;
  // What the value memo knew of a request's header and cookie lists, kept for
  // the next request with the very same headers: each thread keeps 64 such
  // header sets, and a caller may keep one more per client connection (a
  // browser's keep-alive requests carry the same headers, whatever the
  // other clients of its worker send). Opaque; made by newHeaderMemo().
  struct HeaderMemo;
  struct HeaderMemoDelete {
    void operator()(HeaderMemo* m) const;
  };
  using HeaderMemoPtr = std::unique_ptr<HeaderMemo, HeaderMemoDelete>;
  static HeaderMemoPtr newHeaderMemo();
  // Before processRequestHeaders: `m` is asked first and kept up to date
  // beside the thread's; it must outlive the transaction. Null: none.
  void useHeaderMemo(HeaderMemo* m);
  // A TX collection value ("blocking_inbound_anomaly_score"), empty when unset.
  std::string txValue(std::string_view name) const;
  bool isAuditRelevant() const;
  // Query and body arguments and cookies as the engine parsed them, for the
  // audit log's redaction: kind is "ARGS_GET", "ARGS_POST" or "REQUEST_COOKIES".
  void forEachArgument(
      const std::function<void(std::string_view kind, std::string_view name, std::string_view value)>& fn) const;  // auditlog/noauditlog + SecAuditEngine say log this one

  struct Impl;

 private:
  friend class Engine;  // the compile-time probe (Engine::buildScans)
  std::unique_ptr<Impl> impl_;
};

}  // namespace rampart::waf
