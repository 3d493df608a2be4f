// Transaction::Impl: the state of one request/response as the rules see it.
// Split from transaction.cc so that variables/, actions/ and the macro
// expander can work on it; nothing here is visible outside waf/.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "waf/body/body.h"
#include "waf/engine_impl.h"
#include "waf/transaction.h"

namespace rampart::waf {

struct MemoValue;

// What is worked out once a request about a request value (a KV's name or
// value), the first time a rule needs it.
struct ValueSlot {
  MemoValue* memo = nullptr;  // its entry in the request's memo table (Transaction::Impl::memoValue)
  uint32_t cls = 0;           // its byte classes (transformations::classify), 0: not yet
};
struct KV {
  std::string_view name;
  std::string_view value;
  mutable ValueSlot name_slot{}, value_slot{};
};

// One resolved target value.
struct MemoValue;
struct VarValue {
  // (A constructor, not aggregate initialisation: emplace_back with arguments
  // needs parenthesised aggregate initialisation, which clang 14 lacks.)
  VarValue() = default;
  VarValue(std::string_view coll_, std::string_view key_, std::string_view value_, bool stable_ = false,
           uint32_t cls_ = 0, ValueSlot* slot_ = nullptr)
      : coll(coll_), key(key_), value(value_), stable(stable_), cls(cls_), slot(slot_) {}
  std::string_view coll;   // "ARGS", "REQUEST_HEADERS", "TX"
  std::string_view key;    // empty for scalars
  std::string_view value;
  bool stable = false;     // value memory lives for the whole transaction (cacheable)
  // Its byte classes when known (transformations::classify), else 0: a stable
  // value's are worked out when a transformation or a scan first needs them
  // (Transaction::Impl::clsOf), and kept in its slot for the request: most
  // values of a request a browser repeats never need them (the memo knows them).
  mutable uint32_t cls = 0;
  ValueSlot* slot = nullptr;  // a KV's name or value: where its memo entry and classes are kept
};


// A request value's standing in the thread's match::ValueMemo (Transaction::Impl::memoValue).
struct MemoValue {
  const char* data = nullptr;
  uint32_t size = 0;
  uint32_t gen = 0;
  match::ValueMemo::Key key;
  uint64_t clean = 0;  // the scan groups it is known to match nothing in
  uint64_t links = 0;  // the rule links (memo_bit) it is known not to match
  uint64_t clean_before = 0, links_before = 0;  // as the thread's memo had them
  uint64_t classes = 0;  // its bytes' match::byteClasses, once a scan needs them (0: not yet)
};

// What a header set and a request set have alike: noted on a request's
// first sight (its tag), made on its second, used kUses times, then made
// again; the key's bytes decide, the tag only picks the entry.
struct SetEntry {
  static constexpr uint32_t kUses = 64;
  uint32_t engine = 0;  // Engine::Impl::memo_id when made; 0: not made
  uint32_t noted = 0;   // the engine its tag was noted for
  uint32_t uses = 0;
  uint64_t memo_generation = 0;  // the thread's ValueMemo's, when noted and made
  uint64_t tag = 0;
  std::string key;  // each field's bytes followed by a NUL (Impl::keyHolds)
  // Made for this engine, tag and memo, and not used up (its key still to compare).
  bool live(uint32_t memo_id, uint64_t t, uint64_t generation) const {
    return engine == memo_id && tag == t && uses < kUses && memo_generation == generation;
  }
  bool notedFor(uint32_t memo_id, uint64_t t, uint64_t generation) const {
    return noted == memo_id && tag == t && memo_generation == generation;
  }
  // Made (for any engine, with any tag) and not used up: a request may find it.
  bool inUse(uint64_t generation) const { return engine != 0 && uses < kUses && memo_generation == generation; }
  // (Room for the key now: a warm request allocates nothing.)
  void note(uint32_t memo_id, uint64_t t, uint64_t generation, size_t key_bytes) {
    engine = 0;
    noted = memo_id;
    memo_generation = generation;
    tag = t;
    key.reserve(key_bytes);
  }
  void make(uint32_t memo_id) {
    engine = memo_id;
    uses = 0;
    key.clear();
  }
};

// A header set (Impl::HeadMemo's entries, and a connection's): its key the
// merged headers.
struct HeadSet : SetEntry {
  struct Masks {    // a request-header list's memo masks (Impl::Workspace::VarList's)
    uint64_t clean = 0, links = 0;
    uint32_t values = 0;  // the list's (the same for the same headers)
    bool set = false;     // the list's masks were taken (asked of) on that request
    bool memo_full = false;
  };
  std::vector<Masks> masks;  // by header-list slot
};

// What a request's memo questions (Impl::varsKnown) of phases 1 and 2 that
// read its own bytes alone (Engine::Impl::request_pure) were answered: [0] the
// scan groups', by group index, [1] the rule links', by memo or keyed bit;
// and [2] whether its links with an outcome bit (CompiledRule::outcome_bit)
// matched nothing ("known").
struct RequestAnswers {
  uint64_t asked[3] = {}, known[3] = {};
  std::array<uint32_t, 128> values{};  // a known question's values ([kind * 64 + bit]: the memo's statistics)
};

struct RequestReplay;

// A request set (Impl::ReqMemo's entries, and a connection's): a request's
// answers, for the next with its very bytes. Its key: method, URI, protocol,
// then the merged headers.
struct RequestSet : SetEntry {
  // Phase 2's lists are also the body's, as the transaction processed it:
  // its answers hold for a request that has the same.
  std::string body, processor;  // (Impl::reqbody_processor)
  bool body_access = false;     // (Impl::request_body_access)
  bool force_body = false;      // (Impl::force_body_variable)
  bool body_kept = false;       // the body fit (kMaxBody): phase 2's answers are kept
  RequestAnswers answers;
  // What its phases 1 and 2 did, when they can be replayed (a phase's `valid`;
  // null: nothing recorded). A thread's entry keeps it, with its room, for its
  // next making when nothing else holds it (Impl::recordRoom).
  std::shared_ptr<RequestReplay> replay;
};

// A client connection's (Transaction::useHeaderMemo).
struct Transaction::HeaderMemo {
  HeadSet head;
  RequestSet request;
};

struct Transaction::Impl : public operators::MacroExpander {
  // The buffers every transaction works in (Workspace, below), taken from the
  // thread's free ones and handed back when the transaction ends. Declared
  // first: handed back last, after the members that point into it.
  struct Workspace;
  struct WorkspaceRelease {
    void operator()(Workspace* w) const;
  };
  static Workspace* acquireWorkspace();
  std::unique_ptr<Workspace, WorkspaceRelease> ws{acquireWorkspace()};

  std::shared_ptr<const Engine> engine;  // null when the caller keeps the engine alive
  const Engine::Impl* eng = nullptr;
  // The request set's replay (findReqIn), held to the transaction's end: a
  // replayed TX views its keys and values (declared before tx_store).
  std::shared_ptr<const RequestReplay> replay;
  std::string& unique_id = ws->unique_id;
  std::chrono::system_clock::time_point start = std::chrono::system_clock::now();

  // connection / request line
  std::string_view client_ip, server_ip;
  uint16_t client_port = 0, server_port = 0;
  std::string_view method, uri_raw, protocol;
  // (in the Workspace: their memory is reused from request to request)
  std::string& request_line = ws->request_line;
  std::string& request_uri = ws->request_uri;
  std::string& request_filename = ws->request_filename;
  std::string& request_basename = ws->request_basename;
  std::string& query_string = ws->query_string;
  std::string path_info;
  std::vector<KV>& req_headers = ws->req_headers;  // as Apache hands them to v2: repeated names merged with ", "
  std::vector<KV>& raw_req_headers = ws->raw_req_headers;  // as received
  bool path_decoded = false;
  bool path_pending = false;  // phase 2 began: decodePathForLaterPhases before the next collect
  // Phase 2+ (Apache unescapes r->uri in place).
  std::string& decoded_filename = ws->decoded_filename;
  std::string& decoded_basename = ws->decoded_basename;
  std::string& decoded_uri = ws->decoded_uri;
  std::vector<KV>& cookies = ws->cookies;
  std::vector<KV>& args_get = ws->args_get;
  std::string& server_name = ws->server_name;  // (a host name over 15 bytes: not allocated per request)

  // request body
  std::string& req_body = ws->req_body;
  bool req_body_truncated = false;
  bool body_processed = false;
  std::string reqbody_processor;  // "", URLENCODED, MULTIPART, JSON, XML
  bool force_body_variable = false;
  bool request_body_access = false;
  body::Result& body_result = ws->body_result;  // (its strings' buffers reused from request to request)
  std::map<std::string, std::vector<std::string>, std::less<>> xpath_values;  // XML:path's, per path
  std::vector<KV>& args_post = ws->args_post;
  bool reqbody_error = false;
  std::string reqbody_error_msg;
  bool inbound_data_error = false;

  // response
  int response_status = 0;
  std::string response_status_text;
  std::string_view response_protocol;
  std::vector<KV>& resp_headers = ws->resp_headers;
  std::string resp_body;
  bool outbound_data_error = false;
  bool response_body_access = false;

  // engine state
  rules::EngineSettings::RuleEngine mode = rules::EngineSettings::RuleEngine::Off;
  std::string audit_engine, audit_log_parts;
  // Before the collections: their items, index, keys and values live in it.
  // Monotonic: what a request outgrows is reclaimed with the transaction.
  std::pmr::monotonic_buffer_resource coll_arena{ws->coll_bytes, Workspace::kCollBytes};
  std::map<std::string, Collection, std::less<>> collections;  // "ip", "session", ... (not TX)
  // TX, made at its first use (txColl): a member, not a map node allocated
  // per request. Readers that must not make it: txIfMade().
  std::optional<Collection> tx_store;
  // Or a replayed phase's TX (RequestReplay: the record's, which `replay`
  // holds), read in place until something writes TX (txColl copies it then).
  const Collection* tx_shared = nullptr;
  const Collection* txIfMade() const { return tx_store ? &*tx_store : tx_shared; }
  bool from_tx_init = false;                      // phase 1 began from Engine::Impl::tx_init
  bool tx_target_removed = false;                 // a ctl removed a TX target (constant rules then run)
  // On the TX path (Engine::Impl::tx_sims): nothing but replayed rules wrote a
  // watched TX variable, phases 1 and 2 ran whole, and the flow went as
  // simulated. Cleared for good by the first step off it. tx_path_ran: the
  // phases that ran whole on it (bit p).
  bool tx_path = false;
  uint8_t tx_path_ran = 0;
  // Engine::simulateTxPath: the setvars of the rule it evaluates go here.
  std::vector<Engine::Impl::TxSimOp>* tx_sim_record = nullptr;
  std::deque<CollValue>* tx_sim_values = nullptr;
  bool rules_removed = false;                     // a ctl removed rules (removed_ids, _tags, _msgs)
  std::map<std::string, std::string> env;
  std::string user_id, session_id;
  // What fired, in order: (id, phase...) per match, the full record of the
  // logged ones apart (a nolog rule's id and phase are all anyone reads, and
  // CRS records ~40 of them a request: ~180 bytes each as MatchedRule, most of
  // the engine's cache-missing writes under load). matches() joins them when
  // asked (the CLI, tests); the gateway reads logged_matches.
  struct Hit {
    int64_t id;
    int32_t logged;  // index in logged_matches, -1 for a nolog rule
    int8_t phase;
    int8_t severity;
    bool disruptive;
  };
  std::vector<Hit>& hits = ws->hits;
  // The logged records: the first logged_count of the Workspace's, written
  // over with their strings' capacity kept from request to request (an XSS
  // attack logs ~8 rules of ~12 strings each: ~90 allocations a request when
  // each was a new record).
  std::vector<MatchedRule>& logged_matches = ws->logged;
  void sizeTags(std::vector<std::string>& tags, size_t n);
  void copyRecord(MatchedRule& to, const MatchedRule& from);
  size_t logged_count = 0;
  mutable std::vector<MatchedRule> all_matches;  // matches()' join, made when hits grew
  mutable size_t all_matches_hits = 0;
  Verdict verdict;
  Verdict would_be;  // first disruptive decision, taken or not
  RuleProfile* profile = nullptr;
  bool profile_timed = false;
  uint32_t profile_weight = 1;  // what an evaluation or match adds to profile's counts
  uint64_t scan_ns = 0;  // time in phase scans during the rule being timed
  bool intercepted = false;
  int allow_level = 0;  // 0 none; 1 rest of phase; 2 request phases; 3 all but logging
  int allow_phase = 0;
  int highest_severity = 255;
  int current_phase = 0;
  bool audit_relevant = false;
  bool phase_done[6] = {};
  bool request_prepared = false;

  // rule evaluation state
  // MATCHED_VAR(_NAME): the last matched value, or, after a rule decided at
  // compile time (precomputed or constant; ~190 a request at PL1), that
  // rule's: read through matchedVar()/matchedVarName(), copied by nobody.
  // A match of a request value that stays put (VarValue::stable) is kept as
  // views (matched_lazy) and copied when read or when the phase ends (a
  // transformed value lives in the thread's cache, which another
  // transaction's phase may empty): ~30 matches a request, most never read.
  std::string& matched_var = ws->matched_var;
  std::string& matched_var_name = ws->matched_var_name;
  const CompiledRule* matched_from = nullptr;  // that rule, when it was the last to match
  struct LazyMatch {
    bool pending = false;
    std::string_view coll, key, value;
  };
  mutable LazyMatch matched_lazy;
  void settleMatched() const {
    if (!matched_lazy.pending) return;
    matched_lazy.pending = false;
    matched_var.assign(matched_lazy.value);
    matched_var_name.assign(matched_lazy.coll);
    if (!matched_lazy.key.empty()) matched_var_name.append(":").append(matched_lazy.key);
  }
  std::string_view matchedVar() const {
    if (matched_from) return matched_from->precomputed_var;
    settleMatched();
    return matched_var;
  }
  std::string_view matchedVarName() const {
    if (matched_from) return matched_from->precomputed_var_name;
    settleMatched();
    return matched_var_name;
  }
  // MATCHED_VARS of this rule/chain: (name, value) pairs cleared by count, so
  // that their strings keep their capacity from rule to rule ("TX:DETECTION_
  // PARANOIA_LEVEL" is past the short-string size: a malloc per match).
  struct MatchedVars {
    std::vector<std::pair<std::string, std::string>> v;
    size_t n = 0;
    void clear() { n = 0; }
    void add(std::string_view name, std::string_view value) {
      if (n == v.size()) v.emplace_back();
      v[n].first.assign(name);
      v[n].second.assign(value);
      ++n;
    }
    auto begin() const { return v.begin(); }
    auto end() const { return v.begin() + static_cast<std::ptrdiff_t>(n); }
  };
  MatchedVars& matched_vars = ws->matched_vars;
  const CompiledRule* current_head = nullptr;
  // The ctls that removed rules or targets: the actions themselves, in their
  // compiled rules (the engine outlives the transaction), in the Workspace.
  // Not copies: CRS's 941010 runs one on most requests, and a copy took two
  // allocations and two reference counts every worker shares.
  std::vector<actions::IdRange>& removed_ids = ws->removed_ids;
  std::vector<const actions::Ctl*>& removed_tags = ws->removed_tags;
  std::vector<const actions::Ctl*>& removed_msgs = ws->removed_msgs;
  std::vector<const actions::Ctl*>& removed_targets = ws->removed_targets;

  // scratch: values computed for the current rule link (TX copies, numbers...)
  std::deque<std::string>& scratch = ws->scratch;
  std::vector<std::shared_ptr<const CollValue>>& pins = ws->pins;  // collection values viewed by the current link
  bool pin_values = true;                              // collect() pins the collection values it views
  std::string& lower_key = ws->lower_key;  // expand(): a TX macro's key in lower case
  std::string& setvar_key = ws->setvar_key;  // runSetVar()'s buffers
  std::string& setvar_lkey = ws->setvar_lkey;
  std::string& setvar_value = ws->setvar_value;
  // transformation cache: (value pointer, length, pipeline prefix id) -> result
  struct CacheKey {
    const char* p;
    size_t n;
    int prefix;
    bool operator==(const CacheKey& o) const { return p == o.p && n == o.n && prefix == o.prefix; }
  };
  struct CacheHash {
    size_t operator()(const CacheKey& k) const {  // splitmix64 finaliser over the three fields
      uint64_t x = reinterpret_cast<uintptr_t>(k.p) ^ (static_cast<uint64_t>(k.n) << 32) ^
                   (static_cast<uint64_t>(k.prefix) * 0x9E3779B97F4A7C15ull);
      x ^= x >> 30;
      x *= 0xBF58476D1CE4E5B9ull;
      x ^= x >> 27;
      x *= 0x94D049BB133111EBull;
      x ^= x >> 31;
      return static_cast<size_t>(x);
    }
  };
  // Open addressing, linear probing, power-of-two capacity. One table per
  // thread, serving the transaction that runs a phase there (cache()): a slot
  // is empty unless it carries the table's current generation, so the table
  // is emptied for another transaction without clearing or allocating (CRS
  // makes ~80 to a few hundred entries per request).
  class TransformCache {
   public:
    const std::string_view* find(const CacheKey& k) const {
      for (size_t i = CacheHash{}(k) & mask_;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.gen != gen_) return nullptr;
        if (s.key == k) return &s.value;
      }
    }
    void put(const CacheKey& k, std::string_view v) {
      if ((count_ + 1) * 2 > slots_.size()) grow();  // at half full: short probes
      for (size_t i = CacheHash{}(k) & mask_;; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.gen != gen_) {
          s.key = k;
          s.value = v;
          s.gen = gen_;
          ++count_;
          return;
        }
        if (s.key == k) {
          s.value = v;
          return;
        }
      }
    }
    void reset() {  // empty, for the next transaction
      count_ = 0;
      if (slots_.size() > kKeptSlots) {  // one large request's table is not kept for good
        slots_.assign(256, Slot{});
        mask_ = 255;
      }
      if (++gen_ == 0) {  // wrapped: every slot's tag could match again
        std::fill(slots_.begin(), slots_.end(), Slot{});
        gen_ = 1;
      }
    }

   private:
    struct Slot {
      CacheKey key{nullptr, 0, -1};
      std::string_view value;
      uint32_t gen = 0;  // != the table's: empty
    };
    static constexpr size_t kKeptSlots = 16384;
    void grow() {
      std::vector<Slot> old = std::move(slots_);
      slots_.assign(old.empty() ? 256 : old.size() * 2, Slot{});
      mask_ = slots_.size() - 1;
      count_ = 0;
      for (auto& s : old)
        if (s.gen == gen_) put(s.key, s.value);
    }
    // CRS PL1 makes ~80 entries on the browser GET, a few hundred on a form
    // POST: a small table, grown by the requests that need more, is fewer
    // cache lines to fetch per lookup.
    std::vector<Slot> slots_ = std::vector<Slot>(256);
    size_t mask_ = 255;
    size_t count_ = 0;
    uint32_t gen_ = 1;
  };
  // Bytes of the transformed values: chunks, never moved, kept (a few) for
  // the next transaction.
  class Arena {
   public:
    std::string_view store(std::string_view v) {
      if (v.size() > 4096) {
        big_.emplace_back(v);
        return big_.back();
      }
      if (in_use_ == 0 || used_ + v.size() > kChunk) {
        if (in_use_ == chunks_.size()) chunks_.push_back(std::unique_ptr<char[]>(new char[kChunk]));  // not zero-filled
        ++in_use_;
        used_ = 0;
      }
      char* dst = chunks_[in_use_ - 1].get() + used_;
      if (!v.empty()) std::memcpy(dst, v.data(), v.size());
      used_ += v.size();
      return std::string_view(dst, v.size());
    }
    void reset() {  // empty, for the next transaction
      in_use_ = 0;
      used_ = 0;
      big_.clear();
      if (chunks_.size() > kKeptChunks) chunks_.resize(kKeptChunks);
    }

   private:
    static constexpr size_t kChunk = 16 * 1024;
    static constexpr size_t kKeptChunks = 4;
    std::vector<std::unique_ptr<char[]>> chunks_;
    size_t in_use_ = 0;  // chunks_[in_use_ - 1] is being filled
    size_t used_ = 0;
    std::deque<std::string> big_;
  };
  // The thread's transformation cache and the bytes of its values, emptied
  // first when another transaction used them last. Per thread, not per
  // transaction: a worker with 32 requests in flight would otherwise find
  // each one's table and values gone from its caches by the time that request
  // runs its next phase (every lookup a miss, in simulation 100 last-level
  // misses a request more), where the thread's one table stays cached. The
  // entries a transaction loses to another in between (a GET's phases 1 and
  // 2 run back to back; a request with a body waits for it between them, and
  // phases 3 to 5 come later) are made again when asked for. Only
  // the table refers to the values; a rule copies what it keeps (MATCHED_VAR,
  // TX:0-9).
  struct ThreadCache {
    TransformCache table;
    Arena store;
    uint64_t owner = 0;  // the serial of the transaction whose entries they hold
  };
  ThreadCache& cache() {
    ThreadCache& tc = threadCache();
    if (tc.owner != serial) {
      tc.table.reset();
      tc.store.reset();
      tc.owner = serial;
    }
    return tc;
  }
  static ThreadCache& threadCache();
  const uint64_t serial = nextSerial();  // unique per transaction in the process
  static uint64_t nextSerial();
  // Phase scans (Engine::Impl::scans): per group, 0 = not scanned in this
  // phase yet, 1 = scanned (hits valid), -1 = failed (evaluate everything).
  std::vector<int8_t>& scan_state = ws->scan_state;
  std::vector<uint8_t>& scan_hits = ws->scan_hits;  // every group's, at ScanGroup::hits_offset
  // What the phase's RegexSets found in a value, by its address (the values
  // they read stay put for a phase); entries of another generation (an
  // earlier phase or transaction) are free. In the Workspace (set_memo,
  // set_gen) rather than in each transaction: 8 KiB not cleared per request.
  struct SetMemo {
    const char* data = nullptr;
    uint32_t size = 0;
    uint32_t gen = 0;
    int set = -1;
    uint64_t bits = 0;
  };
  std::array<SetMemo, 256>& set_memo = ws->set_memo;
  // True when the link's RegexSet shows its pattern absent from `value`.
  bool setRulesOut(const CompiledRule& link, std::string_view value);
  // The entry of (value, set) in set_memo; null when it has none, and then
  // *free_slot: where one could go (null in a crowded neighbourhood).
  SetMemo* setMemoOf(int set, std::string_view value, SetMemo** free_slot);
  // For a link of a RegexSet about to test `targets` one by one (from the
  // first it tests): when the set has no answer for the first, the values it
  // has none for asked at once (RegexSet::noneMatchJoined), and when no
  // member matches any, each remembered as matching none. Those the link
  // passes over (removed by a ctl, known to the memo for memo_bit) are left out.
  [[gnu::noinline]] void askSetJoined(const CompiledRule& link, std::span<const VarValue> targets,
                                      const std::vector<const actions::Ctl*>& removals, uint64_t memo_bit);
  std::string& scan_buf = ws->scan_buf;
  std::vector<uint32_t>& scan_seps = ws->scan_seps;  // offsets of the '\n's between scan_buf's values
  std::vector<VarValue>& scan_vals = ws->scan_vals;
  std::vector<std::string_view>& scan_stages = ws->scan_stages;
  std::vector<std::string_view>& scan_have = ws->scan_have;  // scanGroup: a value's distinct stages
  const bool memo_on = match::ValueMemo::enabled();  // read once per transaction
  // The request's values in the thread's match::ValueMemo, by address (a
  // stable value stays put and unchanged for the transaction), each hashed
  // and looked up once; entries of an older generation are free. One table a
  // thread, not one a transaction: a worker has as many transactions open as
  // requests in flight, and a table of each (16 KiB, probed at random) was
  // out of the caches when its next phase ran (the loads of its entries were
  // ~3% of a busy worker's time). A transaction owns it while its phases run
  // (one at a time on a thread); what it learnt goes into the memo when
  // another transaction takes the table (a new generation) or when it ends.
  struct MemoTable {
    std::array<MemoValue, 256> values{};
    uint32_t gen = 1;
    uint64_t owner = 0;                 // the serial of the transaction whose entries these are (0: none)
    uint32_t memo_id = 0;               // its engine's (Engine::Impl::memo_id)
    std::vector<MemoValue*> touched;    // the entries it made (flush)
    match::ValueMemo& memo = match::ValueMemo::forThread();  // (this thread's, as the table is)
    void flush();                       // what they learnt, into the thread's match::ValueMemo
  };
  static MemoTable& threadMemoTable();
  MemoTable* memo_table = nullptr;  // the thread's, since this transaction last took it
  // The thread's table, taken over (a new generation; the entries the
  // request's KVs remember are forgotten) when another transaction had it.
  // memo_table is reset at each phase's start (runPhase), and a phase runs
  // through without another transaction on its thread: once taken in a
  // phase, the table stays this transaction's until the phase ends.
  MemoTable& memoTable() {
    if (!memo_table) takeMemoTable();
    return *memo_table;
  }
  void takeMemoTable();
  // The value's entry (hashed and looked up the first time), null when the table is crowded.
  MemoValue* memoValue(std::string_view v) { return memoValue(memoTable(), v); }
  MemoValue* memoValue(MemoTable& tab, std::string_view v);
  MemoValue* memoValue(const VarValue& t) {
    MemoTable& tab = memoTable();  // (a KV's entry is good while this transaction has the table)
    if (!t.slot) return memoValue(tab, t.value);
    if (!t.slot->memo) t.slot->memo = memoValue(tab, t.value);
    return t.slot->memo;
  }
  // This transaction's share of the thread's ValueMemo::Stats (added to them at its end).
  match::ValueMemo::Stats memo_stats;
  static constexpr size_t kMemoMaxValue = 4096;
  operators::EvalContext eval_ctx;  // evaluateLink's (links never nest)
  bool head_asked = false;  // runPhase asked the memo of the current rule's head (RunMemo): not known
  // A remembered link decided without its values: all `listed` known.
  void noteLinkKnown(size_t listed) {
    memo_stats.link_values += listed;
    memo_stats.link_values_known += listed;
    ++memo_stats.links_skipped;
  }
  std::vector<uint8_t>* reached = nullptr;  // the compile-time probe: heads evaluated
  // Buffers reused by every rule evaluation (no allocation per rule once warm).
  std::vector<VarValue>& targets_buf = ws->targets_buf;
  std::vector<VarValue>& tmp_buf = ws->tmp_buf;
  std::vector<const actions::Ctl*>& removals_buf = ws->removals_buf;
  std::vector<std::string_view>& candidates_buf = ws->candidates_buf;
  std::vector<const Collection::Item*>& coll_items = ws->coll_items;
  std::string& out_buf = ws->out_buf;

  using HeadMasks = HeadSet::Masks;
  // The masks of list `id` when they come from HeadMemo (null: not so).
  const HeadMasks* headMasks(size_t id) const {
    if (!head_hit) return nullptr;
    const int16_t slot = eng->header_list_slot[id];
    return slot >= 0 && ws->head_masks[size_t(slot)].set ? &ws->head_masks[size_t(slot)] : nullptr;
  }
  // What a transaction works in, kept from one transaction to the next on a
  // thread (CRS PL1 made ~80 allocations a request in these otherwise, and the
  // reused memory may still be cached): each is emptied, its capacity kept,
  // before a transaction takes it (reset()).
  struct Workspace {
    std::deque<std::string> scratch;
    std::vector<std::shared_ptr<const CollValue>> pins;
    std::string lower_key, setvar_key, setvar_lkey, setvar_value;
    std::string matched_var, matched_var_name;
    MatchedVars matched_vars;
    std::string scan_buf;
    std::vector<uint32_t> scan_seps;
    std::vector<VarValue> scan_vals;
    std::vector<std::string_view> scan_stages, scan_have;
    std::vector<VarValue> targets_buf, tmp_buf;
    std::vector<const actions::Ctl*> removals_buf;
    std::vector<actions::IdRange> removed_ids;
    std::vector<const actions::Ctl*> removed_tags, removed_msgs;
    std::vector<const actions::Ctl*> removed_targets;
    std::vector<std::string_view> candidates_buf;
    std::vector<const Collection::Item*> coll_items;  // Collection::forEachSorted's
    std::string out_buf;
    // The request's (Transaction::Impl has references to them).
    std::string request_line, request_uri, request_filename, request_basename, query_string;
    std::string unique_id, path_decoded_buf, req_body, server_name;
    // The query string's and a form's decoded names and values (the others
    // view query_string and req_body): body::parseUrlEncodedViews.
    std::string args_get_store, args_post_store;
    std::vector<HeadMasks> head_masks;  // a copy of its entry's, when the thread had one (head_hit)
    // The request set's answers (a copy of its entry's: req_hit), or those
    // this request gives when it makes one (req_maker), and the entry's body.
    RequestAnswers req_answers;
    std::string req_set_body, req_set_processor;
    bool req_set_body_access = false, req_set_force_body = false, req_set_body_kept = false;
    std::vector<std::pair<std::string_view, std::string_view>> url_pairs;
    // Repeated request headers joined: the first merged_used strings hold this
    // request's (KVs view them; a deque's strings stay put as it grows), the
    // others are kept for the next request's.
    std::deque<std::string> merged_storage;
    size_t merged_used = 0;
    // By Engine::Impl::header_keys: the merged request header of that name
    // (its index in req_headers + 1; 0: none), set by prepareRequest.
    std::vector<uint32_t> header_at;
    std::vector<Hit> hits;
    std::vector<MatchedRule> logged;  // Impl::logged_matches
    // Tag strings a record with fewer tags than the last one in its place
    // left over, for a record with more (recordMatch): not freed and made again.
    std::vector<std::string> spare_tags;
    size_t logged_bytes = 0;  // its strings' capacity (worthKeeping), worked out again once logged_dirty
    bool logged_dirty = false;
    // var_lists' capacity (worthKeeping), worked out again every
    // kListsCheckEvery releases: ~100 lists, ~75 cache lines to walk.
    size_t lists_bytes = 0;
    uint32_t releases = 0;
    std::string decoded_filename, decoded_basename, decoded_uri;
    std::vector<KV> req_headers, raw_req_headers, cookies, args_get, args_post, resp_headers;
    body::Result body_result;  // Impl::body_result
    std::vector<int8_t> scan_state;
    std::vector<uint8_t> scan_hits;
    std::array<SetMemo, 256> set_memo{};  // Impl::SetMemo
    std::string set_joined;  // askSetJoined's values
    std::vector<std::string_view> set_values;
    uint32_t set_gen = 1;
    void nextSetGen() {
      if (++set_gen == 0) {  // wrapped: no entry may look current
        set_memo.fill(SetMemo{});
        set_gen = 1;
      }
    }
    std::vector<std::span<const VarValue>> scan_parts;  // scanGroup's: the lists it reads
    std::vector<MemoValue*> scan_memo;  // scanGroup's: each scanned value's entry (null: none)
    // Engine::Impl::var_lists resolved (varList): current while `epoch` is
    // var_epoch, which moves at each phase, each ctl that changes what the
    // variables hold and each request; a list of the request line's or
    // headers' values (CompiledVar::head_list) while it is head_epoch, which
    // moves with each request only.
    struct VarList {
      uint32_t epoch = 0;
      bool masks_set = false;
      bool memo_full = false;  // every value has an entry in the request's memo table (masks_set)
      uint64_t clean = 0;  // the scan groups every value is known to match nothing in (varsKnown)
      uint64_t links = 0;  // the memo links every value is known not to match
      std::vector<VarValue> values;
    };
    std::vector<VarList> var_lists;
    uint32_t var_epoch = 1;
    uint32_t head_epoch = 1;
    void nextVarEpoch() {
      if (++var_epoch == 0) {  // wrapped: no list may look current
        for (auto& l : var_lists) l.epoch = 0;
        var_epoch = 1;
      }
    }
    // The first bytes of coll_arena (the collections' items, keys and values:
    // CRS PL1's ~110 TX variables and the browser GET's fit in it).
    static constexpr size_t kCollBytes = 48 * 1024;
    alignas(std::max_align_t) std::byte coll_bytes[kCollBytes];

    // Its strings and KV lists, for reset() and worthKeeping().
    static constexpr std::string Workspace::*kStrings[] = {
        &Workspace::lower_key,        &Workspace::setvar_key,       &Workspace::setvar_lkey,
        &Workspace::setvar_value,     &Workspace::matched_var,      &Workspace::matched_var_name,
        &Workspace::scan_buf,         &Workspace::out_buf,          &Workspace::request_line,
        &Workspace::request_uri,      &Workspace::request_filename, &Workspace::request_basename,
        &Workspace::query_string,     &Workspace::decoded_filename, &Workspace::decoded_basename,
        &Workspace::decoded_uri,      &Workspace::unique_id,        &Workspace::path_decoded_buf,
        &Workspace::req_body,         &Workspace::server_name,      &Workspace::args_get_store,
        &Workspace::args_post_store,  &Workspace::req_set_body,     &Workspace::req_set_processor,
        &Workspace::set_joined};
    static constexpr std::vector<KV> Workspace::*kLists[] = {&Workspace::req_headers, &Workspace::raw_req_headers,
                                                             &Workspace::cookies, &Workspace::args_get,
                                                             &Workspace::args_post, &Workspace::resp_headers};

    void reset();
    bool worthKeeping();  // false when one request grew it too much
  };

  explicit Impl(const Engine& e);
  // Its own ~2.3 KB (past malloc's per-thread cache) from the thread's last
  // freed ones: a transaction a request, and no allocation for it once warm.
  // (Not under AddressSanitizer, which then sees a use after the end.)
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size);
  // The values the last link pinned may live in coll_arena: let go of them
  // before it goes.
  ~Impl() {
    pins.clear();
    endMemo();
    if (memo_stats.values != 0 || memo_stats.link_values != 0 || memo_stats.header_sets != 0 ||
        memo_stats.request_sets != 0)
      match::ValueMemo::forThread().stats += memo_stats;
  }
  void endMemo();  // at the end: what this transaction learnt, into the memo
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // MacroExpander
  std::string expand(std::string_view text) override;
  void expandInto(std::string& out, std::string_view text);  // the same, appended to out
  bool txView(std::string_view key, std::string_view* out) override;

  // variables.cc
  void collect(const CompiledVar& v, std::vector<VarValue>& out);
  // A link's (or scan group's) targets: its variables' values, exclusions
  // applied, in order; targetsOf resolves them into `own` unless they are one
  // variable's list as it is.
  void resolveTargets(const std::vector<CompiledVar>& vars, std::vector<VarValue>& out);
  const std::vector<VarValue>& targetsOf(const std::vector<CompiledVar>& vars, std::vector<VarValue>& own) {
    if (vars.size() == 1 && vars[0].var_list >= 0 && !vars[0].exclude && !vars[0].count) return varList(vars[0]).values;
    own.clear();
    resolveTargets(vars, own);
    return own;
  }
  // The values of a variable with a var_list, resolved once an epoch.
  Workspace::VarList& varList(const CompiledVar& v) { return varList(size_t(v.var_list), v.head_list); }
  Workspace::VarList& varList(size_t id, bool head_list) {
    auto& l = ws->var_lists[id];
    const uint32_t epoch = head_list ? ws->head_epoch : ws->var_epoch;
    if (l.epoch != epoch) {
      l.values.clear();
      collect(*eng->list_owner[id], l.values);
      l.epoch = epoch;
      l.masks_set = false;
    }
    return l;
  }
  // True when every value of every list known_lists[at .. at+count) names
  // (a link's or scan group's variables, all listed) is known to the memo for
  // `bit`: of the scan groups' (clean) or the links' masks; *values counts them.
  // A request set's answer when it has one (req_ok), else listsKnown.
  [[gnu::always_inline]] bool varsKnown(uint32_t at, uint16_t count, uint64_t bit, bool links, size_t* values) {
    if (req_ok[links] & bit) {
      if (!(ws->req_answers.known[links] & bit)) return false;
      *values = ws->req_answers.values[size_t(links) * 64 + size_t(std::countr_zero(bit))];
      return true;
    }
    return listsKnown(at, count, bit, links, values);
  }
  bool listsKnown(uint32_t at, uint16_t count, uint64_t bit, bool links, size_t* values);
  // One of a question's lists (its known_lists id): whether every value is
  // known for `bit`, its values counted into n. kSets: a header set's masks
  // first (the list then not resolved); kFresh: its masks taken anew, not the
  // epoch's first (answerAsked).
  template <bool kSets, bool kFresh>
  bool listKnown(uint16_t id, uint64_t bit, bool links, size_t& n);
  // After varsKnown for a link's memo bit said no: a list with values the memo
  // does not know may still do, as the values the link does not read (a static
  // exclusion, !REQUEST_COOKIES:/__utm/, or one of `removals`, the ctl
  // removals that apply to it: 941010's of REQUEST_FILENAME) do not count.
  // Such a value is tested once here for the memo (learnLink), so that from
  // the next request on the list itself is known for the link.
  bool linkValuesKnown(const CompiledRule& link, const std::vector<const actions::Ctl*>& removals, uint64_t bit,
                       size_t* values);
  // `id`: the list's (var_list).
  void setListMasks(Workspace::VarList& l, size_t id);
  // The scan groups (*clean) and memo links (*links) every value is known for;
  // false (and none) when a value has no room in the request's memo table.
  bool valuesMasks(const std::vector<VarValue>& values, uint64_t* clean, uint64_t* links);
  // What the memo knew of the request-header lists (Engine::Impl::
  // header_list_slot) of a request with the very same merged headers, per
  // thread: a browser sends its headers again and again, and copying a list's
  // masks costs less than looking each of its ~40 values up (a hash, the
  // request's table, the thread's 512 KiB memo: cache misses in a busy
  // worker). Exact: the key is the headers' bytes, and what the memo knows of
  // a value holds for as long as its engine. An entry is made again after
  // SetEntry::kUses requests, so that what the memo learnt since reaches it.
  struct HeadMemo {
    static constexpr size_t kEntries = 64;
    static constexpr size_t kMaxKey = 8192;  // a set's headers, names and values, at most
    using Entry = HeadSet;
    std::array<Entry, kEntries> entries;
  };
  static HeadMemo& threadHeadMemo();
  // prepareRequest: the request's key, and the masks of the connection's
  // entry (conn_memo) or the thread's for it, if either holds its headers (head_hit).
  void findHeadMemo();
  bool findIn(HeadMemo::Entry& e);
  // After phase 2: the masks its header lists took, for the next request with its headers.
  void keepHeadMemo();
  void keepIn(HeadMemo::Entry& e, size_t bytes);  // bytes: the key's
  Transaction::HeaderMemo* conn_memo = nullptr;  // Transaction::useHeaderMemo
  bool head_hit = false;  // ws->head_masks hold the masks of this request's header lists
  size_t head_entry = 0;
  uint64_t head_tag = 0;  // headersTag()
  uint64_t set_generation = 0;  // the thread's ValueMemo's when the request was keyed (both sets)
  bool head_keyed = false;
  // The tag of the merged headers: each field's lengths and first and last words.
  uint64_t headersTag() const;
  // A field of a header or request set's key (its bytes, then a NUL) at `at`
  // that holds v: true, and `at` past it.
  static bool keyHolds(std::string_view key, size_t& at, std::string_view v);
  // The merged headers in a key: whether it holds them from `at` (and `at`
  // past them), their bytes there, and the key's part they make.
  bool headersHeld(std::string_view key, size_t& at) const;
  size_t headersKeyBytes() const;
  void appendHeadersKey(std::string& key) const;
  // What a request with the very bytes of one seen lately (its line, its
  // headers; in phase 2 its body too) answered to the memo's questions whose
  // lists are its own (Engine::Impl::request_pure), per thread: the answers
  // are facts of those bytes (whether every value of the lists is known not
  // to match), and taking them spares a request the walk over its lists
  // (~67 questions a GET, each over ~5 lists); so is whether a link with an
  // outcome bit matched nothing (CompiledRule::outcome_bit), which then is not
  // evaluated again. A poller, a health check, a
  // browser asking a resource again send such requests. As HeadMemo, an
  // entry is noted on a request's first sight, made on its second (that
  // request's answers, asked again at each phase's end: with what it learnt)
  // and made again after SetEntry::kUses requests.
  struct ReqMemo {
    static constexpr size_t kEntries = 64;
    static constexpr size_t kMaxKey = HeadMemo::kMaxKey;  // a set's request line and headers, at most
    static constexpr size_t kMaxBody = 4096;              // a larger body: phase 2's answers not kept
    std::array<RequestSet, kEntries> entries;
  };
  static ReqMemo& threadReqMemo();
  // prepareRequest (head_tag set): the request's key, and the answers of the
  // connection's entry or the thread's for it, if either holds its bytes (req_hit).
  void findRequestSet();
  bool findReqIn(RequestSet& e);
  // After phase 2: a second sight's answers, for the next request with its bytes.
  void keepRequestSet();
  void keepReqIn(RequestSet& e, size_t bytes, bool thread_entry);  // bytes: the key's
  // runPhase: the questions the request set answers in `phase` (req_ok).
  void requestAnswersFor(int phase);
  // At the end of phase 1 or 2 of a request that makes a set: the answers to
  // its questions of the phase (req_asked), with what the memo learnt since.
  void answerAsked(int phase);
  // A request set's phases replayed (RequestReplay): what they did
  // applied, instead of walking their rules. replayPhase: true when it was
  // (v what runPhaseRules would have returned).
  bool replayPhase(int phase, Verdict& v);
  // A request that makes a set, at the end of a phase: what the phase did,
  // when it can be replayed (from the state it started in: mode_before,
  // done_before, hits_before, logged_before; fresh: phase 1 began as a new
  // transaction's).
  void recordPhase(int phase, const Verdict& v, rules::EngineSettings::RuleEngine mode_before, uint8_t done_before,
                   size_t hits_before, size_t logged_before, bool fresh);
  // Nothing ran on the transaction yet but its request's preparation.
  bool freshForReplay() const;
  // No rule read what a replay cannot stand for, nor made what it does not set again.
  bool replayable() const;
  // The request's body, and how it was read, are the set's (ws->req_set_*).
  bool sameBody() const;
  // A record for a maker to write: its set's thread entry's when nothing else
  // holds it and no request may find it (emptied, its room kept), else a new one.
  std::shared_ptr<RequestReplay> recordRoom();
  // What recordPhase writes of the phase into rr (its `valid` aside).
  void writePhase(RequestReplay& rr, int phase, const Verdict& v, rules::EngineSettings::RuleEngine mode_before,
                  uint8_t done_before, size_t hits_before, size_t logged_before);
  // A thread entry noted: its record (made once), given the room a recording
  // of this request takes, so that its maker's allocates nothing.
  void noteRecordRoom(RequestSet& e);
  std::shared_ptr<RequestReplay> replay_rec;  // a maker's, as its phases are recorded
  bool replay_taint = false;  // a rule read what a replay cannot stand for (variables::replayable)
  uint8_t replayed = 0;       // the phases replayed (bit p)
  bool req_keyed = false;  // looked up (findRequestSet)
  bool req_hit = false;    // ws->req_answers are a set's for this request's bytes
  bool req_maker = false;  // seen once before: this request's answers make the set
  // A ctl changed in phase 2 how the body is read (its lists then change
  // in the middle of the phase): no more answers taken or made.
  void requestBodyCtl(int phase);
  size_t req_entry = 0;
  uint64_t req_tag = 0;
  uint64_t req_ok[3] = {};     // by kind, as RequestAnswers
  uint64_t req_asked[2] = {};  // the questions varsKnown was asked, by kind
  // The link's operator on t (which the link does not read on this request),
  // for the memo: t's entry learns `bit` when it does not match.
  void learnLink(const CompiledRule& link, const VarValue& t, MemoValue* mv, uint64_t bit);
  // variables.cc: a static exclusion of the link (!REQUEST_COOKIES:/__utm/) takes t away.
  static bool excludedFrom(const CompiledRule& link, const VarValue& t);
  // Request values may change (a phase begins, a ctl ran): lists resolve again.
  void newVarEpoch() { ws->nextVarEpoch(); }
  std::string_view keep(std::string s) {
    scratch.push_back(std::move(s));
    return scratch.back();
  }
  // A number as text: 0-99 (counts, lengths: &REQUEST_HEADERS:Content-Length
  // and the like, ~10 a request) from a table, others kept.
  std::string_view keepNumber(int64_t x) {
    static const std::array<std::string, 100> kSmall = [] {
      std::array<std::string, 100> a;
      for (int i = 0; i < 100; ++i) a[size_t(i)] = std::to_string(i);
      return a;
    }();
    if (x >= 0 && x < 100) return kSmall[size_t(x)];
    return keep(std::to_string(x));
  }
  // TX is reached through txColl / txIfMade only (readers: null means no TX yet).
  Collection& coll(std::string_view name) {
    if (name == "tx") return txColl();
    auto it = collections.find(name);
    return it != collections.end() ? it->second : collections.try_emplace(std::string(name), &coll_arena).first->second;
  }
  Collection& txColl() {
    if (tx_store) return *tx_store;
    tx_store.emplace(&coll_arena);
    if (tx_shared) *tx_store = *std::exchange(tx_shared, nullptr);
    return *tx_store;
  }
  void expandMacro(std::string& out, const actions::MacroText& m, std::string_view text);
  void setTx(std::string_view lkey, std::string_view value);  // key in lower case (the captures' TX:0-9)
  void putValue(CollEntry& e, std::string_view lkey, std::string_view name, std::string_view value);

  // actions (setvar.cc / ctl.cc / transaction.cc)
  void runStep(const actions::Step& s, const CompiledRule& rule);
  void runSetVar(const actions::SetVar& sv);
  void runCtl(const actions::Ctl& c, const CompiledRule& rule);

  // rule flow (transaction.cc)
  Verdict runPhase(int phase) {
    memo_table = nullptr;  // (looked up again: a phase may run on another thread than the last)
    const bool answers = req_keyed && !phase_done[phase];  // (a phase runs once)
    const bool request_phase = phase == 1 || phase == 2;
    Verdict v;
    if (answers && replay && replayPhase(phase, v)) return v;
    // The state the phase starts from, for a request that makes a set (its
    // phases 3 to 5 once its phases 1 and 2 were recorded).
    const bool record = answers && req_maker && eng->request_replay && (request_phase || replay_rec);
    const auto mode_before = mode;
    const uint8_t done_before = doneMask();
    const size_t hits_before = hits.size(), logged_before = logged_count;
    const bool fresh = record && phase == 1 && freshForReplay();
    if (answers) requestAnswersFor(phase);
    v = runPhaseRules(phase);
    if (answers) {
      if (req_maker && request_phase) answerAsked(phase);
      req_ok[0] = req_ok[1] = req_ok[2] = 0;
    }
    settleMatched();  // (before another transaction may empty the thread's cache)
    if (record && req_maker) recordPhase(phase, v, mode_before, done_before, hits_before, logged_before, fresh);
    return v;
  }
  // The phases run so far (bit p).
  uint8_t doneMask() const {
    uint8_t m = 0;
    for (int p = 1; p <= 5; ++p) m |= uint8_t(phase_done[p] ? 1u << p : 0u);
    return m;
  }
  Verdict runPhaseRules(int phase);
  int evaluateLink(const CompiledRule& link, const CompiledRule& head, bool is_last) {
    if (link.outcome_bit >= 0 && req_keyed) return evaluateOutcomeLink(link, head, is_last);
    return evaluateLinkNow(link, head, is_last);
  }
  int evaluateLinkNow(const CompiledRule& link, const CompiledRule& head, bool is_last);
  // A link with an outcome bit: nothing matched on a request with these
  // bytes, nothing matches (req_ok); a request that makes a set records it.
  int evaluateOutcomeLink(const CompiledRule& link, const CompiledRule& head, bool is_last);
  bool evaluateRule(const CompiledRule& rule);
  void noteMatch(const CompiledRule& link, const CompiledRule& head, const VarValue& t, std::string_view value,
                 const operators::EvalContext& ctx);
  bool keyedSetFails(const CompiledRule& rule);
  bool keyedValueQuiet(const CompiledRule& rule, const VarValue& t);
  // A replayed rule's setvar (Engine::Impl::TxSimOp) into TX.
  void applyTxOp(const Engine::Impl::TxSimOp& op);
  // The link's transformation pipeline applied to a stable value, cached per prefix.
  std::string_view transformStable(std::string_view value, uint32_t cls, const CompiledRule& link);
  std::string_view transformStep(std::string_view value, std::string_view cur, const CompiledRule& link, size_t i);
  std::string_view transformStepUncached(ThreadCache& tc, const CacheKey& key, std::string_view cur,
                                         const CompiledRule& link, size_t i);
  // No steps, or none that would change this value: it is its own result, no
  // step runs, no cache entry is looked up or made (most benign values for
  // most pipelines).
  __attribute__((always_inline)) static bool leavesAsIs(const VarValue& t, const CompiledRule& link) {
    return !link.tfn_triggers || !mayChange(t, link.tfn_triggers);
  }
  void transformedValues(const VarValue& t, const CompiledRule& link, bool multi, std::vector<std::string_view>& out) {
    if (leavesAsIs(t, link)) {
      out.clear();
      out.push_back(t.value);
      return;
    }
    transformedValuesSlow(t, link, multi, out);
  }
  void transformedValuesSlow(const VarValue& t, const CompiledRule& link, bool multi,
                             std::vector<std::string_view>& out);
  // False when t holds none of `triggers` (the bytes some step needs to change anything).
  static bool mayChange(const VarValue& t, uint32_t triggers) {
    const uint32_t cls = clsOf(t);
    return !cls || (cls & triggers);
  }
  static uint32_t clsOf(const VarValue& t) {
    if (t.cls || !t.stable) return t.cls;
    if (t.slot && t.slot->cls) return t.cls = t.slot->cls;
    t.cls = transformations::classify(t.value);
    if (t.slot) t.slot->cls = t.cls;
    return t.cls;
  }
  // Runs the phase scan of group gi: its hits, and scan_state[gi] 1, or 2
  // when no pattern a link reads was found (-1 on a failure).
  void scanGroup(size_t gi);
  // What the phase scan of group gi (run now if it has not run in this phase)
  // says of the pattern of hit index `hit`: kMayMatch, kNotFound (it matches
  // none of the group's values) or kGroupFoundNothing (nor does any other).
  enum ScanAnswer { kMayMatch, kNotFound, kGroupFoundNothing };
  ScanAnswer scanAnswer(size_t gi, size_t hit) {
    if (scan_state[gi] == 0) scanGroup(gi);
    const int8_t st = scan_state[gi];
    if (st == 2) return kGroupFoundNothing;
    return st < 0 || scan_hits[hit] != 0 ? kMayMatch : kNotFound;
  }
  // False when the scan proves the pattern matches none of the group's values.
  bool scanSays(size_t gi, size_t hit) { return scanAnswer(gi, hit) == kMayMatch; }
  // What was found in the request's values is found again (a phase begins, a ctl ran).
  void resetScans() {
    std::fill(scan_state.begin(), scan_state.end(), int8_t(0));
    ws->nextSetGen();
    newVarEpoch();
  }
  bool ruleRemoved(const CompiledRule& head);
  void applicableRemovals(const CompiledRule& head, std::vector<const actions::Ctl*>& out);
  bool targetRemoved(const std::vector<const actions::Ctl*>& removals, std::string_view coll, std::string_view key);
  void takeDisruptive(const CompiledRule& head);
  // A constant or replayed rule's match (neither has a severity: Engine::
  // precomputeInit, simulateTxPath): takeDisruptive, or for a quiet rule
  // (RunCold::quiet) its record alone, without reading the rule.
  void takeMatch(const CompiledRule& head, const Engine::Impl::RunCold& cold) {
    if (cold.quiet) hits.push_back({cold.id, -1, static_cast<int8_t>(current_phase), cold.severity, false});
    else takeDisruptive(head);
  }
  void recordMatch(const CompiledRule& head, bool disruptive);
  void prepareRequest();
  // What the request's variables read that a replayed request does not need
  // (its phases' rules do not run): the header keys' positions, the query's
  // arguments, the cookies, SERVER_NAME. Made when a variable is first
  // collected (collect) or the arguments are asked for.
  void prepareLists();
  bool lists_prepared = false;
  // What a replayed request leaves unmade (the lists, the parsed body, the
  // decoded path), made before a variable is first collected or the
  // arguments are asked for (forEachArgument).
  void prepareForCollect() {
    if (!lists_prepared) prepareLists();
    if (body_pending) parseBody();
    if (path_pending) decodePathForLaterPhases();
  }
  bool urlArgs(std::string_view from, std::string& store, std::vector<KV>& out);
  void processBody();  // at phase 2's start: decides what is read (body_pending)
  void parseBody();    // at the first read of a variable (collect) or of the arguments
  bool body_pending = false;
  void decodePathForLaterPhases();
  void normalizePath(const std::string& raw, std::string& out);  // decodePathForLaterPhases' slow path
  bool active() const { return mode != rules::EngineSettings::RuleEngine::Off; }
};

// What a request's phases did (Transaction::Impl::recordPhase), for the next
// request with its very bytes (a request set's): that request's phase, from
// the same state, would do it again, and replayPhase applies it instead of
// walking the phase's rules (~380 plan entries, ~20 rules a GET evaluated in
// phases 1 and 2; the TX path's rules of phases 3 and 5). Recorded only when
// every variable a rule of the phase (and of every phase before it) read is
// one variables::replayable names (the request's bytes, the connection's
// addresses, TX and what the rules did: not the clock, UNIQUE_ID,
// REMOTE_PORT, ENV, nor anything of the response, so a phase 3 to 5 is
// recorded only when its rules read TX and the request alone), no rule made
// a collection but TX or set an environment variable, a user or a session
// id, and no compile-time probe runs. Phase 1 is replayed for a transaction
// that nothing ran on yet, from the same connection addresses and in the
// same rule engine mode, and not profiled (a profiled transaction's counts
// stand for the others'); a later phase only when every phase before it that
// ran was replayed and the same ones ran before the recorded one (phase 2:
// for the same body read the same way, sameBody). Phases 1 and 2 unchanged
// once the record is shared (by the sets that hold it and the transactions
// that replayed it: their TX views its keys and values); phases 3 to 5,
// recorded later, only on the record's thread (`owner`). Written again
// (RequestReplay::reset, its room kept) only when nothing else holds it.
// Bytes from chunks kept from one use to the next: after reset() a record
// made again writes into the room its earlier making took (no allocation).
class KeptArena final : public std::pmr::memory_resource {
 public:
  // Everything handed out is free again (nothing handed out may live on).
  void reset() {
    chunk_ = 0;
    used_ = 0;
    handed_ = 0;
    if (capacity_ > kMaxKept) {  // (one large record's chunks are not kept for good)
      chunks_.clear();
      capacity_ = 0;
    }
  }
  size_t capacity() const { return capacity_; }
  size_t used() const { return handed_; }
  // Room for `bytes` in all (kept): another chunk for what is missing.
  void reserve(size_t bytes) {
    if (bytes <= capacity_) return;
    chunks_.push_back({std::make_unique_for_overwrite<std::byte[]>(bytes - capacity_), bytes - capacity_});
    capacity_ = bytes;
  }

 private:
  static constexpr size_t kMaxKept = size_t(1) << 20;
  static constexpr size_t kMinChunk = 8192;
  struct Chunk {
    std::unique_ptr<std::byte[]> bytes;
    size_t size = 0;
  };
  void* do_allocate(size_t n, size_t align) override {
    for (;;) {
      if (chunk_ < chunks_.size()) {
        Chunk& c = chunks_[chunk_];
        const uintptr_t base = reinterpret_cast<uintptr_t>(c.bytes.get());
        const size_t at = ((base + used_ + align - 1) & ~uintptr_t(align - 1)) - base;
        if (at + n <= c.size) {
          used_ = at + n;
          handed_ += n;
          return c.bytes.get() + at;
        }
        ++chunk_;
        used_ = 0;
        continue;
      }
      const size_t size = std::max({n + align, kMinChunk, capacity_});  // (doubling the room)
      chunks_.push_back({std::make_unique_for_overwrite<std::byte[]>(size), size});
      capacity_ += size;
    }
  }
  void do_deallocate(void*, size_t, size_t) override {}
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
  std::vector<Chunk> chunks_;
  size_t capacity_ = 0;
  size_t chunk_ = 0, used_ = 0;  // chunks_[chunk_] is being filled
  size_t handed_ = 0;
};

struct RequestReplay {
  struct Phase {
    bool valid = false;
    // The state it started from.
    rules::EngineSettings::RuleEngine mode_before = rules::EngineSettings::RuleEngine::Off;
    uint8_t done_before = 0;  // the phases run before it (bit p): each recorded
    size_t hits_before = 0, logged_before = 0;
    // What it left.
    Verdict returned;  // runPhaseRules'
    // TX, its keys and values in the record's arena; none: TX as the phase
    // found it (none made, or none changed).
    std::optional<Collection> tx;
    // Or what the phase changed of TX as it found it (tx_base items: the
    // TX recorded before it), ascending indices of tx's items; tx_base 0: no
    // such list (a replay copies tx whole).
    size_t tx_base = 0;
    std::vector<uint32_t> tx_changed;
    std::vector<Transaction::Impl::Hit> hits;  // the phase's
    std::vector<MatchedRule> logged;           // the phase's logged records: the first logged_count
    size_t logged_count = 0;
    Verdict verdict, would_be;
    bool intercepted = false, audit_relevant = false;
    int allow_level = 0, allow_phase = 0, highest_severity = 255;
    rules::EngineSettings::RuleEngine mode = rules::EngineSettings::RuleEngine::Off;
    std::string audit_engine, audit_log_parts, reqbody_processor;
    bool force_body_variable = false, request_body_access = false, response_body_access = false;
    std::vector<actions::IdRange> removed_ids;
    std::vector<const actions::Ctl*> removed_tags, removed_msgs, removed_targets;
    bool rules_removed = false, tx_target_removed = false, from_tx_init = false, tx_path = false;
    uint8_t tx_path_ran = 0;
    const CompiledRule* matched_from = nullptr;
    std::string matched_var, matched_var_name;
    // The fields above (eachReplayedState's order) a replay sets: those the
    // phase changed (Impl::writePhase).
    uint32_t changed = ~uint32_t(0);
  };
  static constexpr uint32_t kAlwaysSet = 1u << 2;  // intercepted
  std::string client_ip, server_ip;
  uint16_t server_port = 0;
  // The thread whose request sets hold it (its ReqMemo): phases 3 to 5 are
  // recorded after it is shared (its maker's response comes later), so they
  // are written and read on that thread only.
  const void* owner = nullptr;
  KeptArena arena;  // (before what lives in it)
  std::optional<std::pmr::deque<CollValue>> values;
  Phase phase[5];
  // Emptied for another recording, its room kept.
  void reset() {
    for (Phase& p : phase) {
      p.valid = false;
      p.tx.reset();
    }
    values.reset();
    arena.reset();
    values.emplace(&arena);
  }
};

}  // namespace rampart::waf
