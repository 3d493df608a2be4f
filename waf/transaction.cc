// Transaction: runs the compiled rules over one request/response with
// ModSecurity v2's rule flow (re.c: msre_ruleset_process_phase):
//  - phases in order, rules of a phase in definition order, markers in every phase;
//  - a rule's targets are expanded in order, exclusions (!VAR) remove what
//    earlier targets added, &VAR counts; every value is transformed (cached per
//    (value, pipeline prefix)) and tested; each match runs the link's
//    non-disruptive actions (setvar, ctl...) at once, and on the last link of a
//    chain the head's disruptive action;
//  - MATCHED_VARS accumulate over a chain and are cleared between rules;
//  - skip/skipAfter apply when the whole chain matched; DetectionOnly runs
//    everything and interrupts nothing.
// A link whose @rx pattern the phase scan (one Hyperscan scan per phase and
// pipeline over every value its rules may target) did not report is false
// without collecting its targets.
#include <algorithm>

#include "waf/transaction_impl.h"
#include "waf/match/needed_bytes.h"
#include "waf/transformations/internal.h"

#include <chrono>
#include <cstring>
#include <type_traits>

namespace rampart::waf {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

body::Limits limitsOf(const rules::EngineSettings& s) {
  body::Limits l;
  l.max_args = s.arguments_limit;
  l.json_depth = s.request_body_json_depth_limit;
  return l;
}

// Profile counters have one writer (the worker that owns the profile): plain
// load + store, no locked instruction.
void bumpCounter(std::atomic<uint64_t>& c, uint64_t n) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

bool evaluateOperator(const CompiledRule& link, operators::EvalContext& ctx, std::string_view value) {
  bool m = link.op->evaluate(ctx, value);
  return link.negated ? !m : m;
}

// Transaction::Impl's freed blocks, per thread (a transaction ends on the
// thread that runs its request; one ending elsewhere leaves its block there).
struct FreeImpls {
  std::array<void*, 64> blocks{};
  size_t n = 0;
  ~FreeImpls() {
    while (n > 0) ::operator delete(blocks[--n]);
  }
};
thread_local FreeImpls t_free_impls;
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPoolImpls = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPoolImpls = false;
#else
constexpr bool kPoolImpls = true;
#endif
#else
constexpr bool kPoolImpls = true;
#endif

}  // namespace

static_assert(alignof(Transaction::Impl) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

void* Transaction::Impl::operator new(std::size_t size) {
  auto& f = t_free_impls;
  if (kPoolImpls && size == sizeof(Impl) && f.n > 0) return f.blocks[--f.n];
  return ::operator new(size);
}

void Transaction::Impl::operator delete(void* p, std::size_t size) {
  auto& f = t_free_impls;
  if (kPoolImpls && size == sizeof(Impl) && f.n < f.blocks.size()) {
    f.blocks[f.n++] = p;
    return;
  }
  ::operator delete(p);
}

Transaction::Impl::Impl(const Engine& e) {
  eng = &e.impl();
  scan_state.assign(eng->scans.size(), 0);
  scan_hits.assign(eng->scan_hits_size, 0);
  if (ws->var_lists.size() < eng->var_lists) ws->var_lists.resize(eng->var_lists);
  const auto& s = eng->ruleset.settings;
  mode = s.rule_engine;
  request_body_access = s.request_body_access;
  response_body_access = s.response_body_access;
  audit_engine = s.audit_engine;
  audit_log_parts = s.audit_log_parts;
}

// ---------------------------------------------------------------- macros

bool Transaction::Impl::txView(std::string_view key, std::string_view* out) {
  const Collection* tx = txIfMade();
  const Collection::Item* e = tx ? tx->find(key) : nullptr;
  if (!e || !e->second.p) return false;
  *out = e->second.p->value;
  return true;
}

std::string Transaction::Impl::expand(std::string_view text) {
  std::string out;
  expandInto(out, text);
  return out;
}

void Transaction::Impl::expandInto(std::string& out, std::string_view text) {
  operators::splitMacros(
      text, [&](std::string_view literal) { out.append(literal); },
      [&](std::string_view coll, std::string_view key) {
        if (operators::isTxCollection(coll) && !key.empty()) {
          // %{tx.name}, most macros CRS expands: a direct lookup (TX keys are stored lower case).
          const Collection* tx = txIfMade();
          if (!tx) return;
          const Collection::Item* e = tx->find(asciiLowered(key, lower_key));
          if (e && e->second.p) out.append(e->second.p->value);
          return;
        }
        if (key.empty() && iequals(coll, "MATCHED_VAR")) {  // (logdata's, with TX:0, on most matches)
          out.append(matchedVar());
          return;
        }
        if (key.empty() && iequals(coll, "MATCHED_VAR_NAME")) {
          out.append(matchedVarName());
          return;
        }
        std::string upper(coll);
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        CompiledVar v;
        v.kind = variables::lookup(upper);
        if (v.kind == variables::Kind::Unknown) return;  // v2: unresolved macros expand to nothing
        v.name = upper;
        v.selector = std::string(key);
        v.selector_lower = toLower(key);
        std::vector<VarValue> vals;
        collect(v, vals);
        if (!vals.empty()) out.append(vals.front().value);
      });
}

// ---------------------------------------------------------------- request setup

void Transaction::Impl::prepareRequest() {
  // Once: cached transformations are keyed by the address of these values.
  if (request_prepared) return;
  request_prepared = true;
  lists_prepared = false;  // (made from what is prepared here, when first read)
  // Apache merges repeated request headers into one ("a, b") before v2 sees them.
  // Cookie lines are joined with "; " instead (RFC 9113 8.2.3, as HTTP/2 and
  // libmodsecurity have them): with ", " a cookie in a second line hides inside
  // the value of the first line's last cookie, out of reach of the rules that
  // test cookie values one by one.
  req_headers.clear();
  for (auto& h : raw_req_headers) {
    auto it = std::find_if(req_headers.begin(), req_headers.end(), [&](const KV& x) { return iequals(x.name, h.name); });
    if (it == req_headers.end()) {
      req_headers.push_back(h);
      continue;
    }
    const char* sep = iequals(h.name, "cookie") ? "; " : ", ";
    auto& storage = ws->merged_storage;
    if (ws->merged_used == storage.size()) storage.emplace_back();
    std::string& joined = storage[ws->merged_used++];  // (it->value views another one, or the request)
    joined.assign(it->value).append(sep).append(h.value);
    it->value = joined;
  }
  // The request the thread saw lately, as a set: its answers (ReqMemo); else
  // its headers, as a set: what the memo knew of their lists (HeadMemo).
  const bool request_sets = memo_on && eng->request_sets;
  const bool header_sets = memo_on && !eng->header_list_ids.empty();
  if (request_sets || header_sets) {
    head_tag = headersTag();
    set_generation = match::ValueMemo::forThread().generation();
  }
  if (request_sets) findRequestSet();
  if (header_sets && !req_hit) findHeadMemo();
  // Body processor from Content-Type, as v2 decides it before phase 1.
  std::string_view content_type;
  for (auto& h : req_headers)
    if (iequals(h.name, "content-type")) {
      content_type = h.value;
      break;
    }
  if (content_type.size() >= 33 && iequals(content_type.substr(0, 33), "application/x-www-form-urlencoded"))
    reqbody_processor = "URLENCODED";
  else if (content_type.size() >= 19 && iequals(content_type.substr(0, 19), "multipart/form-data"))
    reqbody_processor = "MULTIPART";
}

void Transaction::Impl::prepareLists() {
  lists_prepared = true;
  // The headers variables select by name (REQUEST_HEADERS:User-Agent, ~20
  // lists a request with CRS), each looked up once here.
  auto& at = ws->header_at;
  at.assign(eng->header_keys.size(), 0);
  if (!at.empty())
    for (size_t i = 0; i < req_headers.size(); ++i)
      if (const int k = eng->headerKey(req_headers[i].name); k >= 0) at[size_t(k)] = static_cast<uint32_t>(i + 1);
  // Query string arguments, v2 style (URL-decoded names and values); more
  // than SecArgumentsLimit is no error in the query string.
  urlArgs(query_string, ws->args_get_store, args_get);
  // Cookies (version 0 format: ';'-separated, leading spaces dropped, empty names ignored).
  cookies.clear();
  for (auto& h : req_headers) {
    if (iequals(h.name, "cookie")) {
      std::string_view rest = h.value;
      while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
        auto eq = item.find('=');
        std::string_view name = item.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        if (!name.empty()) cookies.push_back({name, value});
      }
    } else if (iequals(h.name, "host") && server_name.empty()) {
      std::string_view host = trim(h.value);
      if (!host.empty() && host.front() == '[') {
        auto rb = host.find(']');
        server_name.assign(host.substr(0, rb == std::string_view::npos ? host.size() : rb + 1));
      } else {
        server_name.assign(host.substr(0, host.find(':')));
      }
    }
  }
  if (server_name.empty()) server_name.assign(server_ip);
}

// A query string's or a form's arguments (body::parseUrlEncodedViews): the
// first SecArgumentsLimit of them into `out`, viewing `from` or `store`;
// true when there were more.
bool Transaction::Impl::urlArgs(std::string_view from, std::string& store, std::vector<KV>& out) {
  const auto& s = eng->ruleset.settings;
  body::parseUrlEncodedViews(from, s.argument_separator, store, ws->url_pairs, nullptr);
  const auto& pairs = ws->url_pairs;
  const size_t max_args = limitsOf(s).max_args;
  out.clear();
  for (size_t i = 0; i < pairs.size() && i < max_args; ++i) out.push_back({pairs[i].first, pairs[i].second});
  return pairs.size() > max_args;
}

void Transaction::Impl::processBody() {
  if (body_processed) return;
  body_processed = true;
  if (!request_body_access) return;
  const std::string& p = reqbody_processor;
  if (req_body.empty() || (p != "URLENCODED" && p != "MULTIPART" && p != "JSON" && p != "XML")) return;
  // Read as it stands now (the processor and the access decided), parsed when
  // a rule first reads a variable (collect) or the arguments are asked for: a
  // request whose phase 2 is replayed is not parsed.
  body_pending = true;
}

void Transaction::Impl::parseBody() {
  body_pending = false;
  const auto& s = eng->ruleset.settings;
  std::string_view content_type;
  for (auto& h : req_headers)
    if (iequals(h.name, "content-type")) {
      content_type = h.value;
      break;
    }
  const std::string& p = reqbody_processor;
  if (p == "URLENCODED") {  // (as parseUrlEncoded, without its allocation per name and value)
    if (urlArgs(req_body, ws->args_post_store, args_post)) {
      reqbody_error = true;
      reqbody_error_msg = body::kArgumentsLimitExceeded;
    }
    return;
  }
  if (p == "MULTIPART") body::parseMultipart(req_body, content_type, limitsOf(s), body_result);
  else if (p == "JSON") body::parseJson(req_body, limitsOf(s), body_result);
  else body::parseXml(req_body, limitsOf(s), body_result);
  reqbody_error = body_result.error;
  if (reqbody_error) {
    std::string prefix = p == "JSON"        ? "JSON parser error: "
                         : p == "XML"       ? "XML parser error: "
                         : p == "MULTIPART" ? "Multipart parsing error: "
                                            : "";
    reqbody_error_msg = prefix + body_result.error_msg;
  }
  args_post.clear();
  for (auto& f : body_result.args) args_post.push_back({f.name, f.value});
}

// Apache runs v2's phase 1 before it unescapes r->uri (which is also
// r->parsed_uri.path) and removes dot segments; phase 2 and later see the
// decoded path in REQUEST_FILENAME, REQUEST_BASENAME and REQUEST_URI.
void Transaction::Impl::decodePathForLaterPhases() {
  // New members (not overwriting the raw ones): cached transformations are keyed by value address.
  const std::string& raw = request_filename;
  if (raw.find('%') == std::string::npos && raw.find("/.") == std::string::npos)
    decoded_filename.assign(raw);  // nothing to decode, no dot segment: as it is (most paths)
  else
    normalizePath(raw, decoded_filename);
  std::string_view base = decoded_filename;
  if (auto s = base.rfind('/'); s != std::string_view::npos) base = base.substr(s + 1);
  if (auto s = base.rfind('\\'); s != std::string_view::npos) base = base.substr(s + 1);
  decoded_basename.assign(base);
  decoded_uri.assign(decoded_filename);
  if (uri_raw.find('?') != std::string_view::npos) decoded_uri.append("?").append(query_string);
  path_decoded = true;
  path_pending = false;
}

// The path percent-decoded, then its dot segments removed.
void Transaction::Impl::normalizePath(const std::string& raw, std::string& out) {
  using transformations::detail::isHex;
  std::string& dec = ws->path_decoded_buf;  // (the workspace's: no allocation once warm)
  dec.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      dec.push_back(static_cast<char>(transformations::detail::x2c(&raw[i + 1])));
      i += 2;
    } else {
      dec.push_back(raw[i]);
    }
  }
  // Dot segments (RFC 3986 5.2.4), as ap_normalize_path does.
  out.clear();
  size_t i = 0;
  while (i < dec.size()) {
    size_t j = dec.find('/', i + 1);
    std::string_view seg = std::string_view(dec).substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (seg == "/.") {
      if (j == std::string::npos) out.push_back('/');
    } else if (seg == "/..") {
      auto p = out.rfind('/');
      out.erase(p == std::string::npos ? 0 : p);
      if (j == std::string::npos) out.push_back('/');
    } else {
      out.append(seg);
    }
    if (j == std::string::npos) break;
    i = j;
  }
  if (out.empty() && !dec.empty()) out = dec[0] == '/' ? "/" : dec;
}

// ---------------------------------------------------------------- rule flow

// Whether a compile-time rule set (actions::Ctl::matching_rules) holds the head.
static bool inRuleSet(const std::vector<uint8_t>& set, const CompiledRule& head) {
  return head.profile_index >= 0 && static_cast<size_t>(head.profile_index) < set.size() &&
         set[static_cast<size_t>(head.profile_index)];
}

bool Transaction::Impl::ruleRemoved(const CompiledRule& head) {
  if (head.id && actions::idInRanges(head.id, removed_ids)) return true;
  for (const actions::Ctl* rb : removed_tags) {
    if (rb->matching_rules && inRuleSet(*rb->matching_rules, head)) return true;
    if (!head.macro_tags) continue;  // literal tags were resolved at compile time
    for (auto& tag : head.tags) {
      if (!operators::hasMacro(tag)) continue;
      if (rb->re && rb->re->matches(expand(tag))) return true;
    }
  }
  for (const actions::Ctl* rb : removed_msgs)
    if (rb->matching_rules ? inRuleSet(*rb->matching_rules, head) : (rb->re && rb->re->matches(head.msg))) return true;
  return false;
}

// The ctl:ruleRemoveTarget* entries that apply to this rule (tag/msg/id tests
// done once per rule evaluation, not per target).
void Transaction::Impl::applicableRemovals(const CompiledRule& head, std::vector<const actions::Ctl*>& out) {
  out.clear();
  using K = actions::Ctl::Kind;
  for (const actions::Ctl* rt : removed_targets) {
    const bool by_tag = rt->kind == K::RuleRemoveTargetByTag, by_msg = rt->kind == K::RuleRemoveTargetByMsg;
    bool applies = false;
    if ((by_tag || by_msg) && rt->matching_rules) {
      applies = inRuleSet(*rt->matching_rules, head);
    } else if (by_tag) {
      for (auto& t : head.tags)
        if (rt->re && rt->re->matches(t)) {
          applies = true;
          break;
        }
    } else if (by_msg) {
      applies = rt->re && rt->re->matches(head.msg);
    } else {
      applies = head.id && actions::idInRanges(head.id, rt->ids);
    }
    if (applies) out.push_back(rt);
  }
}

bool Transaction::Impl::targetRemoved(const std::vector<const actions::Ctl*>& removals, std::string_view coll,
                                      std::string_view key) {
  for (const actions::Ctl* rt : removals) {
    if (!iequals(rt->target.name, coll)) continue;
    if (rt->target.selector_re) {
      if (rt->target.selector_re->matches(key)) return true;
    } else if (rt->target.selector.empty() || iequals(rt->target.selector, key)) {
      return true;
    }
  }
  return false;
}

void Transaction::Impl::runStep(const actions::Step& s, const CompiledRule& rule) {
  switch (s.kind) {
    case actions::Step::Kind::SetVar: runSetVar(s.setvar); break;
    case actions::Step::Kind::Ctl: runCtl(s.ctl, rule); break;
    case actions::Step::Kind::InitCol: {
      // initcol:ip=%{remote_addr}: collections live per transaction for now.
      auto eq = s.arg.find('=');
      coll(toLower(s.arg.substr(0, eq)));
      break;
    }
    case actions::Step::Kind::SetSid: session_id = expand(s.arg); coll("session"); break;
    case actions::Step::Kind::SetUid: user_id = expand(s.arg); coll("user"); break;
    case actions::Step::Kind::SetEnv: {
      std::string a = expand(s.arg);
      auto eq = a.find('=');
      if (!a.empty() && a[0] == '!') env.erase(a.substr(1));
      else env[a.substr(0, eq)] = eq == std::string::npos ? "1" : a.substr(eq + 1);
      break;
    }
  }
}

// As many tag strings as n: those over are set aside (Workspace::spare_tags),
// and those missing taken from there. A resize would free the ones over, and
// a record with more tags in this place would make them again (CRS's rules
// have 5 to 12, most longer than a string holds without its own buffer).
void Transaction::Impl::sizeTags(std::vector<std::string>& tags, size_t n) {
  auto& spare = ws->spare_tags;
  for (; tags.size() > n; tags.pop_back()) spare.push_back(std::move(tags.back()));
  while (tags.size() < n) {
    if (spare.empty()) {
      tags.emplace_back();
    } else {
      tags.push_back(std::move(spare.back()));
      spare.pop_back();
    }
  }
}

// to = from, into the strings `to` has: a replay's record into one of the
// transaction's (the workspace's spare tag strings, not the replay's own:
// those stay with the thread's request set). With as many tags on both
// sides, the copy assigns string to string, each keeping its buffer.
void Transaction::Impl::copyRecord(MatchedRule& to, const MatchedRule& from) {
  sizeTags(to.tags, from.tags.size());
  to = from;
}

void Transaction::Impl::recordMatch(const CompiledRule& head, bool disruptive) {
  Hit& h = hits.emplace_back();
  h.id = head.id;
  h.phase = static_cast<int8_t>(current_phase);
  h.severity = static_cast<int8_t>(head.severity);
  h.disruptive = disruptive;
  h.logged = -1;
  if (head.auditlog) audit_relevant = true;
  if (!head.log) return;  // CRS's paranoia-level skips, TX bookkeeping: ~40 a request
  h.logged = static_cast<int32_t>(logged_count);
  if (logged_count == logged_matches.size()) logged_matches.emplace_back();
  MatchedRule& m = logged_matches[logged_count++];
  ws->logged_dirty = true;
  m.id = head.id;
  m.phase = current_phase;
  m.severity = head.severity;
  m.disruptive = disruptive;
  m.logged = true;
  // Into the strings the record has (the macros expanded in place).
  auto text = [&](std::string& out, const std::string& from) {
    if (!operators::hasMacro(from)) {
      out.assign(from);
      return;
    }
    out.clear();
    expandInto(out, from);
  };
  text(m.msg, head.msg);
  text(m.logdata, head.logdata);
  sizeTags(m.tags, head.tags.size());
  for (size_t i = 0; i < head.tags.size(); ++i) text(m.tags[i], head.tags[i]);
  m.matched_var_name.assign(matchedVarName());
  m.matched_data.assign(matchedVar());
}

void Transaction::Impl::takeDisruptive(const CompiledRule& head) {
  const bool online = mode == rules::EngineSettings::RuleEngine::On && current_phase != 5;
  bool takes = false;
  switch (head.disruptive) {
    case Disruptive::Deny:
    case Disruptive::Drop:
    case Disruptive::Redirect:
    case Disruptive::Proxy:
      takes = online;
      break;
    case Disruptive::Allow:
      if (online) {
        allow_level = head.allow_scope == AllowScope::All ? 3 : head.allow_scope == AllowScope::Request ? 2 : 1;
        allow_phase = current_phase;
      }
      break;
    default:
      break;
  }
  recordMatch(head, takes);
  if (would_be.action == Verdict::Action::None && current_phase != 5 && active()) {
    switch (head.disruptive) {
      case Disruptive::Deny:
      case Disruptive::Proxy:
        would_be = {Verdict::Action::Deny, head.status > 0 ? head.status : 403, {}, head.id, current_phase};
        break;
      case Disruptive::Drop:
        would_be = {Verdict::Action::Drop, 0, {}, head.id, current_phase};
        break;
      case Disruptive::Redirect:
        would_be = {Verdict::Action::Redirect, 302, {}, head.id, current_phase};
        break;
      default:
        break;
    }
  }
  if (!takes) return;
  intercepted = true;
  if (verdict.action != Verdict::Action::None) return;
  verdict.rule_id = head.id;
  verdict.phase = current_phase;
  switch (head.disruptive) {
    case Disruptive::Drop:
      verdict.action = Verdict::Action::Drop;
      break;
    case Disruptive::Redirect: {
      verdict.action = Verdict::Action::Redirect;
      int st = head.status;
      verdict.status = (st == 301 || st == 302 || st == 303 || st == 307) ? st : 302;
      verdict.redirect_url = operators::hasMacro(head.redirect_url) ? expand(head.redirect_url) : head.redirect_url;
      break;
    }
    default:
      verdict.action = Verdict::Action::Deny;
      verdict.status = head.status > 0 ? head.status : 403;
      break;
  }
}

namespace {
// Workspaces of finished transactions, per thread, ready for the next ones.
// A worker has as many transactions open as requests in flight (32 in the
// end-to-end bench, hundreds on a busy gateway), and a burst of responses ends
// many at once: up to 64 are kept (~50 KiB each, memory those requests had in
// use anyway), so that the next burst does not build new ones (building one
// took 2% of a worker's time at 32 connections with 8 kept, when each had its
// own 96 KiB transformation table; that table is now the thread's, as is the
// memo's, MemoTable). One grown big for a large request is dropped.
std::vector<std::unique_ptr<Transaction::Impl::Workspace>>& freeWorkspaces() {
  thread_local std::vector<std::unique_ptr<Transaction::Impl::Workspace>> kept;
  return kept;
}
constexpr size_t kFreeWorkspaces = 64;
constexpr size_t kKeptBytes = size_t(1) << 20;
// The variables' lists grow with a request's arguments, headers and cookies
// (each under SecArgumentsLimit and the head's limits), not with its body: a
// workspace they grew past kKeptBytes is dropped at most this many requests late.
constexpr uint32_t kListsCheckEvery = 16;
}  // namespace

Transaction::Impl::ThreadCache& Transaction::Impl::threadCache() {
  thread_local ThreadCache tc;
  return tc;
}

// Unique in the process without a counter every worker writes per request:
// each thread takes a block of 2^40 serials (the shared counter is written
// once per thread) and numbers its transactions within it.
uint64_t Transaction::Impl::nextSerial() {
  static std::atomic<uint64_t> next_block{1};
  thread_local uint64_t next = next_block.fetch_add(1, std::memory_order_relaxed) << 40;
  return ++next;
}

Transaction::Impl::Workspace* Transaction::Impl::acquireWorkspace() {
  auto& free = freeWorkspaces();
  if (free.empty()) return new Workspace;
  Workspace* w = free.back().release();
  free.pop_back();
  w->reset();
  return w;
}

void Transaction::Impl::WorkspaceRelease::operator()(Workspace* w) const {
  std::unique_ptr<Workspace> owned(w);
  // The body's strings back to its spare ones now (the transaction's first
  // body costs their lists' growth, not the next one's), an XML document freed.
  w->body_result.reset();
  auto& free = freeWorkspaces();
  // Its size summed at one release in 16 of the thread's (~400 instructions
  // each): one a large request grew is let go within 16 releases (it goes back
  // on top of the stack: the next transaction takes it again).
  thread_local uint32_t releases = 0;
  if (free.size() < kFreeWorkspaces && ((++releases & 15) != 0 || w->worthKeeping()))
    free.push_back(std::move(owned));  // (~Impl emptied pins)
}

// Everything a transaction may have left: nothing of one request shows in the next.
void Transaction::Impl::Workspace::reset() {
  scratch.clear();
  pins.clear();
  merged_used = 0;
  hits.clear();
  for (auto s : kStrings) (this->*s).clear();
  for (auto l : kLists) (this->*l).clear();
  scan_state.clear();
  scan_hits.clear();
  scan_memo.clear();
  scan_parts.clear();
  url_pairs.clear();
  // (body_result: emptied when the workspace was released, WorkspaceRelease.)
  removed_ids.clear();
  removed_tags.clear();
  removed_msgs.clear();
  removed_targets.clear();
  nextVarEpoch();
  head_epoch = var_epoch;
  nextSetGen();
  matched_vars.clear();
  scan_seps.clear();
  scan_vals.clear();
  scan_stages.clear();
  scan_have.clear();
  targets_buf.clear();
  tmp_buf.clear();
  removals_buf.clear();
  candidates_buf.clear();
  coll_items.clear();
}

bool Transaction::Impl::Workspace::worthKeeping() {
  if (logged_dirty) {  // (a request that logged nothing left the records as they were)
    logged_dirty = false;
    logged_bytes = logged.capacity() * sizeof(MatchedRule);
    for (const auto& m : logged) {
      logged_bytes += m.msg.capacity() + m.logdata.capacity() + m.matched_var_name.capacity() +
                      m.matched_data.capacity() + m.tags.capacity() * sizeof(std::string);
      for (const auto& t : m.tags) logged_bytes += t.capacity();
    }
    logged_bytes += spare_tags.capacity() * sizeof(std::string);
    for (const auto& t : spare_tags) logged_bytes += t.capacity();
  }
  size_t bytes = scan_seps.capacity() * sizeof(uint32_t) +
                 (scan_vals.capacity() + targets_buf.capacity() + tmp_buf.capacity()) * sizeof(VarValue) +
                 (scan_stages.capacity() + scan_have.capacity() + candidates_buf.capacity() + set_values.capacity()) *
                     sizeof(std::string_view) +
                 (removals_buf.capacity() + coll_items.capacity() + scan_memo.capacity() +
                  removed_tags.capacity() + removed_msgs.capacity() + removed_targets.capacity()) *
                     sizeof(void*) +
                 removed_ids.capacity() * sizeof(actions::IdRange) +
                 scan_parts.capacity() * sizeof(std::span<const VarValue>) +
                 url_pairs.capacity() * sizeof(url_pairs[0]) +
                 pins.capacity() * sizeof(pins[0]) + hits.capacity() * sizeof(Hit) + logged_bytes +
                 body_result.heldBytes();
  if (releases++ % kListsCheckEvery == 0) {
    lists_bytes = 0;
    for (const auto& l : var_lists) lists_bytes += sizeof(l) + l.values.capacity() * sizeof(VarValue);
  }
  bytes += lists_bytes;
  for (auto s : kStrings) bytes += (this->*s).capacity();
  for (auto l : kLists) bytes += (this->*l).capacity() * sizeof(KV);
  for (const auto& joined : merged_storage) bytes += sizeof(std::string) + joined.capacity();
  for (const auto& [name, value] : matched_vars.v) bytes += name.capacity() + value.capacity();
  return bytes <= kKeptBytes;
}

// Step i of the link's pipeline over `cur` (the value after steps 0..i-1) of
// the stable value `value`, cached per (value, prefix).
std::string_view Transaction::Impl::transformStep(std::string_view value, std::string_view cur,
                                                  const CompiledRule& link, size_t i) {
  CacheKey key{value.data(), value.size(), link.prefix_ids[i]};
  ThreadCache& tc = cache();
  if (auto* hit = tc.table.find(key)) return *hit;
  return transformStepUncached(tc, key, cur, link, i);
}

// The same when the cache is known not to have it.
std::string_view Transaction::Impl::transformStepUncached(ThreadCache& tc, const CacheKey& key, std::string_view cur,
                                                          const CompiledRule& link, size_t i) {
  out_buf.clear();
  if (link.tfns[i]->fn(cur, out_buf)) cur = tc.store.store(out_buf);
  tc.table.put(key, cur);
  return cur;
}

// The whole pipeline is looked up first (the common hit), then the longest
// cached prefix, from the longest down (another rule with the same first
// steps usually made it), and the pipeline finished from there. Leading steps
// none of whose triggers the value holds (`cls`, 0 when unknown) leave it as
// it is: no prefix that ends among them is looked up.
std::string_view Transaction::Impl::transformStable(std::string_view value, uint32_t cls, const CompiledRule& link) {
  const size_t steps = link.tfns.size();
  size_t first = 0;
  if (cls)
    while (first < steps && !(cls & link.tfns[first]->triggers)) ++first;
  if (first == steps) return value;
  // A short value whose one step left is cheap (t:lowercase: 920450's header
  // names, 920420's Content-Type) is run here, not through the cache's miss
  // and put (another link asking again runs it again: still less).
  if (first + 1 == steps && value.size() <= 64 && link.tfns[first]->cheap) {
    out_buf.clear();
    return link.tfns[first]->fn(value, out_buf) ? cache().store.store(out_buf) : value;
  }
  CacheKey key{value.data(), value.size(), link.prefix_ids[steps - 1]};
  ThreadCache& tc = cache();
  TransformCache& tcache = tc.table;
  if (auto* hit = tcache.find(key)) return *hit;
  size_t from = first;
  std::string_view cur = value;
  for (size_t i = steps - 1; i-- > first;) {
    key.prefix = link.prefix_ids[i];
    if (auto* hit = tcache.find(key)) {
      cur = *hit;
      from = i + 1;
      break;
    }
  }
  // The rest, skipping the steps none of whose triggers the value holds as it
  // is by then (classes worked out again after each change).
  uint32_t now = from == first && cls ? cls : transformations::classify(cur);
  bool stored = false;  // the last step ran (and stored the pipeline's result)
  for (size_t i = from; i < steps; ++i) {
    stored = false;
    if (!(now & link.tfns[i]->triggers)) continue;
    key.prefix = link.prefix_ids[i];
    const std::string_view before = cur;
    cur = transformStepUncached(tc, key, cur, link, i);
    stored = true;
    if (i + 1 < steps && (cur.data() != before.data() || cur.size() != before.size()))
      now = transformations::classify(cur);
  }
  if (!stored) tcache.put({value.data(), value.size(), link.prefix_ids[steps - 1]}, cur);
  return cur;
}

// What the link's operator tests for target t: the value after the link's
// transformations, or with multiMatch the value and every stage a step changed.
// Stable values go through the per-(value, prefix) cache; others (TX, XML
// text...) are transformed here into scratch.
void Transaction::Impl::transformedValuesSlow(const VarValue& t, const CompiledRule& link, bool multi,
                                              std::vector<std::string_view>& out) {
  out.clear();
  if (t.stable && !multi) {
    out.push_back(transformStable(t.value, t.cls, link));
    return;
  }
  std::string_view cur = t.value;
  uint32_t cls = t.cls;  // the classes of cur (0: unknown, no step skipped)
  if (multi) out.push_back(cur);
  for (size_t i = 0; i < link.tfns.size(); ++i) {
    if (cls && !(cls & link.tfns[i]->triggers)) continue;
    std::string_view before = cur;
    if (t.stable) {
      cur = transformStep(t.value, cur, link, i);
    } else {
      out_buf.clear();
      if (link.tfns[i]->fn(cur, out_buf)) cur = keep(out_buf);
    }
    if (cur.data() != before.data() || cur.size() != before.size()) {
      if (i + 1 < link.tfns.size()) cls = transformations::classify(cur);
      if (multi) out.push_back(cur);
    }
  }
  if (!multi) out.push_back(cur);
}

Transaction::Impl::MemoTable& Transaction::Impl::threadMemoTable() {
  thread_local MemoTable t;
  return t;
}

void Transaction::Impl::takeMemoTable() {
  MemoTable& t = threadMemoTable();
  if (t.owner != serial) {
    t.flush();  // (the last owner's)
    if (++t.gen == 0) {  // wrapped: no entry may look current
      t.values.fill({});
      t.gen = 1;
    }
    t.owner = serial;
    t.memo_id = eng->memo_id;
    for (auto l : Workspace::kLists)
      for (const KV& kv : (*ws).*l) kv.name_slot.memo = kv.value_slot.memo = nullptr;
  }
  memo_table = &t;
}

MemoValue* Transaction::Impl::memoValue(MemoTable& tab, std::string_view v) {
  // A long value (a body, a large upload's field) costs its length to hash
  // and is seldom sent again.
  if (v.size() > kMemoMaxValue) return nullptr;
  const size_t mask = tab.values.size() - 1;
  size_t at = (((reinterpret_cast<uintptr_t>(v.data()) >> 3) * 0x9E3779B97F4A7C15ull >> 40) ^ v.size()) & mask;
  for (size_t probe = 0; probe < 8; ++probe, at = (at + 1) & mask) {
    MemoValue& m = tab.values[at];
    if (m.gen != tab.gen) {
      m.data = v.data();
      m.size = static_cast<uint32_t>(v.size());
      m.gen = tab.gen;
      m.key = match::ValueMemo::hash(v);
      const auto* e = tab.memo.find(m.key, eng->memo_id);
      m.clean = m.clean_before = e ? e->clean : 0;
      m.links = m.links_before = e ? e->links : 0;
      m.classes = 0;
      tab.touched.push_back(&m);
      return &m;
    }
    if (m.data == v.data() && m.size == v.size()) return &m;
  }
  return nullptr;
}

// What the owner learnt about its values, into the thread's memo: once per
// value (a value pushed out meanwhile is put back).
void Transaction::Impl::MemoTable::flush() {
  if (touched.empty()) return;
  for (MemoValue* m : touched) {
    if (m->clean == m->clean_before && m->links == m->links_before) continue;
    auto* e = memo.find(m->key, memo_id);
    if (!e) e = &memo.insert(m->key, memo_id);
    e->clean |= m->clean;
    e->links |= m->links;
  }
  touched.clear();
}

void Transaction::Impl::endMemo() {
  MemoTable& t = threadMemoTable();
  if (t.owner != serial) return;  // (taken since: flushed then)
  t.flush();
  t.owner = 0;
}

void Transaction::Impl::scanGroup(size_t gi) {
  std::chrono::steady_clock::time_point t0;
  if (profile_timed) t0 = std::chrono::steady_clock::now();
  // (The group itself is read only to gather and scan: what a scan that
  // gathers nothing reads is in Engine::Impl::scan_hot.)
  const auto& hot = eng->scan_hot[gi];
  const auto& g = *eng->scans[gi];
  // Values this group matched nothing in before (match::ValueMemo) are left
  // out; the others' entries are kept to record them if nothing matches now.
  // When every value of every variable it reads is known (asked of each
  // variable's list once a phase), none is gathered.
  const uint64_t memo_bit = memo_on && hot.memo ? uint64_t(1) << gi : 0;
  size_t listed = 0;
  const bool all_known =
      memo_bit && hot.vars_listed && varsKnown(hot.known_at, hot.known_count, memo_bit, false, &listed);
  uint8_t* hits = scan_hits.data() + hot.hits_offset;
  const size_t nhits = hot.hits;
  // The scan's end: the memo's counts, its state, its profile.
  auto finish = [&](bool ok, bool clean, size_t gathered, size_t known, bool skipped, bool sieved)
                    __attribute__((always_inline)) {
    if (memo_bit && gathered + listed > 0) {
      memo_stats.values += gathered + listed;
      memo_stats.values_known += known;
      memo_stats.scans += 1;
      memo_stats.scans_skipped += skipped;
      memo_stats.scans_sieved += sieved;
    }
    scan_state[gi] = !ok ? -1 : clean ? 2 : 1;
    if (profile) {
      auto& c = profile->scans();
      bumpCounter(c.evaluations, profile_weight);
      if (profile_timed) {
        auto ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
                               .count());
        scan_ns += ns;
        bumpCounter(c.sampled_evaluations, 1);
        bumpCounter(c.time_ns, ns);
      }
    }
  };
  if (all_known) {
    // Every value known to match nothing here (most groups of a request
    // seen before): its links match nothing, and nothing is gathered.
    std::memset(hits, 0, nhits);
    finish(true, true, 0, listed, true, false);
    return;
  }
  // A value (a stage of one) that holds none of the bytes the group's patterns
  // need is matched by none of them: not scanned (a scan whose every value is
  // so costs no Hyperscan call).
  const uint64_t need = g.need;
  // A long value or stage (a body) is taken as holding every class: a pass to
  // work its classes out would cost about what its scan does, and it would
  // seldom hold none of what the group needs.
  auto classesOf = [](std::string_view v) { return v.size() > kMemoMaxValue ? ~uint64_t(0) : match::byteClasses(v); };
  size_t sieved = 0;
  scan_buf.clear();
  scan_seps.clear();
  if (scan_buf.capacity() < 4096) scan_buf.reserve(4096);  // once per transaction, not grown value by value
  auto append = [&](std::string_view v) {
    scan_buf.append(v);
    scan_seps.push_back(static_cast<uint32_t>(scan_buf.size()));
    scan_buf.push_back('\n');
  };
  auto& memo_list = ws->scan_memo;
  memo_list.clear();
  size_t known = listed, gathered = 0;
  // The values: when every variable is a list (the group's never exclude or
  // count), each list read in place rather than all copied into one vector
  // (~20 values of 64 bytes a group, ~37 groups a request).
  auto& parts = ws->scan_parts;
  parts.clear();
  if (!all_known) {
    if (g.vars_listed) {
      for (const auto& cv : g.vars) {
        const auto& l = varList(cv);
        // A list the memo knows every value of to match nothing here (its
        // masks, when a question this phase took them: a request's header
        // and argument names, most of its header values) is passed over
        // whole, not value by value.
        if (memo_bit && l.masks_set && (l.clean & memo_bit)) {
          gathered += l.values.size();
          known += l.values.size();
          continue;
        }
        if (!l.values.empty()) parts.emplace_back(l.values.data(), l.values.size());
      }
    } else {
      const auto& l = targetsOf(g.vars, scan_vals);
      if (!l.empty()) parts.emplace_back(l.data(), l.size());
    }
  }
  for (const std::span<const VarValue> part : parts) {
    gathered += part.size();
    for (const auto& t : part) {
      MemoValue* mv = nullptr;
      if (memo_bit) {
        mv = t.stable ? memoValue(t) : nullptr;
        if (mv && (mv->clean & memo_bit)) {
          ++known;
          continue;
        }
        memo_list.push_back(mv);
      }
      // The value's byte classes (kept in its memo entry), when a need can rule it out.
      uint64_t classes = ~uint64_t(0);
      if (need != ~uint64_t(0)) {
        if (mv && mv->classes) {
          classes = mv->classes;
        } else {
          classes = classesOf(t.value);
          if (mv) mv->classes = classes;
        }
      }
      if (!mayChange(t, g.triggers)) {  // no pipeline changes it
        if (classes & need) append(t.value);
        else ++sieved;
        continue;
      }
      // Each distinct result once. The value as it is (what most pipelines
      // leave, for most values: no step runs for them) is taken once, by a
      // flag; the other results are compared with those taken, by address
      // first (a cached result another pipeline shares is at the same address).
      // (The views stay valid while the group is gathered: the thread's cache
      // and the transaction's storage keep them.)
      bool value_taken = false;
      auto takeValue = [&] {
        if (value_taken) return;
        value_taken = true;
        if (classes & need) append(t.value);
        else ++sieved;
      };
      auto& have = scan_have;  // the results other than the value
      have.clear();
      for (const auto& [pipeline, multi] : g.pipelines) {
        if (leavesAsIs(t, *pipeline)) {
          takeValue();  // (transformedValues' answer, without its vector)
          continue;
        }
        transformedValuesSlow(t, *pipeline, multi, scan_stages);
        for (std::string_view v : scan_stages) {
          auto same = [v](std::string_view h) {
            return h.size() == v.size() && (h.data() == v.data() || std::memcmp(h.data(), v.data(), v.size()) == 0);
          };
          if (same(t.value)) {
            takeValue();
            continue;
          }
          if (std::any_of(have.begin(), have.end(), same)) continue;
          have.push_back(v);
          if ((need == ~uint64_t(0) ? classes : classesOf(v)) & need) append(v);
          else ++sieved;
        }
      }
    }
  }
  bool ok = true;
  bool clean = true;  // no pattern a link reads was found
  if (scan_seps.empty()) {
    // None of the group's variables has a value, or every value is known to
    // match nothing here or holds none of the bytes its patterns need: its
    // links match nothing (a database not read is one less to fetch).
    std::memset(hits, 0, nhits);
  } else {
    if (g.db.ready()) ok = g.db.scan(scan_buf, hits, &scan_seps);
    if (g.db_plain.ready()) {
      for (uint32_t at : scan_seps) scan_buf[at] = kPlainSeparator;
      ok = g.db_plain.scan(scan_buf, hits + g.db.size(), nullptr) && ok;
    }
    clean = ok;
    for (size_t i = 0; i < nhits && clean; ++i) clean = hits[i] == 0 || g.unread[i];
  }
  if (memo_bit && clean) {
    // Nothing matched: none of these values matches any of the group's
    // patterns through any of its pipelines (alone, each is matched by no
    // more than among the others). Patterns no link reads do not count.
    for (MemoValue* mv : memo_list)
      if (mv) mv->clean |= memo_bit;  // (into the thread's memo when the transaction ends)
  }
  // Not scanned: every value known (skipped), or some sieved (sieved).
  const bool unscanned = scan_seps.empty();
  finish(ok, clean, gathered, known, unscanned && sieved == 0, unscanned && sieved > 0);
}

const match::ValueMemo::Stats& Transaction::valueMemoStats() const { return impl_->memo_stats; }

Transaction::Impl::SetMemo* Transaction::Impl::setMemoOf(int set, std::string_view value, SetMemo** free_slot) {
  const size_t mask = set_memo.size() - 1;
  size_t at = ((reinterpret_cast<uintptr_t>(value.data()) >> 3) * 0x9E3779B97F4A7C15ull >> 40) & mask;
  *free_slot = nullptr;  // none in a crowded neighbourhood: the answer is not remembered
  for (size_t probe = 0; probe < 8; ++probe, at = (at + 1) & mask) {
    SetMemo& m = set_memo[at];
    if (m.gen != ws->set_gen) {
      *free_slot = &m;
      return nullptr;
    }
    if (m.data == value.data() && m.size == value.size() && m.set == set) return &m;
  }
  return nullptr;
}

bool Transaction::Impl::setRulesOut(const CompiledRule& link, std::string_view value) {
  SetMemo* free_slot;
  if (const SetMemo* m = setMemoOf(link.regex_set, value, &free_slot)) return !(m->bits >> link.regex_set_bit & 1);
  uint64_t bits = 0;
  if (!eng->regex_sets[size_t(link.regex_set)]->match(value, &bits)) return false;
  if (free_slot) *free_slot = {value.data(), static_cast<uint32_t>(value.size()), ws->set_gen, link.regex_set, bits};
  return !(bits >> link.regex_set_bit & 1);
}

void Transaction::Impl::askSetJoined(const CompiledRule& link, std::span<const VarValue> targets,
                                     const std::vector<const actions::Ctl*>& removals, uint64_t memo_bit) {
  const match::RegexSet& set = *eng->regex_sets[size_t(link.regex_set)];
  SetMemo* free_slot;
  if (!set.canJoin() || setMemoOf(link.regex_set, targets.front().value, &free_slot)) return;
  auto& joined = ws->set_joined;
  auto& values = ws->set_values;
  joined.clear();
  values.clear();
  for (const auto& t : targets) {
    if (setMemoOf(link.regex_set, t.value, &free_slot) || !free_slot) continue;  // (no room: asked alone)
    // The values evaluateLinkNow's loop passes over (the same tests as there;
    // should they drift apart, a value joined or not only costs time: a value
    // left out is asked alone, one let in only lengthens the join).
    if (!removals.empty() && targetRemoved(removals, t.coll, t.key)) continue;
    if (memo_bit && t.stable) {
      const MemoValue* mv = memoValue(t);
      if (mv && (mv->links & memo_bit)) continue;
    }
    if (!set.mayMatch(t.value)) {  // no byte a member needs: its answer without the join
      *free_slot = {t.value.data(), static_cast<uint32_t>(t.value.size()), ws->set_gen, link.regex_set, 0};
      continue;
    }
    if (!values.empty()) joined.push_back('\n');
    values.push_back(t.value);
    joined.append(t.value);
  }
  if (values.size() < 2 || !set.noneMatchJoined(joined)) return;
  for (std::string_view v : values)
    if (!setMemoOf(link.regex_set, v, &free_slot) && free_slot)
      *free_slot = {v.data(), static_cast<uint32_t>(v.size()), ws->set_gen, link.regex_set, 0};
}

void Transaction::Impl::resolveTargets(const std::vector<CompiledVar>& vars, std::vector<VarValue>& out) {
  auto& targets = out;
  auto& tmp = tmp_buf;
  for (const auto& cv : vars) {
    if (cv.exclude) {
      const std::vector<VarValue>* gone = &tmp;
      if (cv.var_list >= 0) {
        gone = &varList(cv).values;
      } else {
        tmp.clear();
        collect(cv, tmp);
      }
      targets.erase(std::remove_if(targets.begin(), targets.end(),
                                   [&](const VarValue& t) {
                                     for (auto& x : *gone)
                                       if (t.coll == x.coll && iequals(t.key, x.key)) return true;
                                     return false;
                                   }),
                    targets.end());
      // "!ARGS:foo" with no such arg still names the key: remove by selector too.
      if (!cv.selector.empty() && !cv.selector_re) {
        targets.erase(std::remove_if(targets.begin(), targets.end(),
                                     [&](const VarValue& t) {
                                       return t.coll == cv.name && iequals(t.key, cv.selector_lower);
                                     }),
                      targets.end());
      }
      continue;
    }
    if (cv.count) {
      size_t n = 0;
      if (cv.var_list >= 0) {
        n = varList(cv).values.size();
      } else {
        tmp.clear();
        collect(cv, tmp);
        n = tmp.size();
      }
      // v2 names a count after the bare variable: MATCHED_VAR_NAME is "ARGS" for &ARGS:foo.
      targets.push_back({cv.name, {}, keepNumber(int64_t(n)), false});
      continue;
    }
    if (cv.var_list >= 0) {
      const auto& l = varList(cv).values;
      targets.insert(targets.end(), l.begin(), l.end());
    } else {
      collect(cv, targets);
    }
  }
  // SecAction (and a rule without targets): the operator runs once on an empty value.
  if (vars.empty()) targets.push_back({{}, {}, {}, false});
}

inline void Transaction::Impl::setListMasks(Workspace::VarList& l, size_t id) {
  l.masks_set = true;
  if (const HeadMasks* m = headMasks(id)) {
    l.clean = m->clean;
    l.links = m->links;
    l.memo_full = m->memo_full;
    return;
  }
  // Asked once an epoch: a value learnt later in it only counts at the next.
  l.memo_full = valuesMasks(l.values, &l.clean, &l.links);
}

bool Transaction::Impl::valuesMasks(const std::vector<VarValue>& values, uint64_t* clean, uint64_t* links) {
  uint64_t c = ~uint64_t(0), k = ~uint64_t(0);
  for (const auto& t : values) {
    const MemoValue* mv = t.stable ? memoValue(t) : nullptr;
    if (!mv) {
      *clean = *links = 0;
      return false;
    }
    c &= mv->clean;
    k &= mv->links;
  }
  *clean = c;
  *links = k;
  return true;
}

Transaction::Impl::HeadMemo& Transaction::Impl::threadHeadMemo() {
  thread_local HeadMemo m;
  return m;
}

namespace {

// A field's first bytes as a word for a tag (up to 8; shorter fields by
// overlapping or single loads: no call), and its last eight (0: 8 or fewer).
uint64_t firstWord(std::string_view v) {
  const char* p = v.data();
  const size_t n = v.size();
  uint64_t w = 0;
  if (n >= 8) {
    std::memcpy(&w, p, 8);
  } else if (n >= 4) {
    uint32_t a = 0, b = 0;
    std::memcpy(&a, p, 4), std::memcpy(&b, p + n - 4, 4);
    w = uint64_t(a) << 32 | b;
  } else if (n > 0) {
    w = uint64_t(uint8_t(p[0])) << 16 | uint64_t(uint8_t(p[n >> 1])) << 8 | uint8_t(p[n - 1]);
  }
  return w;
}
uint64_t lastWord(std::string_view v) {
  uint64_t w = 0;
  if (v.size() > 8) std::memcpy(&w, v.data() + v.size() - 8, 8);
  return w;
}

}  // namespace

uint64_t Transaction::Impl::headersTag() const {
  uint64_t t = req_headers.size();
  for (const KV& h : req_headers) {
    t = (t ^ (h.name.size() << 32 | h.value.size())) * 0x9E3779B97F4A7C15ull;
    t = (t ^ firstWord(h.name)) * 0xC2B2AE3D27D4EB4Full;
    t = (t ^ firstWord(h.value)) * 0x165667B19E3779F9ull;
    t = (t ^ lastWord(h.value)) * 0x9E3779B97F4A7C15ull;
  }
  return t ^ (t >> 29);
}

void Transaction::Impl::findHeadMemo() {
  // The tag picks the entry and tells most other headers apart. The bytes
  // decide (findIn).
  head_entry = size_t(head_tag >> 58) % HeadMemo::kEntries;
  head_keyed = true;
  ++memo_stats.header_sets;
  ws->head_masks.reserve(eng->header_list_ids.size());  // (once a workspace)
  HeadMemo::Entry& thread_entry = threadHeadMemo().entries[head_entry];
  if (conn_memo && findIn(conn_memo->head)) {
    head_hit = true;
  } else if (findIn(thread_entry)) {
    head_hit = true;
    if (conn_memo) conn_memo->head = thread_entry;  // (a new connection of a client the thread knows)
  }
  memo_stats.header_sets_known += head_hit;
}

bool Transaction::Impl::findIn(HeadMemo::Entry& e) {
  size_t at = 0;
  if (!e.live(eng->memo_id, head_tag, set_generation) || !headersHeld(e.key, at) || at != e.key.size()) return false;
  ++e.uses;
  // Copied: the entry may be made again for other headers (another
  // transaction's end) while this one runs, and a phase may run on another thread.
  ws->head_masks.assign(e.masks.begin(), e.masks.end());
  return true;
}

bool Transaction::Impl::keyHolds(std::string_view key, size_t& at, std::string_view v) {
  const size_t n = v.size();
  if (key.size() - at < n + 1 || key[at + n] != '\0') return false;
  const char* p = key.data() + at;
  at += n + 1;
  if (n > 16) return std::memcmp(p, v.data(), n) == 0;
  // Most fields: two words each side, overlapping (no call).
  uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  if (n >= 8) {
    std::memcpy(&a0, p, 8), std::memcpy(&a1, p + n - 8, 8);
    std::memcpy(&b0, v.data(), 8), std::memcpy(&b1, v.data() + n - 8, 8);
  } else {
    for (size_t i = 0; i < n; ++i) a0 = a0 << 8 | uint8_t(p[i]), b0 = b0 << 8 | uint8_t(v[i]);
  }
  return a0 == b0 && a1 == b1;
}

bool Transaction::Impl::headersHeld(std::string_view key, size_t& at) const {
  for (const KV& h : req_headers)
    if (!keyHolds(key, at, h.name) || !keyHolds(key, at, h.value)) return false;
  return true;
}

size_t Transaction::Impl::headersKeyBytes() const {
  size_t bytes = 0;
  for (const KV& h : req_headers) bytes += h.name.size() + h.value.size() + 2;
  return bytes;
}

void Transaction::Impl::appendHeadersKey(std::string& key) const {
  for (const KV& h : req_headers) {
    key.append(h.name).push_back('\0');
    key.append(h.value).push_back('\0');
  }
}

void Transaction::Impl::keepHeadMemo() {
  const size_t bytes = headersKeyBytes();
  // Headers larger than browsers send are not kept: each connection would
  // hold a copy of them between its requests.
  if (bytes > HeadMemo::kMaxKey) return;
  if (conn_memo) keepIn(conn_memo->head, bytes);
  keepIn(threadHeadMemo().entries[head_entry], bytes);
}

void Transaction::Impl::keepIn(HeadMemo::Entry& e, size_t bytes) {
  if (!e.notedFor(eng->memo_id, head_tag, set_generation)) {
    // Headers seen once are not kept (most of a crawler's or an attacker's):
    // the entry only notes their tag, and is made when they come again, with
    // what the memo learnt of them the first time.
    e.note(eng->memo_id, head_tag, set_generation, bytes);
    e.masks.reserve(eng->header_list_ids.size());
    return;
  }
  e.make(eng->memo_id);
  appendHeadersKey(e.key);
  e.masks.assign(eng->header_list_ids.size(), {});
  for (size_t slot = 0; slot < eng->header_list_ids.size(); ++slot) {
    const auto& l = ws->var_lists[eng->header_list_ids[slot]];
    if (l.epoch != ws->head_epoch || !l.masks_set) continue;
    // Taken again now, not as the list took them at its first question: with
    // what this request taught the memo (a link tests once the values it does
    // not read, learnLink), which the next requests would otherwise miss
    // until the set is made again.
    HeadMasks& m = e.masks[slot];
    m.values = static_cast<uint32_t>(l.values.size());
    m.set = true;
    m.memo_full = valuesMasks(l.values, &m.clean, &m.links);
  }
}

Transaction::Impl::ReqMemo& Transaction::Impl::threadReqMemo() {
  thread_local ReqMemo m;
  return m;
}

void Transaction::Impl::findRequestSet() {
  // The headers' tag, then the request line's fields (as headersTag): the
  // tag picks the entry, the bytes decide (findReqIn).
  uint64_t t = head_tag;
  for (std::string_view v : {method, uri_raw, protocol}) {
    t = (t ^ v.size()) * 0x9E3779B97F4A7C15ull;
    t = (t ^ firstWord(v)) * 0xC2B2AE3D27D4EB4Full;
    t = (t ^ lastWord(v)) * 0x165667B19E3779F9ull;
  }
  req_tag = t ^ (t >> 31);
  req_entry = size_t(req_tag >> 52) % ReqMemo::kEntries;
  req_keyed = true;
  ++memo_stats.request_sets;
  RequestSet& thread_entry = threadReqMemo().entries[req_entry];
  if (conn_memo && findReqIn(conn_memo->request)) {
    req_hit = true;
  } else if (findReqIn(thread_entry)) {
    req_hit = true;
    if (conn_memo) conn_memo->request = thread_entry;
  }
  memo_stats.request_sets_known += req_hit;
  if (req_hit) return;
  req_maker = (conn_memo && conn_memo->request.notedFor(eng->memo_id, req_tag, set_generation)) ||
              thread_entry.notedFor(eng->memo_id, req_tag, set_generation);
  if (req_maker) ws->req_answers.asked[0] = ws->req_answers.asked[1] = ws->req_answers.asked[2] = 0;
}

bool Transaction::Impl::findReqIn(RequestSet& e) {
  size_t at = 0;
  if (!e.live(eng->memo_id, req_tag, set_generation) || !keyHolds(e.key, at, method) ||
      !keyHolds(e.key, at, uri_raw) || !keyHolds(e.key, at, protocol) || !headersHeld(e.key, at) ||
      at != e.key.size())
    return false;
  ++e.uses;
  replay = e.replay;
  // Copied, as a header set's masks (findIn).
  ws->req_answers = e.answers;
  ws->req_set_body_kept = e.body_kept;
  if (e.body_kept) {
    ws->req_set_body.assign(e.body);
    ws->req_set_processor.assign(e.processor);
    ws->req_set_body_access = e.body_access;
    ws->req_set_force_body = e.force_body;
  }
  return true;
}

void Transaction::Impl::requestBodyCtl(int phase) {
  if (phase != 2) return;  // (in phase 1 the body is not read yet)
  req_ok[0] = req_ok[1] = req_ok[2] = 0;
  req_maker = false;  // (its set noted only)
}

void Transaction::Impl::requestAnswersFor(int phase) {
  req_ok[0] = req_ok[1] = req_ok[2] = 0;
  if (phase != 1 && phase != 2) return;
  const uint64_t* pure = eng->request_pure[phase - 1];
  if (req_hit) {
    // Phase 2's lists are also the body's: the same bytes, read the same way.
    if (phase == 2 && !sameBody()) return;
    req_ok[0] = pure[0] & ws->req_answers.asked[0];
    req_ok[1] = pure[1] & ws->req_answers.asked[1];
    req_ok[2] = pure[2] & ws->req_answers.asked[2] & ws->req_answers.known[2];
  } else if (req_maker && phase == 2) {  // (as the body was read)
    ws->req_set_body_access = request_body_access;
    ws->req_set_force_body = force_body_variable;
    ws->req_set_processor.assign(reqbody_processor);
  }
}

bool Transaction::Impl::sameBody() const {
  return ws->req_set_body_kept && request_body_access == ws->req_set_body_access &&
         force_body_variable == ws->req_set_force_body && reqbody_processor == ws->req_set_processor &&
         req_body == ws->req_set_body;
}

bool Transaction::Impl::replayable() const {
  return !replay_taint && !reached && !tx_sim_record && collections.empty() && env.empty() && user_id.empty() &&
         session_id.empty();
}

bool Transaction::Impl::freshForReplay() const {
  for (int p = 1; p <= 5; ++p)
    if (phase_done[p]) return false;
  return replayable() && !txIfMade() && hits.empty() && logged_count == 0 && !intercepted && allow_level == 0 &&
         verdict.action == Verdict::Action::None && would_be.action == Verdict::Action::None && !audit_relevant &&
         highest_severity == 255 && removed_ids.empty() && removed_tags.empty() && removed_msgs.empty() &&
         removed_targets.empty() && !rules_removed && !tx_target_removed && !from_tx_init && !matched_from &&
         !matched_lazy.pending && matched_var.empty() && matched_var_name.empty();
}

// The state a phase leaves that a replay sets again, beside TX, its hits and
// its logged records: f(the transaction's, the record's) for each (or two
// records' the same way: the fields have the same names). Bit i of a
// record's `changed` is the i-th.
template <class Impl, class Phase, class F>
static void eachReplayedState(Impl& t, Phase& r, F&& f) {
  f(t.verdict, r.verdict);
  f(t.would_be, r.would_be);
  f(t.intercepted, r.intercepted);
  f(t.audit_relevant, r.audit_relevant);
  f(t.allow_level, r.allow_level);
  f(t.allow_phase, r.allow_phase);
  f(t.highest_severity, r.highest_severity);
  f(t.mode, r.mode);
  f(t.audit_engine, r.audit_engine);
  f(t.audit_log_parts, r.audit_log_parts);
  f(t.reqbody_processor, r.reqbody_processor);
  f(t.force_body_variable, r.force_body_variable);
  f(t.request_body_access, r.request_body_access);
  f(t.response_body_access, r.response_body_access);
  f(t.removed_ids, r.removed_ids);  // (vectors and strings assigned in their capacity)
  f(t.removed_tags, r.removed_tags);
  f(t.removed_msgs, r.removed_msgs);
  f(t.removed_targets, r.removed_targets);
  f(t.rules_removed, r.rules_removed);
  f(t.tx_target_removed, r.tx_target_removed);
  f(t.from_tx_init, r.from_tx_init);
  f(t.tx_path, r.tx_path);
  f(t.tx_path_ran, r.tx_path_ran);
  f(t.matched_from, r.matched_from);
  f(t.matched_var, r.matched_var);  // (settled: runPhase)
  f(t.matched_var_name, r.matched_var_name);
}

void Transaction::Impl::recordPhase(int phase, const Verdict& v, rules::EngineSettings::RuleEngine mode_before,
                                    uint8_t done_before, size_t hits_before, size_t logged_before, bool fresh) {
  bool ok = replayable();
  if (phase == 1) {
    ok = ok && fresh;
  } else {
    // Every phase that ran before it recorded (phase 2: its body kept with
    // the set; 3 to 5: on the thread whose sets share the record).
    ok = ok && replay_rec && (phase == 2 ? req_body.size() <= ReqMemo::kMaxBody : replay_rec->owner == &threadReqMemo());
    for (int q = 1; ok && q < phase; ++q)
      if (done_before >> q & 1) ok = replay_rec->phase[q - 1].valid;
  }
  if (!ok) {
    if (phase == 1) replay_rec.reset();  // (nor the later ones; a phase recorded stays)
    return;
  }
  if (phase == 1) {
    replay_rec = recordRoom();
    replay_rec->client_ip.assign(client_ip);
    replay_rec->server_ip.assign(server_ip);
    replay_rec->server_port = server_port;
    replay_rec->owner = &threadReqMemo();
  }
  writePhase(*replay_rec, phase, v, mode_before, done_before, hits_before, logged_before);
  replay_rec->phase[phase - 1].valid = true;
}

std::shared_ptr<RequestReplay> Transaction::Impl::recordRoom() {
  RequestSet& e = threadReqMemo().entries[req_entry];
  // (Not one a request may find: a request of another engine, a shadow rule
  // set's, may be its maker through its connection's set.)
  if (e.replay && e.replay.use_count() == 1 && !e.inUse(set_generation)) {
    e.replay->reset();
    return e.replay;
  }
  auto rr = std::make_shared<RequestReplay>();
  rr->reset();  // (which makes its values' store)
  return rr;
}

void Transaction::Impl::noteRecordRoom(RequestSet& e) {
  if (!e.replay) e.replay = std::make_shared<RequestReplay>();
  if (e.replay.use_count() != 1 || e.replay->arena.capacity() != 0) return;  // (its room taken before)
  // This request's end state written thrice (phases 1 and 2, and one of 3 to
  // 5 that changes TX): the room its making takes.
  RequestReplay& rr = *e.replay;
  rr.reset();
  for (int phase = 1; phase <= 3; ++phase) {
    writePhase(rr, phase, verdict, mode, 0, 0, 0);
    rr.phase[phase - 1].tx.reset();  // (its bytes stay taken: the next TX is written beside them, not left out)
  }
  // With room to spare: the phases' own states differ (a chunk's end falls
  // elsewhere; phase 1's last match may be the longer value; an IPv6 address).
  rr.arena.reserve(rr.arena.used() * 3 / 2);
  for (auto& p : rr.phase) {
    p.tx_changed.reserve(64);
    p.matched_var.reserve(256);
    p.matched_var_name.reserve(64);
  }
  rr.client_ip.reserve(64);
  rr.server_ip.reserve(64);
  rr.reset();
}

void Transaction::Impl::writePhase(RequestReplay& rr, int phase, const Verdict& v,
                                   rules::EngineSettings::RuleEngine mode_before, uint8_t done_before,
                                   size_t hits_before, size_t logged_before) {
  RequestReplay::Phase& r = rr.phase[phase - 1];
  r.mode_before = mode_before;
  r.done_before = done_before;
  r.hits_before = hits_before;
  r.logged_before = logged_before;
  r.returned = v;
  r.tx.reset();
  // TX as the phase found it (the last recorded before it: each phase before
  // it that ran was): nothing to set again.
  const Collection* found = nullptr;
  for (int q = phase - 1; q >= 1 && !found; --q)
    if (rr.phase[q - 1].tx) found = &*rr.phase[q - 1].tx;
  r.tx_base = 0;
  r.tx_changed.clear();
  const Collection* tx = txIfMade();
  if (tx && !(found && tx->sameAs(*found))) {  // its keys and values the record's own
    r.tx.emplace(&rr.arena);
    *r.tx = *tx;
    r.tx->ownAllKeys();
    r.tx->rehomeValues([&](const CollValue& c) -> const CollValue& { return rr.values->emplace_back(c); });
    // And what changed, when it is a few of the items TX had (a replay then
    // sets those instead of copying every item and the index).
    const size_t base = found ? found->itemCount() : 0;
    if (base > 0 && r.tx->itemCount() >= base) {
      bool same_keys = true;
      found->forEachItem([&](size_t i, const Collection::Item& it) {
        same_keys = same_keys && r.tx->keyAt(i) == it.first;
      });
      for (size_t i = 0; same_keys && i < r.tx->itemCount(); ++i)
        if (i >= base || !r.tx->sameItem(i, *found)) r.tx_changed.push_back(static_cast<uint32_t>(i));
      if (same_keys && r.tx_changed.size() * 4 <= base) r.tx_base = base;
    }
  }
  r.hits.assign(hits.begin() + std::ptrdiff_t(hits_before), hits.end());
  r.logged_count = logged_count - logged_before;
  if (r.logged.size() < r.logged_count) r.logged.resize(r.logged_count);
  for (size_t i = 0; i < r.logged_count; ++i) r.logged[i] = logged_matches[logged_before + i];
  eachReplayedState(*this, r, [](const auto& mine, auto& rec) { rec = mine; });
  // What it changed of the state the phase before it left (a replay sets
  // only that: the rest is as that phase's replay left it). Phase 1 sets
  // all; `intercepted` always (phase 5 starts with it false).
  r.changed = ~uint32_t(0);
  const RequestReplay::Phase* before = nullptr;
  for (int q = phase - 1; q >= 1 && !before; --q)
    if (done_before >> q & 1) before = &rr.phase[q - 1];
  if (before) {
    r.changed = RequestReplay::kAlwaysSet;
    uint32_t bit = 1;
    eachReplayedState(r, *before, [&](const auto& now, const auto& then) {
      if (!(now == then)) r.changed |= bit;
      bit <<= 1;
    });
  }
}

bool Transaction::Impl::replayPhase(int phase, Verdict& v) {
  const RequestReplay& rr = *replay;
  if (phase > 2 && rr.owner != &threadReqMemo()) return false;  // (written on that thread only)
  const RequestReplay::Phase& r = rr.phase[phase - 1];
  // (A profiled transaction walks: its counts stand for the requests not profiled.)
  if (!r.valid || mode != r.mode_before || profile) return false;
  if (phase == 1) {
    if (!(freshForReplay() && client_ip == rr.client_ip && server_ip == rr.server_ip && server_port == rr.server_port))
      return false;
  } else {
    // The phases before it that ran were replayed, and are the recorded one's.
    const uint8_t done = doneMask();
    if (done != r.done_before || replayed != done || hits.size() != r.hits_before || logged_count != r.logged_before ||
        (phase == 2 && !sameBody()))
      return false;
  }
  if (r.tx) {
    // Viewed while nothing wrote TX (no copy); else what the phase changed set
    // (or the whole copied).
    if (!tx_store) {
      tx_shared = &*r.tx;
    } else if (r.tx_base != 0 && tx_store->itemCount() == r.tx_base) {
      for (const uint32_t i : r.tx_changed) tx_store->setItemAs(i, *r.tx);
    } else {
      *tx_store = *r.tx;
    }
  }
  hits.insert(hits.end(), r.hits.begin(), r.hits.end());
  for (size_t i = 0; i < r.logged_count; ++i) {
    if (logged_count == logged_matches.size()) logged_matches.emplace_back();
    copyRecord(logged_matches[logged_count++], r.logged[i]);
  }
  ws->logged_dirty |= r.logged_count != 0;
  uint32_t bit = 1;
  eachReplayedState(*this, r, [&](auto& mine, const auto& rec) {
    if (r.changed & bit) mine = rec;
    bit <<= 1;
  });
  matched_lazy.pending = false;
  current_phase = phase;
  phase_done[phase] = true;
  replayed |= uint8_t(1u << phase);
  ++memo_stats.request_phases_replayed;
  v = r.returned;
  return true;
}

template <bool kSets, bool kFresh>
inline bool Transaction::Impl::listKnown(uint16_t id, uint64_t bit, bool links, size_t& n) {
  if constexpr (kSets) {
    // A header list HeadMemo knows is not resolved for it.
    if (const HeadMasks* m = headMasks(id >> 1)) {
      n += m->values;
      return (links ? m->links : m->clean) & bit;
    }
  }
  auto& l = varList(id >> 1, id & 1);
  n += l.values.size();
  if constexpr (kFresh) {
    uint64_t clean = 0, link_mask = 0;
    return valuesMasks(l.values, &clean, &link_mask) && ((links ? link_mask : clean) & bit);
  } else {
    if (!l.masks_set) setListMasks(l, id >> 1);
    return (links ? l.links : l.clean) & bit;
  }
}

void Transaction::Impl::answerAsked(int phase) {
  // Asked now, at the phase's end, rather than taken as they were answered:
  // a link tests the values it does not read once, for the memo
  // (learnLink), and a value first seen here is learnt when its scan or link
  // found nothing; these are the answers the next request would get. Each
  // list's masks taken anew (varsKnown's are an epoch's first).
  RequestAnswers& a = ws->req_answers;
  for (int kind = 0; kind < 2; ++kind) {
    uint64_t asked = req_asked[kind] & eng->request_pure[phase - 1][kind];
    a.asked[kind] |= asked;
    for (; asked; asked &= asked - 1) {
      const int bit = std::countr_zero(asked);
      const auto& q = eng->question_lists[kind][bit];
      const uint64_t b = uint64_t(1) << bit;
      size_t n = 0;
      bool known = true;
      for (uint16_t k = 0; known && k < q.count; ++k)
        known = listKnown<true, true>(eng->known_lists[q.at + k], b, kind != 0, n);
      if (known) {
        a.known[kind] |= b;
        a.values[size_t(kind) * 64 + size_t(bit)] = static_cast<uint32_t>(n);
      } else {
        a.known[kind] &= ~b;
      }
    }
  }
}

void Transaction::Impl::keepRequestSet() {
  const size_t bytes = method.size() + uri_raw.size() + protocol.size() + 3 + headersKeyBytes();
  if (bytes > ReqMemo::kMaxKey) return;  // (as a header set's)
  if (conn_memo) keepReqIn(conn_memo->request, bytes, false);
  keepReqIn(threadReqMemo().entries[req_entry], bytes, true);
}

void Transaction::Impl::keepReqIn(RequestSet& e, size_t bytes, bool thread_entry) {
  if (!req_maker || !e.notedFor(eng->memo_id, req_tag, set_generation)) {
    // A first sight (or another request's entry): noted, as a header set's (keepIn).
    e.note(eng->memo_id, req_tag, set_generation, bytes);
    if (!thread_entry) e.replay.reset();  // (a connection's shares the thread's)
    else if (eng->request_replay) noteRecordRoom(e);
    if (req_body.size() <= ReqMemo::kMaxBody) {
      e.body.reserve(req_body.size());
      ws->req_set_body.reserve(req_body.size());  // (findReqIn's copy)
    }
    return;
  }
  e.make(eng->memo_id);
  for (std::string_view v : {method, uri_raw, protocol}) e.key.append(v).push_back('\0');
  appendHeadersKey(e.key);
  e.body_kept = req_body.size() <= ReqMemo::kMaxBody;
  if (e.body_kept) {
    e.body.assign(req_body);
    e.processor.assign(ws->req_set_processor);
    e.body_access = ws->req_set_body_access;
    e.force_body = ws->req_set_force_body;
  }
  e.answers = ws->req_answers;
  e.replay = replay_rec;  // (null when its phase 1 could not be recorded)
}

bool Transaction::Impl::listsKnown(uint32_t at, uint16_t count, uint64_t bit, bool links, size_t* values) {
  req_asked[links] |= bit;
  size_t n = 0;
  const uint16_t* ids = eng->known_lists.data() + at;
  // (One loop for each case, so that a request without a header set tests
  // nothing more per list than before them.)
  auto walk = [&](auto with_sets) {
    for (uint16_t k = 0; k < count; ++k)
      if (!listKnown<decltype(with_sets)::value, false>(ids[k], bit, links, n)) return false;
    return true;
  };
  if (!(head_hit ? walk(std::true_type{}) : walk(std::false_type{}))) return false;
  *values = n;
  return true;
}

bool Transaction::Impl::linkValuesKnown(const CompiledRule& link, const std::vector<const actions::Ctl*>& removals,
                                        uint64_t bit, size_t* values) {
  size_t n = 0;
  const uint16_t* ids = eng->known_lists.data() + link.known_at;
  for (uint16_t k = 0; k < link.known_count; ++k) {
    auto& l = varList(ids[k] >> 1, ids[k] & 1);
    if (!l.masks_set) setListMasks(l, ids[k] >> 1);
    if (l.links & bit) {
      n += l.values.size();
      continue;
    }
    if (!l.memo_full) return false;  // (a value the table had no room for is not known)
    for (const auto& t : l.values) {
      MemoValue* mv = t.stable ? memoValue(t) : nullptr;
      if (excludedFrom(link, t) || (!removals.empty() && targetRemoved(removals, t.coll, t.key))) {
        // Not read here, so never tested, so never learnt: the list would
        // send every request this way. Tested now, once, for the memo only
        // (whether the link matches a value is a fact of its bytes,
        // whatever variable holds them): when it does not match, the list
        // is known for this link from the next request on.
        if (mv && !(mv->links & bit)) learnLink(link, t, mv, bit);
        continue;
      }
      if (!mv || !(mv->links & bit)) return false;
      ++n;
    }
  }
  *values = n;
  return true;
}

void Transaction::Impl::learnLink(const CompiledRule& link, const VarValue& t, MemoValue* mv, uint64_t bit) {
  operators::EvalContext& ctx = eval_ctx;
  ctx.macros = this;
  ctx.capture = false;
  auto& candidates = candidates_buf;
  transformedValues(t, link, link.multi_match, candidates);
  for (std::string_view value : candidates) {
    ctx.ncaps = 0;
    if (link.regex_set >= 0 && setRulesOut(link, value)) continue;
    if (evaluateOperator(link, ctx, value)) return;
  }
  mv->links |= bit;
}

// Returns true when the link matched at least once.
int Transaction::Impl::evaluateOutcomeLink(const CompiledRule& link, const CompiledRule& head, bool is_last) {
  const uint64_t bit = uint64_t(1) << link.outcome_bit;
  // (A ctl's removal of a target may differ between requests with the same
  // bytes; profiling and probing count every evaluation.)
  const bool plain = removed_targets.empty() && !profile && !reached;
  if (plain && (req_ok[2] & bit)) return 0;
  const int matched = evaluateLinkNow(link, head, is_last);
  if (plain && req_maker && (current_phase == 1 || current_phase == 2)) {
    RequestAnswers& a = ws->req_answers;
    a.asked[2] |= bit;
    if (matched == 0) a.known[2] |= bit;
    else a.known[2] &= ~bit;
  }
  return matched;
}

int Transaction::Impl::evaluateLinkNow(const CompiledRule& link, const CompiledRule& head, bool is_last) {
  if (!scratch.empty()) scratch.clear();  // (a deque's clear() costs ~50 instructions even when empty)
  pins.clear();
  // Only a link whose actions or captures can change a collection value while
  // its targets view it pins the values (CompiledRule::pin_values).
  pin_values = link.pin_values;
  if (link.scan_group >= 0 && !scanSays(size_t(link.scan_group),
                                         eng->scan_hot[size_t(link.scan_group)].hits_offset + size_t(link.scan_id)))
    return 0;
  // A link the memo knows every value of not to match (asked of each
  // variable's list once a phase) matches nothing: its values are not gathered.
  const uint64_t memo_bit = memo_on && link.memo_bit >= 0 ? uint64_t(1) << link.memo_bit : 0;
  memo_stats.links += memo_bit != 0;
  // The ctl removals that apply to this rule (only the head's targets), once.
  auto& removals = removals_buf;
  bool removals_set = false;
  auto setRemovals = [&] {
    removals.clear();
    if (&link == &head && !removed_targets.empty()) applicableRemovals(head, removals);
    removals_set = true;
  };
  if (memo_bit && link.vars_listed) {
    size_t listed = 0;
    // (runPhase asked already of a head with its own RunMemo: not known.)
    bool known = !(head_asked && &link == &head) && varsKnown(link.known_at, link.known_count, memo_bit, true, &listed);
    if (!known && (link.excludes || (&link == &head && !removed_targets.empty()))) {
      setRemovals();
      known = (link.excludes || !removals.empty()) && linkValuesKnown(link, removals, memo_bit, &listed);
    }
    if (known) {
      noteLinkKnown(listed);
      return 0;
    }
  }
  const std::vector<VarValue>& targets = targetsOf(link.vars, targets_buf);
  if (!removals_set) setRemovals();

  int matched = 0;
  operators::EvalContext& ctx = eval_ctx;  // kept: its ten capture views are not zeroed per link
  ctx.macros = this;
  ctx.capture = link.capture;
  auto& candidates = candidates_buf;
  // A link its group's scan decides runs when the scan found its pattern in
  // one of the group's values: a value the memo knows the group's patterns
  // to match nothing in (through every pipeline of the group, its own among
  // them) is not that one, and is neither transformed nor tested (an attack's
  // headers, sent before, beside the argument that holds it).
  // (Not for a lone value: the one the scan found, as a rule, where asking
  // costs more than it saves: a warm GET's method and protocol.)
  const uint64_t clean_bit =
      memo_on && link.scan_group >= 0 && targets.size() > 1 && eng->scan_hot[size_t(link.scan_group)].memo
          ? uint64_t(1) << link.scan_group
          : 0;
  // A RegexSet's values: when the set has no answer for the first value the
  // loop tests, that one and those after it that the loop does not pass over
  // are asked at once (most match none of the set's members) rather than each
  // alone. (When it has one, another link of the set asked them already.)
  bool set_joined = link.regex_set < 0 || targets.size() < 2;
  // A value this link is known not to match (match::ValueMemo) is passed
  // over; one it does not match now is remembered.
  for (const auto& t : targets) {
    if (!removals.empty() && targetRemoved(removals, t.coll, t.key)) continue;
    if (clean_bit && t.stable) {
      const MemoValue* known = memoValue(t);
      if (known && (known->clean & clean_bit)) continue;
    }
    MemoValue* mv = nullptr;
    if (memo_bit && t.stable) {
      mv = memoValue(t);
      ++memo_stats.link_values;
      if (mv && (mv->links & memo_bit)) {
        ++memo_stats.link_values_known;
        continue;
      }
    }
    const int matched_before = matched;
    transformedValues(t, link, link.multi_match, candidates);
    for (std::string_view value : candidates) {
      ctx.ncaps = 0;
      if (link.regex_set >= 0) {
        if (!set_joined) {
          set_joined = true;
          askSetJoined(link, std::span<const VarValue>(&t, targets.data() + targets.size()), removals, memo_bit);
        }
        if (setRulesOut(link, value)) continue;
      }
      if (!evaluateOperator(link, ctx, value)) continue;
      ++matched;
      noteMatch(link, head, t, value, ctx);
      if (!link.chained && head.severity >= 0 && head.severity < highest_severity) highest_severity = head.severity;
      for (const auto& s : link.steps) runStep(s, link);
      if (is_last) {
        // The head's disruptive action and the log record, once per matching value as v2.
        // The audit record lists the rule once (its first matching value).
        if (matched == 1) takeDisruptive(head);
        if (intercepted) return matched;
      }
    }
    if (mv && matched == matched_before) mv->links |= memo_bit;
  }
  return matched;
}

// What a link's match on value (of t) leaves: its captures in TX:0-9, MATCHED_VAR(_NAME) and MATCHED_VARS.
void Transaction::Impl::noteMatch(const CompiledRule& link, const CompiledRule& head, const VarValue& t,
                                  std::string_view value, const operators::EvalContext& ctx) {
  if (link.capture && ctx.ncaps > 0) {
    // The captures view the value, which stays put while TX:0-9 are set: a
    // link with captures pins the collection values it reads (putValue
    // then replaces them instead of writing over them), and transformed
    // values live as long as the transaction.
    for (int i = 0; i < ctx.ncaps; ++i) setTx(Collection::digitKey(i), ctx.caps[i]);
    // The captures this match did not set are removed.
    txColl().eraseDigitsFrom(ctx.ncaps);
  }
  matched_from = nullptr;
  if (t.stable && !head.keeps_matched_vars) {
    matched_lazy = {true, t.coll, t.key, value};
  } else {
    matched_lazy.pending = false;
    matched_var.assign(value);
    matched_var_name.assign(t.coll);
    if (!t.key.empty()) matched_var_name.append(":").append(t.key);
    if (head.keeps_matched_vars) matched_vars.add(matched_var_name, matched_var);
  }
}

// Whether value t of a keyed-set head (CompiledRule::KeyedSet) gives the
// chain no value it matches: the head does not match it, or the text its
// setvar would store is not matched by the chain's operator and the key it
// would store under is read by no other rule. A function of t's bytes.
bool Transaction::Impl::keyedValueQuiet(const CompiledRule& rule, const VarValue& t) {
  const CompiledRule::KeyedSet& ks = *rule.keyed;
  operators::EvalContext& ctx = eval_ctx;
  ctx.macros = this;
  ctx.capture = true;
  ctx.ncaps = 0;
  transformedValues(t, rule, false, candidates_buf);
  if (!evaluateOperator(rule, ctx, candidates_buf.back())) return true;
  if (ctx.ncaps <= 0) return false;
  // The setvar's texts as runSetVar expands them: TX:d is the capture d of
  // this match, or unset (empty) when the match had fewer.
  auto expandCaptures = [&](std::string& out, const actions::MacroText& m) {
    out.clear();
    for (const auto& part : m.parts) {
      if (!part.tx) out.append(part.text);
      else if (const int d = part.text[0] - '0'; d < ctx.ncaps) out.append(ctx.caps[d]);
    }
  };
  const actions::SetVar& sv = *ks.setvar;
  expandCaptures(setvar_key, sv.key_text);
  for (auto& c : setvar_key) c = asciiLower(c);
  for (const auto& re : ks.reader_res)
    if (re->matches(setvar_key)) return false;
  for (const auto& k : ks.reader_keys)
    if (k == setvar_key) return false;
  if (sv.value_macro) expandCaptures(setvar_value, sv.value_text);
  else setvar_value.assign(sv.value);
  ctx.capture = false;
  ctx.ncaps = 0;
  return !evaluateOperator(*rule.chain[0], ctx, setvar_value);
}

// A keyed-set head (CompiledRule::KeyedSet): true when none of its values
// gives the chain a value it matches (each value's keyed_bit in the memo,
// learnt here the first time it is seen). The rule then fails at its chain;
// what it leaves is what its head's last match leaves (TX:0-9,
// MATCHED_VAR), and the TX keys the head would set are not set: nothing
// reads them. False: the rule is to be evaluated (a value the chain matches,
// or one the memo has no room for); nothing was changed but the memo.
bool Transaction::Impl::keyedSetFails(const CompiledRule& rule) {
  const uint64_t bit = uint64_t(1) << rule.keyed_bit;
  ++memo_stats.links;
  pins.clear();
  pin_values = rule.pin_values;
  auto& removals = removals_buf;
  removals.clear();
  if (!removed_targets.empty()) applicableRemovals(rule, removals);
  size_t listed = 0;
  const bool known = rule.vars_listed && varsKnown(rule.known_at, rule.known_count, bit, true, &listed);
  const std::vector<VarValue>& targets = targetsOf(rule.vars, targets_buf);
  if (known) {
    noteLinkKnown(listed);
  } else {
    for (const auto& t : targets) {
      if (!removals.empty() && targetRemoved(removals, t.coll, t.key)) continue;
      MemoValue* mv = t.stable ? memoValue(t) : nullptr;
      if (!mv) return false;
      ++memo_stats.link_values;
      if (mv->links & bit) {
        ++memo_stats.link_values_known;
        continue;
      }
      if (!keyedValueQuiet(rule, t)) return false;
      mv->links |= bit;
    }
  }
  operators::EvalContext& ctx = eval_ctx;
  ctx.macros = this;
  ctx.capture = true;
  auto& candidates = candidates_buf;
  for (size_t i = targets.size(); i-- > 0;) {
    const VarValue& t = targets[i];
    if (!removals.empty() && targetRemoved(removals, t.coll, t.key)) continue;
    transformedValues(t, rule, false, candidates);
    ctx.ncaps = 0;
    if (!evaluateOperator(rule, ctx, candidates.back())) continue;
    noteMatch(rule, rule, t, candidates.back(), ctx);
    break;
  }
  return true;
}

// All links of a rule, in order, while they match. True when every one did.
bool Transaction::Impl::evaluateRule(const CompiledRule& rule) {
  if (rule.keyed_bit >= 0 && memo_on && keyedSetFails(rule)) return false;
  const size_t links = 1 + rule.chain.size();
  for (size_t i = 0; i < links; ++i) {
    const CompiledRule& link = i == 0 ? rule : *rule.chain[i - 1];
    if (evaluateLink(link, rule, i + 1 == links) == 0) return false;
    if (intercepted) break;
  }
  return true;
}

Verdict Transaction::Impl::runPhaseRules(int phase) {
  current_phase = phase;
  Verdict none;
  if (phase_done[phase]) return none;
  phase_done[phase] = true;
  if (!active() || intercepted) {
    tx_path = false;
    return none;
  }
  if (phase != 5 && (allow_level == 3 || (allow_level == 2 && phase <= 2))) {
    tx_path = false;
    none.action = Verdict::Action::Allow;
    return none;
  }
  matched_vars.clear();
  resetScans();
  // The phase-1 rules folded at compile time: their TX, unless something set TX
  // or removed rules before they would have run.
  if (phase == 1 && !eng->tx_init.empty() && (!txIfMade() || txIfMade()->empty()) && removed_ids.empty() &&
      removed_tags.empty() && removed_msgs.empty() && removed_targets.empty()) {
    txColl() = eng->tx_init;
    from_tx_init = true;
    tx_path = !eng->tx_sims.empty();
  }
  // Phases 1 and 2 run whole before the others on the path; which of the
  // optional 3 and 4 did picks the simulation the replayed rules come from.
  if (tx_path && ((phase > 1 && !(tx_path_ran & 2)) || (phase > 2 && !(tx_path_ran & 4)))) tx_path = false;
  const size_t tx_variant = (phase > 3 && (tx_path_ran & 8) ? 1 : 0) | (phase > 4 && (tx_path_ran & 16) ? 2 : 0);
  // The plan (Engine::Impl::plans) says what each entry is; a rule's own data
  // is read only when it runs, matched (its flow) or is looked at by ctl.
  using Step = Engine::Impl::RunStep;
  const Engine::Impl::RunPlan* plan = &eng->run_plans[phase];
  // The short plan (Engine::Impl::short_plans) while the entries it leaves out
  // would do nothing: left for the whole plan once a ctl removes a rule or a
  // target (or never taken while profiling or probing, which count every rule).
  // Profiling or probing counts every rule reached: no entry is passed over
  // by its scan or its memo question (fixed for the walk: a local, not two
  // members loaded again at every entry).
  const bool counting = profile || reached;
  const bool memo_steps = memo_on && !counting;
  bool short_plan = from_tx_init && !tx_target_removed && !rules_removed && !counting &&
                    !eng->short_plans[phase].empty();
  if (short_plan) plan = &eng->short_plans[phase];
  // The plan's entries and their count, read once (again when the walk moves
  // to the whole plan), not through `plan` at every entry.
  const Step* steps = plan->steps.data();
  size_t entries = plan->size();
  int skip = 0;
  for (size_t i = 0; i < entries; ++i) {
    const Step& step = steps[i];
    if (step.flags & Step::kMarker) continue;
    if (skip > 0) {
      --skip;
      matched_vars.clear();
      continue;
    }
    if (!active()) {
      tx_path = false;
      break;
    }
    // A rule its phase's scan rules out (~40% of the entries a request
    // passes): nothing of it runs, removed or not. (Not while profiling or
    // probing: those count every rule reached.)
    if (step.scan_group >= 0 && !counting) {
      const ScanAnswer a = scanAnswer(size_t(step.scan_group), size_t(step.scan_hit));
      if (a == kGroupFoundNothing) i += step.run - 1;  // its whole run passes
      if (a != kMayMatch) continue;
    }
    const CompiledRule* rule = step.rule;
    if (rules_removed && ruleRemoved(*rule)) {
      if ((step.flags & Step::kTxSim) || step.constant >= 0) tx_path = false;  // the simulation ran it
      matched_vars.clear();
      continue;
    }
    if ((step.flags & Step::kPrecomputed) && from_tx_init) {
      if (step.flags & Step::kPrecomputedMatch) matched_from = rule;
      continue;
    }
    // As evaluateLink asks first of the head: every value it reads known
    // not to match, the rule fails (Engine::Impl::RunMemo).
    if ((step.flags & Step::kMemo) && memo_steps) {
      const auto& m = plan->memo[i];
      size_t listed = 0;
      if (varsKnown(m.known_at, m.known_count, uint64_t(1) << m.bit, true, &listed)) {
        ++memo_stats.links;
        noteLinkKnown(listed);
        continue;
      }
      head_asked = true;
    }
    current_head = rule;
    if (reached && rule->profile_index >= 0) (*reached)[size_t(rule->profile_index)] = 1;
    bool all = true;
    std::chrono::steady_clock::time_point t0;
    if (profile_timed) {
      scan_ns = 0;
      t0 = std::chrono::steady_clock::now();
    }
    // A constant rule reads only TX: a removed target of another collection
    // leaves its outcome as it was on tx_init.
    const int32_t sim_index =
        tx_path && (step.flags & Step::kTxSim)
            ? eng->tx_sim_slots[size_t(plan->cold[i].tx_sim)].by_variant[tx_variant]
            : -1;
    if (step.constant >= 0 && from_tx_init && !tx_target_removed) {
      all = step.constant == 1;
      if (all) {  // what evaluating it would leave: MATCHED_VAR(_NAME) and a nolog match
        matched_from = rule;
        takeMatch(*rule, plan->cold[i]);
      }
    } else if (sim_index >= 0) {
      // As evaluating it would leave TX, MATCHED_VAR(_NAME) and its (nolog) match.
      const auto& sim = eng->tx_sims[size_t(sim_index)];
      for (const auto& op : sim.ops) applyTxOp(op);
      if (sim.any_link) matched_from = rule;
      all = sim.matched;
      if (all) takeMatch(*rule, plan->cold[i]);
    } else if (step.scan_group >= 0 && counting &&
               !scanSays(size_t(step.scan_group), size_t(step.scan_hit))) {
      // (Otherwise asked at the loop's top.) As evaluateRule: its first link's
      // pattern is in none of the values.
      all = false;
    } else {
      all = evaluateRule(*rule);
    }
    head_asked = false;
    if (profile && rule->profile_index >= 0) {
      auto bump = bumpCounter;
      auto& c = profile->at(size_t(rule->profile_index));
      bump(c.evaluations, profile_weight);
      if (all) bump(c.matches, profile_weight);
      if (profile_timed) {
        bump(c.sampled_evaluations, 1);
        bump(c.time_ns, uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count()) -
                            scan_ns);
      }
    }
    matched_vars.clear();
    if (intercepted) {
      tx_path = false;
      return verdict;
    }
    if (short_plan && (rules_removed || tx_target_removed)) {
      // On in the whole plan, from this rule's entry there (its skip_to is an index there).
      short_plan = false;
      i = size_t(plan->cold[i].full_index);
      plan = &eng->run_plans[phase];
      steps = plan->steps.data();
      entries = plan->size();
    }
    if (!all) continue;
    const bool skips_to = steps[i].flags & Step::kSkipTo;
    // A rule the simulation took as not matching changes the flow: off the path.
    if (tx_path && sim_index < 0 && step.constant < 0 && (skips_to || rule->skip > 0)) tx_path = false;
    if (allow_level > 0 && allow_phase == phase) {
      tx_path = false;
      Verdict v;
      v.action = Verdict::Action::Allow;
      v.rule_id = rule->id;
      v.phase = phase;
      if (allow_level == 1) allow_level = 0;  // phase scope: only the rest of this phase
      return v;
    }
    if (skips_to) i = size_t(plan->cold[i].skip_to);  // on to the marker (or the phase's end)
    else if (rule->skip > 0) skip = rule->skip;
  }
  current_head = nullptr;
  if (tx_path) tx_path_ran |= uint8_t(1u << phase);
  return none;
}

// ---------------------------------------------------------------- public API

Transaction::Transaction(std::shared_ptr<const Engine> engine, std::string_view unique_id)
    : Transaction(*engine, unique_id) {
  impl_->engine = std::move(engine);  // kept alive by this transaction
}

Transaction::Transaction(const Engine& engine, std::string_view unique_id) : impl_(std::make_unique<Impl>(engine)) {
  impl_->unique_id.assign(unique_id);
}

Transaction::~Transaction() = default;

void Transaction::processConnection(std::string_view client_ip, uint16_t client_port, std::string_view server_ip,
                                    uint16_t server_port) {
  impl_->client_ip = client_ip;
  impl_->client_port = client_port;
  impl_->server_ip = server_ip;
  impl_->server_port = server_port;
}

void Transaction::processUri(std::string_view method, std::string_view uri, std::string_view protocol) {
  auto& t = *impl_;
  t.method = method;
  t.uri_raw = uri;
  t.protocol = protocol;
  t.request_line.assign(method).append(" ").append(uri);
  if (!protocol.empty()) t.request_line.append(" ").append(protocol);
  // Apache's parsed_uri: drop "scheme://authority" of an absolute target, then
  // path / query / fragment, all still percent-encoded.
  std::string_view rest = uri;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos && rest.find('/') > scheme) {
    auto slash = rest.find('/', scheme + 3);
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  if (q == std::string_view::npos) t.query_string.clear();
  else t.query_string.assign(rest.substr(q + 1));
  t.request_filename.assign(path);
  t.request_uri.assign(path);
  if (q != std::string_view::npos) t.request_uri.append("?").append(t.query_string);
  std::string_view base = path;
  if (auto s = base.rfind('/'); s != std::string_view::npos) base = base.substr(s + 1);
  if (auto s = base.rfind('\\'); s != std::string_view::npos) base = base.substr(s + 1);
  t.request_basename.assign(base);
}

void Transaction::addRequestHeader(std::string_view name, std::string_view value) {
  impl_->raw_req_headers.push_back({name, value});
}

Verdict Transaction::processRequestHeaders() {
  impl_->prepareRequest();
  return impl_->runPhase(1);
}

bool Transaction::appendRequestBody(std::string_view chunk) {
  auto& t = *impl_;
  const auto& s = t.eng->ruleset.settings;
  // Not inspected, so not buffered; nor once the body was processed (its
  // arguments and REQUEST_BODY view the bytes buffered then).
  if (t.req_body_truncated || !t.request_body_access || !t.active() || t.body_processed) return true;
  uint64_t limit = s.request_body_limit;
  if (t.reqbody_processor != "MULTIPART") limit = std::min(limit, s.request_body_no_files_limit);
  if (t.req_body.size() + chunk.size() > limit) {
    if (s.request_body_limit_reject) {
      t.inbound_data_error = true;
      return false;
    }
    t.inbound_data_error = true;
    t.req_body.append(chunk.substr(0, limit > t.req_body.size() ? limit - t.req_body.size() : 0));
    t.req_body_truncated = true;
    return true;
  }
  t.req_body.append(chunk);
  return true;
}

Verdict Transaction::processRequestBody() {
  if (!impl_->phase_done[1]) processRequestHeaders();
  if (impl_->intercepted) return impl_->verdict;
  impl_->processBody();
  impl_->path_pending = true;  // (decoded when a rule of phase 2 or later first reads a variable: collect)
  const Verdict v = impl_->runPhase(2);
  // The request's questions are asked: what its header lists took, kept
  // (here, while the caller's HeaderMemo is surely alive).
  if (impl_->head_keyed && !impl_->head_hit) impl_->keepHeadMemo();
  if (impl_->req_keyed && !impl_->req_hit) impl_->keepRequestSet();
  return v;
}

void Transaction::setResponseStatus(int status, std::string_view protocol) {
  impl_->response_status = status;
  impl_->response_protocol = protocol;
}

void Transaction::addResponseHeader(std::string_view name, std::string_view value) {
  impl_->resp_headers.push_back({name, value});
}

Verdict Transaction::processResponseHeaders() {
  if (impl_->intercepted) return impl_->verdict;
  return impl_->runPhase(3);
}

bool Transaction::appendResponseBody(std::string_view chunk) {
  auto& t = *impl_;
  const auto& s = t.eng->ruleset.settings;
  if (!t.response_body_access) return true;
  if (t.resp_body.size() + chunk.size() > s.response_body_limit) {
    t.outbound_data_error = true;
    if (s.response_body_limit_reject && t.active()) return false;
    t.resp_body.append(chunk.substr(0, s.response_body_limit > t.resp_body.size() ? s.response_body_limit - t.resp_body.size() : 0));
    return true;
  }
  t.resp_body.append(chunk);
  return true;
}

bool Transaction::wantsResponseBody() const {
  auto& t = *impl_;
  if (t.intercepted || !t.response_body_access || !t.active()) return false;
  // Only for the configured MIME types (SecResponseBodyMimeType).
  std::string_view ct;
  for (auto& h : t.resp_headers)
    if (iequals(h.name, "content-type")) {
      ct = h.value;
      break;
    }
  ct = trim(ct.substr(0, ct.find(';')));
  for (auto& m : t.eng->ruleset.settings.response_body_mime_types)
    if (iequals(m, ct)) return true;
  return false;
}

bool Transaction::wantsRequestBody() const { return impl_->request_body_access && impl_->active(); }

Verdict Transaction::processResponseBody() {
  auto& t = *impl_;
  if (t.intercepted) return t.verdict;
  if (!wantsResponseBody()) return {};
  return t.runPhase(4);
}

const Verdict& Transaction::wouldBeVerdict() const { return impl_->would_be; }

void Transaction::setRuleEngine(rules::EngineSettings::RuleEngine mode) { impl_->mode = mode; }

void Transaction::HeaderMemoDelete::operator()(HeaderMemo* m) const { delete m; }

Transaction::HeaderMemoPtr Transaction::newHeaderMemo() { return HeaderMemoPtr(new HeaderMemo); }

void Transaction::useHeaderMemo(HeaderMemo* m) { impl_->conn_memo = m; }

void Transaction::setProfile(RuleProfile* profile, bool timed, uint32_t weight) {
  impl_->profile = profile;
  impl_->profile_timed = profile && timed;
  impl_->profile_weight = weight ? weight : 1;
}

void Transaction::processLogging() {
  auto& t = *impl_;
  if (!t.phase_done[1]) t.prepareRequest();
  t.intercepted = false;  // logging rules always run
  t.runPhase(5);
}

const std::vector<MatchedRule>& Transaction::matches() const {
  auto& t = *impl_;
  if (t.all_matches_hits != t.hits.size()) {
    t.all_matches.clear();
    for (const auto& h : t.hits) {
      if (h.logged >= 0) {
        t.all_matches.push_back(t.logged_matches[size_t(h.logged)]);
        continue;
      }
      MatchedRule& m = t.all_matches.emplace_back();
      m.id = h.id;
      m.phase = h.phase;
      m.severity = h.severity;
      m.disruptive = h.disruptive;
      m.logged = false;
    }
    t.all_matches_hits = t.hits.size();
  }
  return t.all_matches;
}

std::span<const MatchedRule> Transaction::loggedMatches() const {
  return {impl_->logged_matches.data(), impl_->logged_count};
}
const Verdict& Transaction::verdict() const { return impl_->verdict; }

std::string Transaction::txValue(std::string_view name) const {
  const Collection* tx = impl_->txIfMade();
  if (!tx) return {};
  const Collection::Item* e = tx->find(toLower(name));
  return !e || !e->second.p ? std::string() : std::string(e->second.p->value);
}

void Transaction::forEachArgument(
    const std::function<void(std::string_view, std::string_view, std::string_view)>& fn) const {
  if (impl_->request_prepared) impl_->prepareForCollect();  // (what a replay left unmade)
  for (auto& kv : impl_->args_get) fn("ARGS_GET", kv.name, kv.value);
  for (auto& kv : impl_->args_post) fn("ARGS_POST", kv.name, kv.value);
  for (auto& kv : impl_->cookies) fn("REQUEST_COOKIES", kv.name, kv.value);
}

bool Transaction::isAuditRelevant() const {
  const auto& a = impl_->audit_engine;
  if (iequals(a, "On")) return true;
  if (iequals(a, "RelevantOnly")) {
    if (impl_->audit_relevant) return true;
    const auto& re = impl_->eng->relevant_status;
    if (re && impl_->response_status && re->matches(std::to_string(impl_->response_status))) return true;
  }
  return false;
}

}  // namespace rampart::waf
