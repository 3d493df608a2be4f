// Engine::Impl: the compiled, immutable form of a rule set. Rules keep v2's
// order per phase; each rule holds its compiled targets, operator,
// transformation pipeline (with prefix ids for the per-transaction cache) and
// its actions split into metadata, flow, disruptive and per-match steps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ir.h"
#include "waf/collection.h"
#include "waf/actions/actions.h"
#include "waf/match/hs_prefilter.h"
#include "waf/match/regex.h"
#include "waf/match/value_memo.h"
#include "waf/operators/operator.h"
#include "waf/transaction.h"
#include "waf/transformations/transformation.h"
#include "waf/variables/variables.h"

namespace rampart::waf {

// ASCII case folding, as ModSecurity's C-locale tolower (names, keys, selectors).
inline char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? char(c + ('a' - 'A')) : c; }
// Whether `s` holds an ASCII upper-case letter, eight bytes at a time: a key
// built from macros (920450's "header_name_920450_%{tx.0}") seldom does, and
// then needs no lower-cased copy.
inline bool hasAsciiUpper(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const uint64_t low7 = w & 0x7f7f7f7f7f7f7f7full;
    // Per byte below 0x80: bit 7 of low7 + 0x3f is set from 'A' on, of low7 + 0x25 from '[' on.
    if (~w & (low7 + 0x3f3f3f3f3f3f3f3full) & ~(low7 + 0x2525252525252525ull) & 0x8080808080808080ull) return true;
  }
  for (; i < s.size(); ++i)
    if (s[i] >= 'A' && s[i] <= 'Z') return true;
  return false;
}
// `s` in lower case: itself when it has no upper-case letter, else lowered
// into `buf` (a buffer the caller keeps: no allocation once warm).
inline std::string_view asciiLowered(std::string_view s, std::string& buf) {
  if (!hasAsciiUpper(s)) return s;
  buf.assign(s);
  for (auto& c : buf) c = asciiLower(c);
  return buf;
}
std::string toLower(std::string_view s);
// Inline: the engine compares names this way ~1,000 times a request.
// The last bytes first: names of one length that differ mostly differ there
// (Sec-Fetch-Dest, Sec-Fetch-Mode, Sec-Fetch-Site; Accept, Cookie).
inline bool iequalsSameSize(const char* a, const char* b, size_t n) {
  if (n == 0) return true;
  if (a[n - 1] != b[n - 1] && asciiLower(a[n - 1]) != asciiLower(b[n - 1])) return false;
  for (size_t i = 0; i + 1 < n; ++i)
    if (a[i] != b[i] && asciiLower(a[i]) != asciiLower(b[i])) return false;
  return true;
}
// The sizes first, where it is called: most names compared differ in length
// (a request's header merge alone asks ~50 times), and a call of the whole
// comparison cost ~16 instructions for that answer.
[[gnu::always_inline]] inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequalsSameSize(a.data(), b.data(), a.size());
}

struct CompiledVar {
  variables::Kind kind = variables::Kind::Unknown;
  std::string name;            // canonical upper case, e.g. "ARGS"
  std::string selector;        // as written
  std::string selector_lower;  // lower case, for case-insensitive key matching
  std::shared_ptr<match::Regex> selector_re;
  bool count = false;
  bool exclude = false;
  // Its values as resolved once a phase for every link and scan group that
  // reads the same variable (Engine::prepareTargets; -1: resolved at each use).
  int16_t var_list = -1;
  // Its values are the request line's or headers' (variables::fixedByHead):
  // the list is resolved once a request, not again each phase.
  bool head_list = false;
  // REQUEST_HEADERS(_NAMES) with a literal selector: its key's id in
  // Engine::Impl::header_keys (-1: none), by which a transaction finds the one
  // header it selects (request headers are merged by name) without comparing
  // every header's name.
  int16_t header_key = -1;
  // TX with a regex selector: the items of Engine::Impl::tx_init (by index,
  // live or not) whose key it matches. A TX copied from tx_init keeps them at
  // those indices; only the items added after them are tested per request.
  bool tx_init_known = false;
  std::vector<uint32_t> tx_init_hits;
};

enum class Disruptive : uint8_t { None, Pass, Deny, Drop, Redirect, Allow, Block, Proxy };
enum class AllowScope : uint8_t { All, Request, Phase };


// A compiled rule (head) or chain link. The fields every evaluation reads
// (Transaction::Impl::evaluateLink) come first, in the first two cache lines
// (the struct is line-aligned): a gateway's request finds few rules still
// cached, and each line of a rule it reads is a miss to memory.
struct alignas(64) CompiledRule {
  std::vector<CompiledVar> vars;
  std::unique_ptr<operators::Operator> op;
  std::vector<const transformations::Info*> tfns;
  // Prefilter: the scan group (phase, variables) whose Hyperscan database holds
  // this link's @rx pattern, and its id there (-1: always run the operator).
  int scan_group = -1;
  int scan_id = -1;
  std::vector<actions::Step> steps;  // per-match, non-disruptive
  std::vector<std::unique_ptr<CompiledRule>> chain;  // links after the head (head only)
  // A link the scan does not decide whose pattern is in a RegexSet
  // (Engine::Impl::regex_sets[regex_set], member regex_set_bit): a value the
  // set finds no member in is not matched by it either.
  int regex_set = -1;
  int regex_set_bit = -1;
  uint32_t tfn_triggers = 0;    // the tfns' triggers together (a value without them passes unchanged)
  bool negated = false;
  bool multi_match = false;
  bool capture = false;
  bool chained = false;  // another link follows
  // Its bit in the threads' match::ValueMemo (-1: none): a value it is known
  // not to match (its operator pure, its argument without macros) is passed
  // over without being transformed or tested.
  int8_t memo_bit = -1;
  // A head of the keyed-set pattern (CompiledRule::keyed): its bit in the
  // memo, set for a value that leaves its chain nothing to match (-1: none).
  int8_t keyed_bit = -1;
  // A link whose outcome is a function of the request's bytes alone (its
  // variables the request's own or their counts, its operator pure, its
  // argument without macros) and that has no memo bit: its bit among a
  // request set's answers (Transaction::Impl::RequestSet), set when it
  // matched nothing on a request with these bytes (-1: none).
  int8_t outcome_bit = -1;
  // Every variable it reads (exclusions aside) has a var_list: whether the
  // request's memo knows every value not to match it can be asked per list.
  bool vars_listed = false;
  // Those lists, at Engine::Impl::known_lists[known_at .. known_at+known_count).
  uint32_t known_at = 0;
  uint16_t known_count = 0;
  bool excludes = false;  // a variable of it is an exclusion (!REQUEST_COOKIES:/__utm/)
  // Its actions may change a collection value its targets view while it runs
  // (captures into TX:0-9; a setvar of a key it reads...): those values are
  // pinned (Transaction::Impl::pins) while it runs. Engine::prepareTargets.
  bool pin_values = true;
  // Heads: a link or action of the rule reads MATCHED_VARS(_NAMES), as a
  // target or in a macro; the others do not collect them (a rule's are
  // cleared when it ends, so no other rule sees them). Engine::prepareTargets.
  bool keeps_matched_vars = true;
  std::vector<int> prefix_ids;  // prefix_ids[i]: id of the pipeline tfns[0..i]
  int pipeline_id = 0;  // prefix id of the whole pipeline (0: no transformation)
  int profile_index = -1;  // heads: index in RuleProfile (0 .. rule_count-1)
  int severity = -1;
  int phase = 2;
  int64_t id = 0;
  // (the third line ends here)

  const rules::Rule* src = nullptr;

  // CRS's 920450 and 920451: a head that, per value it matches, captures and
  // sets tx.<prefix>%{tx.0} to a text of its captures, chained to one link
  // over TX:/^<prefix>/ alone, and no other rule writes such a key or reads
  // one but as these (Engine::recognizeKeyedSets). The chain then reads
  // exactly the values this head set on this request: whether a value of the
  // head gives the chain one it matches is a fact of the value's bytes
  // (keyed_bit). When none does, the rule fails at its chain leaving what the
  // head's last match left (TX:0-9, MATCHED_VAR), and the TX keys it would
  // have set are not set: nothing reads them (Transaction::Impl::keyedSetFails).
  struct KeyedSet {
    std::string prefix;                  // lower case: "header_name_920450_"
    const actions::SetVar* setvar = nullptr;  // the head's one step (its key and value texts)
    // Other readers of TX keys that may begin with the prefix: regex
    // selectors (921's TX:/paramcounter_.*/ reads "header_name_920450_paramcounter_x")
    // and literal keys (targets, macros). A value whose key one of them would
    // read is left to the rule's evaluation.
    std::vector<std::shared_ptr<match::Regex>> reader_res;
    std::vector<std::string> reader_keys;
  };
  std::unique_ptr<KeyedSet> keyed;
  bool is_marker = false;
  std::string marker;
  std::string op_name;  // lower case, for logs
  std::string op_arg;

  // Phase-1 initialisation that reads and writes only TX (CRS's 901xxx): run
  // once at compile time, its TX result is Engine::Impl::tx_init.
  bool precomputed = false;
  bool precomputed_match = false;  // it matched then: MATCHED_VAR(_NAME) as it left them
  std::string precomputed_var, precomputed_var_name;
  // A nolog, flow-only rule (CRS's paranoia-level skips) that reads only TX
  // variables no rule writes at run time: its outcome on tx_init, 1 or 0
  // (-1: evaluated per request). On 1, MATCHED_VAR(_NAME) as precomputed_var(_name).
  int8_t constant = -1;
  // A rule that reads and writes only TX: its outcomes and effects on the
  // paths Engine::simulateTxPath followed (Engine::Impl::tx_sim_slots; -1: none).
  int tx_sim = -1;

  // The acting actionset (meaningful on the chain head).
  Disruptive disruptive = Disruptive::None;  // None: inherit from SecDefaultAction
  AllowScope allow_scope = AllowScope::All;
  int status = 0;
  std::string redirect_url;
  bool log = true;
  bool auditlog = true;
  std::string msg, logdata;
  std::vector<std::string> tags;
  bool macro_tags = false;  // a tag holds a %{macro} (expanded when ctl:ruleRemoveByTag tests it)
  int skip = 0;
  std::string skip_after;
  std::string rev, ver, maturity, accuracy;
};
static_assert(offsetof(CompiledRule, chained) < 128 && offsetof(CompiledRule, id) + sizeof(int64_t) <= 192,
              "the fields every evaluation reads in two cache lines, the ones a match reads in the third");

inline constexpr char kPlainSeparator = '\x1f';  // ASCII unit separator (ScanGroup::db_plain)

struct Engine::Impl {
  rules::RuleSet ruleset;  // owned copy; CompiledRule::src points into it
  // This engine's entries in the threads' match::ValueMemo.
  const uint32_t memo_id = match::ValueMemo::newEngineId();
  std::vector<std::unique_ptr<CompiledRule>> rules;  // heads and markers, definition order
  std::array<std::vector<const CompiledRule*>, 6> phases;  // [1..5]; markers appear in every phase
  // Per phase, what is known of each entry of phases[] before (or instead of)
  // the rule itself, side by side: a request passes ~600 entries, most decided
  // by a scan, a constant or a skipAfter, and a rule's own fields lie in
  // several cache lines elsewhere (a gateway's request finds few of them still
  // cached). The compile-time walks read these; runPhase their RunSteps.
  struct PlanStep {
    const CompiledRule* rule = nullptr;
    int32_t scan_group = -1;  // the head's scan group, -1 when no scan decides it
    int32_t scan_hit = -1;    // its pattern's index in a transaction's scan hits
    int32_t skip_to = -1;     // skipAfter: the index of the marker it names (the phase's end when none)
    int8_t constant = -1;     // CompiledRule::constant
    int32_t tx_sim = -1;      // CompiledRule::tx_sim
    bool marker = false;
    bool precomputed = false;
    bool precomputed_match = false;
  };
  std::array<std::vector<PlanStep>, 6> plans;  // (what the compile-time walks read)
  // What runPhase walks: a plan's entries in 16 bytes each (a request passes a
  // few hundred, four to a cache line), and beside them what only a matching
  // rule, a replayed one or a switch of plans reads.
  struct RunStep {
    enum : uint8_t { kMarker = 1, kPrecomputed = 2, kPrecomputedMatch = 4, kSkipTo = 8, kTxSim = 16, kMemo = 32 };
    const CompiledRule* rule = nullptr;
    int16_t scan_group = -1;  // as PlanStep's (-1 also when either does not fit: the rule is evaluated)
    int16_t scan_hit = -1;
    int8_t constant = -1;
    uint8_t flags = 0;
    // A scan-decided entry: how many entries from it on (itself included)
    // are decided by the same group's scan or are markers. When the group
    // found none of its patterns, runPhase passes them all at once (a warm
    // GET through CRS 4.28 PL1 passes 65 runs, ~3 entries each, a request).
    uint16_t run = 1;
  };
  static_assert(sizeof(RunStep) == 16);
  struct RunCold {
    int32_t skip_to = -1;     // an index in the same plan
    int32_t tx_sim = -1;
    int32_t full_index = -1;  // in a short plan: the entry's index in the phase's whole plan
    // A match of the rule only records it (nolog, noauditlog, pass: CRS's
    // paranoia-level skips and score sums, ~30 a request): its id and
    // severity here, so that a constant or replayed match does not read the
    // rule (Transaction::Impl::runPhaseRules).
    bool quiet = false;
    int8_t severity = -1;
    int64_t id = 0;
  };
  // kMemo: the rule's head has a memo bit and its variables are all listed
  // (CompiledRule::memo_bit, known_at, known_count): when the memo knows
  // every value not to match it, the rule fails there, and runPhase asks
  // that here without reading the rule (~50 of a warm GET's rules, three
  // cache lines each in a gateway's request). Engine::prepareTargets.
  struct RunMemo {
    uint32_t known_at = 0;
    uint16_t known_count = 0;
    int8_t bit = -1;
  };
  struct RunPlan {
    std::vector<RunStep> steps;
    std::vector<RunCold> cold;
    std::vector<RunMemo> memo;  // beside steps (read for kMemo entries)
    size_t size() const { return steps.size(); }
    bool empty() const { return steps.empty(); }
  };
  std::array<RunPlan, 6> run_plans;
  // Per phase, its plan without the entries that do nothing on a request that
  // began from tx_init and removes no rule or target: markers, folded rules
  // that did not match, constant rules that do not match (CRS PL1: ~40% of
  // the phase-1 and phase-2 entries). skip_to is an index here (the last kept
  // entry at or before the marker). Empty when the phase has a rule with
  // skip:N (which counts entries) or nothing to leave out.
  std::array<RunPlan, 6> short_plans;
  // TX as the precomputed phase-1 rules leave it (values shared, copied on
  // write). Its values live in tx_init_values and its pointers do not count
  // references (use_count() 0: never changed in place): each request copies
  // ~100 of them, and a count shared by every worker would be a contended
  // atomic per copy and per release.
  std::pmr::monotonic_buffer_resource tx_init_arena;  // tx_init's keys and index
  Collection tx_init{&tx_init_arena};
  std::deque<CollValue> tx_init_values;
  // The TX path (Engine::simulateTxPath): from tx_init, phase by phase, the
  // rules that read and write only TX, evaluated at compile time with every
  // other rule taken as not matching. While a request leaves the TX variables
  // they read alone (Collection::Item::watched) and the flow as the
  // simulation had it, each such rule is replayed: its setvars' results
  // written, its match recorded, without evaluating it (CRS's anomaly-score
  // sums and threshold checks, ~25 rules a request).
  struct TxSimOp {
    bool erase = false;
    std::string lkey, key;           // the key, and as written (the name a new variable takes)
    const CollValue* value = nullptr;  // in tx_sim_values: the name and value it left
  };
  struct TxSim {
    bool matched = false;    // every link matched
    bool any_link = false;   // a link matched: MATCHED_VAR(_NAME) are CompiledRule::precomputed_var(_name)
    std::vector<TxSimOp> ops;  // its setvars, in order, as they resolved
  };
  std::vector<TxSim> tx_sims;
  std::deque<CollValue> tx_sim_values;
  // Per replayed rule, its tx_sims entry by the optional phases before its
  // own that ran (bit 0: phase 3, bit 1: phase 4), -1 where it is evaluated.
  static constexpr int kTxPathVariants = 4;
  struct TxSimSlot {
    std::array<int32_t, kTxPathVariants> by_variant{-1, -1, -1, -1};
  };
  std::vector<TxSimSlot> tx_sim_slots;
  int pipeline_prefix_count = 1;                           // 0 is the empty pipeline
  // Prefix ids: (id of the pipeline before, last step) -> id of the pipeline.
  std::map<std::pair<int, const transformations::Info*>, int> pipeline_prefixes;
  // Sets tfns, prefix_ids, tfn_triggers and pipeline_id of `r` for `tfns`.
  void setPipeline(CompiledRule& r, std::vector<const transformations::Info*> tfns);
  size_t rule_count = 0;
  std::vector<const CompiledRule*> by_profile_index;  // [profile_index] -> head
  std::unique_ptr<match::Regex> relevant_status;  // SecAuditLogRelevantStatus
  // The batched prefilter (DESIGN.md, "The WAF engine"): per phase and set of
  // variables, the @rx patterns of the rules that phase reaches, scanned once
  // per request over those variables' values (through each of their pipelines).
  struct ScanGroup {
    int phase = 0;
    // The group's transformation pipelines, each by a link that has it and
    // whether every stage is scanned (multiMatch). A value is scanned once per
    // distinct result; one that holds none of `triggers` once, as it is.
    std::vector<std::pair<const CompiledRule*, bool>> pipelines;
    uint32_t triggers = 0;
    // Pipelines without their lower-casing (transformations::withoutLowercasing),
    // whose links' patterns are scanned caselessly.
    std::vector<std::unique_ptr<CompiledRule>> caseless_pipelines;
    std::vector<CompiledVar> vars;           // variables (or literal keys) to gather
    // Values are separated by '\n' for the patterns with line anchors (^ $
    // hold at every value) or that match the other separator, and by
    // kPlainSeparator for the rest: a pattern that may begin at a line break
    // (932370's [\n\r;`{] before a command) would otherwise be started at
    // every value. Hits: db's ids, then db_plain's after them.
    match::HsPrefilter db, db_plain;
    size_t hits_offset = 0;                  // this group's hits in a transaction's array
    // Its values are remembered (match::ValueMemo, bit = its index): one of
    // the first 64 groups.
    bool memo = false;
    // Per pattern (db's, then db_plain's): 1 when no link reads its hit (left
    // out of the database: reported as always possible, its links evaluated
    // in full). A scan whose hits are all such matched nothing the links ask.
    std::vector<uint8_t> unread;
    bool vars_listed = false;  // as CompiledRule::vars_listed
    uint32_t known_at = 0;     // as CompiledRule::known_at, known_count
    uint16_t known_count = 0;
    // The byte classes (match::neededClasses) one of which a value must hold
    // for any of the group's patterns to match it; a value without is not
    // scanned. ~0 (bit 63 is no class's): some pattern needs none known, every
    // value is scanned.
    uint64_t need = 0;
  };
  std::vector<std::unique_ptr<ScanGroup>> scans;
  // What a scan that gathers nothing (every value known, or none) and a link
  // asking a scan read of a group, 16 bytes each beside one another
  // (prepareTargets): a warm GET asks ~37 groups and gathers from ~1, and a
  // ScanGroup is three cache lines away from the next.
  struct ScanHot {
    uint32_t hits_offset = 0;  // ScanGroup::hits_offset (a transaction's hits: far below 4 GB)
    uint32_t hits = 0;         // db's and db_plain's patterns
    uint32_t known_at = 0;     // ScanGroup::known_at, known_count
    uint16_t known_count = 0;
    bool memo = false;         // ScanGroup::memo
    bool vars_listed = false;  // ScanGroup::vars_listed
  };
  static_assert(sizeof(ScanHot) == 16);
  std::vector<ScanHot> scan_hot;  // by group
  // Per phase, the @rx patterns no scan decides that read untransformed request
  // values (CRS's four long RCE command lists and 932340): matched in one pass.
  std::vector<std::unique_ptr<match::RegexSet>> regex_sets;
  size_t scan_hits_size = 0;  // all groups' patterns
  size_t var_lists = 0;       // CompiledVar::var_list's range
  // What the memo is asked of (Transaction::Impl::varsKnown) for each link
  // and scan group whose variables are all listed: their lists' ids, each
  // times 2 plus 1 for a list the request line or headers fix
  // (CompiledVar::head_list), in one array: ~100 such questions a request
  // read a few bytes each here instead of each variable's CompiledVar, spread
  // over the heap (a cache miss apiece in a busy gateway).
  std::vector<uint16_t> known_lists;
  std::vector<const CompiledVar*> list_owner;  // by var_list: a variable with that list (what collect() reads)
  // The lists whose values are the merged request headers' alone
  // (REQUEST_HEADERS, REQUEST_HEADERS_NAMES, REQUEST_COOKIES,
  // REQUEST_COOKIES_NAMES and their selections): by var_list, its slot among
  // them (-1: another list). A request with the very headers of one the thread
  // saw lately takes their memo masks from it (Transaction::Impl::HeadMemo)
  // instead of looking each value up.
  std::vector<int16_t> header_list_slot;
  std::vector<uint16_t> header_list_ids;  // by slot: the list's var_list
  // The memo's questions (Transaction::Impl::varsKnown: a scan group's
  // [0], by its index, or a rule link's [1], by its memo or keyed bit) asked
  // in phase 1 [0] or phase 2 [1] whose lists hold the request's bytes alone
  // (variables::fromRequest), and the links of [2] (CompiledRule::outcome_bit).
  // A request with the very bytes of one answered lately takes its answers
  // (Transaction::Impl::RequestSet).
  uint64_t request_pure[2][3] = {};  // [2]: CompiledRule::outcome_bit
  bool request_sets = false;         // a mask of request_pure is not empty, or request_replay
  bool request_replay = false;       // a set's phases 1 and 2 are replayed (Transaction::Impl::RequestReplay)
  struct QuestionLists {  // a question's lists in known_lists
    uint32_t at = 0;
    uint16_t count = 0;
  };
  QuestionLists question_lists[2][64];  // by kind and bit, of request_pure's
  // The literal keys REQUEST_HEADERS(_NAMES) variables select, lower case, by
  // CompiledVar::header_key (CRS reads ~20: Content-Type, User-Agent,
  // Referer...), and an open-addressed table of their ids + 1 by
  // headerKeyHash: a transaction looks each of its merged headers up once
  // (Transaction::Impl::prepareRequest) instead of each such list comparing
  // every header's name.
  std::vector<std::string> header_keys;
  std::vector<uint16_t> header_key_table;  // a power of two long; 0: empty
  // A name's id in header_keys (caseless), -1 when no variable selects it.
  int headerKey(std::string_view name) const {
    if (header_key_table.empty()) return -1;
    const size_t mask = header_key_table.size() - 1;
    for (size_t at = headerKeyHash(name) & mask;; at = (at + 1) & mask) {
      const uint16_t id = header_key_table[at];
      if (id == 0) return -1;
      if (iequals(name, header_keys[id - 1])) return id - 1;
    }
  }
  // Caseless (ASCII letters): the length and five of the bytes.
  static size_t headerKeyHash(std::string_view name) {
    const size_t n = name.size();
    if (n == 0) return 0;
    auto at = [&](size_t i) { return size_t(uint8_t(name[i]) | 0x20); };
    const size_t h = n ^ at(0) << 6 ^ at(n / 2) << 12 ^ at(n - 1) << 18 ^ at(n > 1 ? 1 : 0) << 24 ^
                     at(n > 2 ? n - 2 : 0) << 30;
    return size_t((uint64_t(h) * 0x9E3779B97F4A7C15ull) >> 40);
  }
  int scan_links = 0;  // links prefiltered, for `waf inspect` and logs
  // Links a group would decide whose pattern Hyperscan refused or scans
  // slower than RE2 (HsPrefilter::add, build): evaluated in full.
  int scan_left_out = 0;
};

}  // namespace rampart::waf
