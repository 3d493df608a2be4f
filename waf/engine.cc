// Engine::compile: turns the resolved rule IR into CompiledRules (operators,
// regexes, @pm automata and data files built once per rule-set generation).
// Every rule that fails to compile is reported with its file:line.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "waf/engine_impl.h"
#include "waf/match/needed_bytes.h"
#include "waf/transaction_impl.h"

namespace rampart::waf {

namespace {

// What building a rule's operator needs: its file's folder (@pmFromFile and
// the like) and the rule set's PCRE2 limits.
operators::CompileContext operatorContext(const Engine::Impl& impl, const rules::Rule& r) {
  operators::CompileContext cc;
  if (!r.loc.file.empty() && r.loc.file[0] != '<')
    cc.rule_dir = std::filesystem::path(r.loc.file).parent_path().string();
  cc.pcre_match_limit = std::max<uint64_t>(impl.ruleset.settings.pcre_match_limit, 1000);
  cc.pcre_depth_limit = std::max<uint64_t>(impl.ruleset.settings.pcre_match_limit_recursion, 1000);
  return cc;
}

struct Compiler {
  Engine::Impl& impl;
  std::vector<rules::Diagnostic>& errors;

  void error(const rules::Rule& r, std::string msg) {
    rules::Diagnostic d;
    d.loc = r.loc;
    d.message = r.id ? "rule " + std::to_string(r.id) + ": " + msg : std::move(msg);
    errors.push_back(std::move(d));
  }

  static int severityOf(const std::string& v) {
    static const char* names[] = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
    for (int i = 0; i < 8; ++i)
      if (iequals(v, names[i])) return i;
    if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      int n = std::stoi(v);
      if (n >= 0 && n <= 7) return n;
    }
    return -1;
  }

  bool compileVar(const rules::Rule& r, const rules::Variable& v, CompiledVar* out) {
    std::string upper = v.name;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out->kind = variables::lookup(upper);
    if (out->kind == variables::Kind::Unknown) {
      error(r, "unknown variable " + v.name);
      return false;
    }
    out->name = upper;
    out->selector = v.selector;
    out->selector_lower = toLower(v.selector);
    out->count = v.count;
    out->exclude = v.exclude;
    if (v.selector_is_regex && out->kind != variables::Kind::Xml) {
      match::RegexOptions o;
      o.caseless = true;
      std::string err;
      auto re = match::Regex::compile(v.selector, o, &err);
      if (!re) {
        error(r, "invalid selector regex /" + v.selector + "/: " + err);
        return false;
      }
      out->selector_re = std::move(re);
    }
    return true;
  }

  // Applies one action to `out`. `from_default`: it comes from SecDefaultAction.
  bool applyAction(const rules::Rule& r, const rules::Action& a, bool from_default, bool is_head, CompiledRule& out,
                   Disruptive& default_disruptive, int& default_status) {
    const std::string& n = a.name;
    const std::string& v = a.value;
    auto disruptive = [&](Disruptive d) {
      if (from_default) default_disruptive = d;
      out.disruptive = d;
    };
    if (n == "id" || n == "phase" || n == "chain") return true;  // from the IR's fields
    if (n == "t") {
      if (iequals(v, "none")) {
        out.tfns.clear();
        return true;
      }
      const transformations::Info* info = transformations::find(v);
      if (!info) {
        error(r, "unknown transformation t:" + v);
        return false;
      }
      out.tfns.push_back(info);
      return true;
    }
    if (n == "msg") out.msg = v;
    else if (n == "logdata") out.logdata = v;
    else if (n == "severity") out.severity = severityOf(v);
    else if (n == "tag") {
      out.tags.push_back(v);
      out.macro_tags |= operators::hasMacro(v);
    }
    else if (n == "ver") out.ver = v;
    else if (n == "rev") out.rev = v;
    else if (n == "maturity") out.maturity = v;
    else if (n == "accuracy") out.accuracy = v;
    else if (n == "skip") out.skip = std::max(0, atoi(v.c_str()));
    else if (n == "skipafter") out.skip_after = v;
    else if (n == "pass") disruptive(Disruptive::Pass);
    else if (n == "block") out.disruptive = Disruptive::Block;
    else if (n == "deny") disruptive(Disruptive::Deny);
    else if (n == "drop") disruptive(Disruptive::Drop);
    else if (n == "redirect") {
      disruptive(Disruptive::Redirect);
      out.redirect_url = v;
    } else if (n == "proxy") {
      error(r, "action proxy is not supported");
      return false;
    } else if (n == "allow") {
      disruptive(Disruptive::Allow);
      out.allow_scope = iequals(v, "phase") ? AllowScope::Phase
                        : iequals(v, "request") ? AllowScope::Request
                                                : AllowScope::All;
    } else if (n == "status") {
      out.status = atoi(v.c_str());
      if (from_default) default_status = out.status;
    } else if (n == "log") out.log = true;
    else if (n == "nolog") {
      out.log = false;
      out.auditlog = false;
    } else if (n == "auditlog") out.auditlog = true;
    else if (n == "noauditlog") out.auditlog = false;
    else if (n == "capture") out.capture = true;
    else if (n == "multimatch") out.multi_match = true;
    else if (n == "setvar") {
      actions::Step s;
      s.kind = actions::Step::Kind::SetVar;
      std::string err;
      if (!actions::parseSetVar(v, &s.setvar, &err)) {
        error(r, err);
        return false;
      }
      out.steps.push_back(std::move(s));
    } else if (n == "ctl") {
      actions::Step s;
      s.kind = actions::Step::Kind::Ctl;
      std::string err;
      if (!actions::parseCtl(v, &s.ctl, &err)) {
        error(r, err);
        return false;
      }
      out.steps.push_back(std::move(s));
    } else if (n == "initcol" || n == "setsid" || n == "setuid" || n == "setenv") {
      actions::Step s;
      s.kind = n == "initcol"  ? actions::Step::Kind::InitCol
               : n == "setsid" ? actions::Step::Kind::SetSid
               : n == "setuid" ? actions::Step::Kind::SetUid
                               : actions::Step::Kind::SetEnv;
      s.arg = v;
      out.steps.push_back(std::move(s));
    }
    // Everything else (expirevar, deprecatevar, sanitise*, xmlns, append, prepend, exec, noop...)
    // is accepted and has no effect here.
    (void)is_head;
    return true;
  }

  bool compileLink(const rules::Rule& r, const rules::Rule& head, bool is_head, CompiledRule& out) {
    bool ok = true;
    out.src = &r;
    out.id = head.id;
    out.phase = head.phase;
    if (r.kind == rules::Rule::Kind::SecRule) {
      for (auto& v : r.variables) {
        CompiledVar cv;
        if (compileVar(r, v, &cv)) out.vars.push_back(std::move(cv));
        else ok = false;
      }
    }
    out.op_name = r.op.name.empty() ? "unconditionalmatch" : toLower(r.op.name);
    out.op_arg = r.op.argument;
    out.negated = r.op.negated;
    std::string err;
    out.op = operators::create(out.op_name, out.op_arg, operatorContext(impl, r), &err);
    if (!out.op) {
      error(r, err);
      ok = false;
    }
    const auto& defaults = (r.default_actions.empty() && !is_head) ? head.default_actions : r.default_actions;
    Disruptive default_disruptive = Disruptive::Pass;
    int default_status = 0;
    for (auto& a : defaults)
      if (a.name != "setvar" && a.name != "ctl" && a.name != "msg" && a.name != "logdata" && a.name != "tag" &&
          a.name != "skipafter" && a.name != "skip")
        ok &= applyAction(r, a, true, is_head, out, default_disruptive, default_status);
    for (auto& a : r.actions) ok &= applyAction(r, a, false, is_head, out, default_disruptive, default_status);
    if (out.disruptive == Disruptive::Block || out.disruptive == Disruptive::None) {
      out.disruptive = default_disruptive;
    }
    impl.setPipeline(out, std::move(out.tfns));
    return ok;
  }

  // Resolves ctl:*ByTag / *ByMsg regexes against every rule once.
  void resolveRemovals() {
    std::vector<actions::Ctl*> ctls;
    for (auto& r : impl.rules) {
      auto visit = [&](CompiledRule& l) {
        for (auto& st : l.steps)
          if (st.kind == actions::Step::Kind::Ctl && st.ctl.re) ctls.push_back(&st.ctl);
      };
      visit(*r);
      for (auto& l : r->chain) visit(*l);
    }
    for (auto* c : ctls) {
      bool by_msg = c->kind == actions::Ctl::Kind::RuleRemoveByMsg || c->kind == actions::Ctl::Kind::RuleRemoveTargetByMsg;
      auto set = std::make_shared<std::vector<uint8_t>>(impl.rule_count, 0);
      for (auto& r : impl.rules) {
        if (r->is_marker || r->profile_index < 0) continue;
        uint8_t& in = (*set)[static_cast<size_t>(r->profile_index)];
        if (by_msg) {
          in = c->re->matches(r->msg);
          continue;
        }
        for (auto& t : r->tags)
          if (c->re->matches(t)) {
            in = 1;
            break;
          }
      }
      c->matching_rules = std::move(set);
    }
  }

  void compile() {
    for (const auto& r : impl.ruleset.rules) {
      auto cr = std::make_unique<CompiledRule>();
      if (r.kind == rules::Rule::Kind::SecMarker) {
        cr->is_marker = true;
        cr->marker = r.marker;
        cr->src = &r;
        for (int p = 1; p <= 5; ++p) impl.phases[p].push_back(cr.get());
        impl.rules.push_back(std::move(cr));
        continue;
      }
      bool ok = compileLink(r, r, true, *cr);
      cr->chained = !r.chain.empty();
      CompiledRule* prev = cr.get();
      for (size_t i = 0; i < r.chain.size(); ++i) {
        auto link = std::make_unique<CompiledRule>();
        ok &= compileLink(r.chain[i], r, false, *link);
        link->chained = i + 1 < r.chain.size();
        (void)prev;
        prev = link.get();
        cr->chain.push_back(std::move(link));
      }
      if (!ok) continue;
      int phase = std::clamp(r.phase, 1, 5);
      cr->phase = phase;
      impl.phases[phase].push_back(cr.get());
      cr->profile_index = int(impl.rule_count++);
      impl.by_profile_index.push_back(cr.get());
      impl.rules.push_back(std::move(cr));
    }
  }
};

}  // namespace

// Pipeline prefix ids, for the transformation cache: pipelines that begin
// with the same steps share the ids of those steps.
void Engine::Impl::setPipeline(CompiledRule& r, std::vector<const transformations::Info*> tfns) {
  r.tfns = std::move(tfns);
  r.prefix_ids.clear();
  r.tfn_triggers = 0;
  int parent = 0;
  for (auto* t : r.tfns) {
    auto it = pipeline_prefixes.try_emplace({parent, t}, pipeline_prefix_count).first;
    if (it->second == pipeline_prefix_count) ++pipeline_prefix_count;
    parent = it->second;
    r.prefix_ids.push_back(parent);
    r.tfn_triggers |= t->triggers;
  }
  r.pipeline_id = parent;
}

std::string toLower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = asciiLower(c);
  return r;
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
const rules::EngineSettings& Engine::settings() const { return impl_->ruleset.settings; }
size_t Engine::ruleCount() const { return impl_->rule_count; }

RuleInfo Engine::ruleInfo(size_t index) const {
  RuleInfo info;
  if (index >= impl_->by_profile_index.size()) return info;
  const CompiledRule* r = impl_->by_profile_index[index];
  info.id = r->id;
  info.phase = r->phase;
  if (r->src) {
    info.file = r->src->loc.file;
    info.line = r->src->loc.line;
  }
  auto how = [&](const CompiledRule& l) {
    std::string h;
    if (l.scan_group >= 0) h += fmt::format("scan{}", l.scan_group);
    if (l.regex_set >= 0) h += fmt::format("{}set{}", h.empty() ? "" : ",", l.regex_set);
    if (l.memo_bit >= 0) h += fmt::format("{}memo{}", h.empty() ? "" : ",", l.memo_bit);
    if (l.keyed_bit >= 0) h += fmt::format("{}keyed{}", h.empty() ? "" : ",", l.keyed_bit);
    return h.empty() ? std::string("op") : h;
  };
  if (r->precomputed) info.how = "folded";
  else if (r->constant >= 0) info.how = "const";
  else {
    info.how = how(*r);
    for (const auto& l : r->chain) info.how += "+" + how(*l);
  }
  return info;
}

std::vector<RuleCost> ruleCosts(const Engine& engine, const std::vector<const RuleProfile*>& profiles) {
  std::vector<RuleCost> out;
  for (size_t i = 0; i < engine.ruleCount(); ++i) {
    RuleCost c;
    for (const RuleProfile* p : profiles) {
      if (!p || i >= p->size()) continue;
      const auto& k = p->at(i);
      c.evaluations += k.evaluations.load(std::memory_order_relaxed);
      c.matches += k.matches.load(std::memory_order_relaxed);
      c.sampled_evaluations += k.sampled_evaluations.load(std::memory_order_relaxed);
      c.time_ns += k.time_ns.load(std::memory_order_relaxed);
    }
    if (!c.evaluations) continue;
    c.rule = engine.ruleInfo(i);
    c.est_time_ns = c.mean_ns() * double(c.evaluations);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const RuleCost& a, const RuleCost& b) { return a.est_time_ns > b.est_time_ns; });
  return out;
}

RuleProfile::RuleProfile(const Engine& engine)
    : counters_storage_(new Counters[engine.ruleCount()]), counters_(counters_storage_.get(), engine.ruleCount()) {}

namespace {

// Variables whose values do not change within a phase: what a phase scan may
// gather once for every rule of the phase.
bool batchable(variables::Kind k) {
  using K = variables::Kind;
  switch (k) {
    case K::Args: case K::ArgsGet: case K::ArgsPost: case K::ArgsNames: case K::ArgsGetNames:
    case K::ArgsPostNames: case K::RequestCookies: case K::RequestCookiesNames: case K::RequestHeaders:
    case K::RequestHeadersNames: case K::ResponseHeaders: case K::ResponseHeadersNames: case K::Files:
    case K::FilesNames: case K::MultipartPartHeaders: case K::MultipartFilename: case K::MultipartName:
    case K::QueryString: case K::RemoteAddr: case K::RemoteHost: case K::ServerAddr: case K::ServerName:
    case K::RequestBasename: case K::RequestFilename: case K::RequestBody: case K::RequestLine:
    case K::RequestMethod: case K::RequestProtocol: case K::RequestUri: case K::RequestUriRaw:
    case K::ResponseBody: case K::ResponseContentType: case K::ResponseContentLength: case K::ResponseProtocol:
    case K::Xml:  // the whole document (/*) only; see scannable()
      return true;
    default:
      return false;
  }
}

// A link the phase scan can decide: a non-negated @rx with a fixed pattern or @pm,
// every target a batchable variable. When its pattern is absent from the scan
// of every value its variables have (with multiMatch, of every stage of their
// transformations), it cannot match, and a link that does not match has no effect.
bool scannable(const CompiledRule& l) {
  if (l.negated || !l.op) return false;
  const bool rx = l.op_name == "rx" && l.op->regex();
  const bool pm = (l.op_name == "pm" || l.op_name == "pmfromfile" || l.op_name == "pmf") && l.op->phrases() &&
                  !l.op->phrases()->empty();
  if (!rx && !pm) return false;
  bool any = false;
  for (const auto& v : l.vars) {
    if (v.count || !batchable(v.kind)) return false;
    // An XPath selector picks nodes whose text the whole document's does not hold
    // value by value (an anchored pattern could match one and not the whole).
    // The two CRS uses (/* and //@*) are gathered with their own selector.
    if (v.kind == variables::Kind::Xml && !v.exclude && !v.selector.empty() && v.selector != "/*" &&
        v.selector != "//@*")
      return false;
    any |= !v.exclude;
  }
  return any;
}

// An inline option that turns caseless matching off ("(?-i)", "(?s-i:"):
// such a pattern cannot be matched caselessly in place of a lower-cased value.
bool turnsCaseOff(std::string_view pattern) {
  for (size_t i = pattern.find("(?"); i != std::string_view::npos; i = pattern.find("(?", i + 2)) {
    size_t k = i + 2;
    while (k < pattern.size() && std::isalpha(static_cast<unsigned char>(pattern[k]))) ++k;
    if (k < pattern.size() && pattern[k] == '-') return true;
  }
  return false;
}

// What the phase scan gathers for a link's variable: its literal key
// (REQUEST_HEADERS:User-Agent) when it names one, else the whole variable; XML
// by its XPath (/* or //@*, as the rule has it).
std::string gatherSelector(const CompiledVar& v) {
  if (v.kind == variables::Kind::Xml) return v.selector == "//@*" ? v.selector : "";
  return v.selector_re ? "" : v.selector_lower;
}

// The variables a link's scan gathers, in a canonical order: links that target
// the same values share a group.
std::string gatherKey(const CompiledRule& l) {
  std::vector<std::string> parts;
  for (const auto& v : l.vars)
    if (!v.exclude) parts.push_back(v.name + ":" + gatherSelector(v));
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string key;
  for (const auto& p : parts) key.append(p).push_back('\n');
  return key;
}

// A gatherKey part that gathers one value, or the few of one name: a variable
// that is not a collection (the request line's parts), or a collection's
// named member (REQUEST_HEADERS:referer). Not a body, nor an XPath.
bool singleValuePart(std::string_view part) {
  const size_t colon = part.find(':');
  const std::string_view sel = colon == std::string_view::npos ? std::string_view() : part.substr(colon + 1);
  if (!sel.empty()) return sel.front() != '/';
  using variables::Kind;
  const Kind k = variables::lookup(part.substr(0, colon));
  return k != Kind::Unknown && !variables::isCollection(k) && k != Kind::RequestBody && k != Kind::ResponseBody;
}

// Scan groups (phase, gatherKey) whose variables differ by single values only
// join: the smaller group's links into the group with the fewest more. Each
// Hyperscan call on a request's first sight of a value costs ~0.5 us of cache
// misses whatever it scans (its database's and Hyperscan's own lines), so two
// small groups scanned as one cost about one; the links that do not read the
// extra value may be reported for it and are then evaluated in full (time,
// never a verdict). Groups of more than kSmallGroup links stay apart (a large
// database costs by what it holds, not by its calls), and so do groups with
// a pattern longer than HsPrefilter::kLongPattern: such command lists may be
// refused by Hyperscan beside patterns they compiled apart from (CRS PL2's
// 932239 beside 932205-207), and their rule would then always run in full.
constexpr size_t kSmallGroup = 8;
bool smallGroup(const std::vector<CompiledRule*>& links) {
  return links.size() <= kSmallGroup && std::none_of(links.begin(), links.end(), [](const CompiledRule* l) {
           return !l->op->phrases() && l->op_arg.size() > match::HsPrefilter::kLongPattern;
         });
}
void joinSmallGroups(std::map<std::pair<int, std::string>, std::vector<CompiledRule*>>& groups) {
  struct Entry {
    std::pair<int, std::string> key;
    std::vector<std::string> parts;  // sorted (gatherKey's order)
    bool small = false;              // smallGroup, before any joined
    Entry* into = nullptr;
  };
  std::vector<Entry> all;
  for (const auto& [key, links] : groups) {
    Entry e{key, {}, smallGroup(links), nullptr};
    for (size_t at = 0; at < key.second.size();) {
      const size_t nl = key.second.find('\n', at);
      e.parts.push_back(key.second.substr(at, nl - at));
      at = nl + 1;
    }
    all.push_back(std::move(e));
  }
  // Larger sets first: a group joins one already decided to stay.
  std::vector<Entry*> order;
  for (auto& e : all) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
                   [](const Entry* a, const Entry* b) { return a->parts.size() > b->parts.size(); });
  for (size_t i = 0; i < order.size(); ++i) {
    Entry& a = *order[i];
    if (!a.small) continue;
    Entry* best = nullptr;
    size_t best_extra = 0;
    for (size_t j = 0; j < i; ++j) {
      Entry& b = *order[j];
      if (b.into || !b.small || b.key.first != a.key.first || b.parts.size() <= a.parts.size() ||
          !std::includes(b.parts.begin(), b.parts.end(), a.parts.begin(), a.parts.end()))
        continue;
      std::vector<std::string> extra;
      std::set_difference(b.parts.begin(), b.parts.end(), a.parts.begin(), a.parts.end(), std::back_inserter(extra));
      if (!std::all_of(extra.begin(), extra.end(), [](const std::string& p) { return singleValuePart(p); })) continue;
      if (!best || extra.size() < best_extra) best = &b, best_extra = extra.size();
    }
    if (!best) continue;
    a.into = best;
    // After the group's own links: theirs name the wider variables, which the
    // group's gathering then takes first (a named member of one is not gathered twice).
    auto& to = groups[best->key];
    auto& from = groups[a.key];
    to.insert(to.end(), from.begin(), from.end());
  }
  for (const auto& e : all)
    if (e.into) groups.erase(e.key);
}

}  // namespace

// Which rules a benign request reaches: a DetectionOnly probe (GET / with a
// browser's headers, then a 200 text/html response) records every rule the
// rule flow evaluates, so paranoia-level sections CRS skips are left out of the
// databases. A rule reached at run time without a scan group is evaluated in
// full, so the probe decides speed, never verdicts.
void Engine::buildScans(const std::shared_ptr<Engine>& engine) {
  Impl& impl = *engine->impl_;
  std::vector<uint8_t> reached(impl.rule_count, 0);
  {
    Transaction tx(engine, "rampart-probe");
    tx.setRuleEngine(rules::EngineSettings::RuleEngine::DetectionOnly);
    tx.impl_->reached = &reached;
    tx.processConnection("192.0.2.1", 40000, "192.0.2.2", 80);
    tx.processUri("GET", "/", "HTTP/1.1");
    tx.addRequestHeader("Host", "example.com");
    tx.addRequestHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
    tx.addRequestHeader("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    tx.processRequestHeaders();
    tx.processRequestBody();
    tx.setResponseStatus(200, "HTTP/1.1");
    tx.addResponseHeader("Content-Type", "text/html");
    tx.processResponseHeaders();
    tx.appendResponseBody("<html></html>");
    tx.processResponseBody();
  }
  // A group per phase and set of variables, whatever the links'
  // transformations: a value is scanned once for each distinct result of the
  // group's pipelines (once, as it is, when none changes it: most benign
  // values), against every pattern of the group. A pattern may so be reported
  // for another pipeline's result than its own: the scan is a necessary
  // condition (a reported link is evaluated in full), so that costs time,
  // never a verdict. Links with other variables scan apart (a pattern
  // reported for a value its rules do not read would be a candidate for
  // nothing, and RE2 would confirm it on every value they do read), unless
  // the groups are small and differ by single values (joinSmallGroups).
  // Every link of the rules the probe reached, with its rule's phase.
  auto forEachReachedLink = [&](auto&& fn) {
    for (auto& r : impl.rules) {
      if (r->is_marker || r->profile_index < 0 || !reached[size_t(r->profile_index)]) continue;
      fn(r->phase, *r);
      for (auto& l : r->chain) fn(r->phase, *l);
    }
  };
  std::map<std::pair<int, std::string>, std::vector<CompiledRule*>> by_group;
  forEachReachedLink([&](int phase, CompiledRule& l) {
    if (scannable(l)) by_group[{phase, gatherKey(l)}].push_back(&l);
  });
  // RAMPART_WAF_JOIN_GROUPS=0: every set of variables scans apart (A/B measurements, tests).
  if (const char* j = std::getenv("RAMPART_WAF_JOIN_GROUPS"); !(j && std::string_view(j) == "0"))
    joinSmallGroups(by_group);
  for (auto& [key, links] : by_group) {
    auto g = std::make_unique<Impl::ScanGroup>();
    g->phase = key.first;
    // What a link's values are scanned through: its pipeline, or that pipeline
    // without its lower-casing when the link's pattern can be matched
    // caselessly (@pm always is): upper case alone then makes no value take it.
    auto scanPipeline = [&](const CompiledRule& l, bool& caseless) -> const CompiledRule* {
      caseless = false;
      std::vector<const transformations::Info*> tfns;
      if (!transformations::withoutLowercasing(l.tfns, tfns)) return &l;
      if (!l.op->phrases() && turnsCaseOff(l.op_arg)) return &l;
      caseless = true;
      for (const auto& p : g->caseless_pipelines)
        if (p->tfns == tfns) return p.get();
      auto p = std::make_unique<CompiledRule>();
      impl.setPipeline(*p, std::move(tfns));
      g->caseless_pipelines.push_back(std::move(p));
      return g->caseless_pipelines.back().get();
    };
    auto addPipeline = [&](const CompiledRule* p, bool multi) {
      for (const auto& [q, m] : g->pipelines)
        if (q->pipeline_id == p->pipeline_id && m == multi) return;
      g->pipelines.emplace_back(p, multi);
      g->triggers |= p->tfn_triggers;
    };
    std::map<std::string, std::pair<bool, int>> ids;  // identical patterns (or phrase sets) share an id
    std::vector<std::pair<CompiledRule*, std::pair<bool, int>>> assigned;
    for (auto* l : links) {
      const auto* phrases = l->op->phrases();
      bool caseless = false;
      const CompiledRule* pipeline = scanPipeline(*l, caseless);
      std::string same;  // what makes two links' patterns one
      if (phrases) {
        same = "pm:";
        for (const auto& ph : *phrases) same.append(ph).push_back('\0');
      } else {
        same = caseless ? "rxi:" + l->op_arg : "rx:" + l->op_arg;
      }
      auto it = ids.find(same);
      // (in the plain database, id there; -1: refused or measured slower than
      // RE2, -2: matches the empty string, never scanned for)
      std::pair<bool, int> id{false, -1};
      if (it != ids.end()) {
        id = it->second;
      } else if (phrases) {
        const bool plain = std::none_of(phrases->begin(), phrases->end(),
                                        [](const std::string& ph) { return ph.find(kPlainSeparator) != std::string::npos; });
        id = {plain, (plain ? g->db_plain : g->db).addPhrases(*phrases)};
      } else {
        // A pattern that matches the empty string is a candidate in every batch
        // (920450's ^.*$): scanning for it only costs.
        const auto& re = *l->op->regex();
        const bool plain =
            !match::HsPrefilter::usesLineAnchors(l->op_arg) && !re.matches(std::string_view(&kPlainSeparator, 1));
        if (re.matches(""))
          id = {plain, -2};
        else
          id = {plain, plain ? g->db_plain.add(l->op_arg, !re.usesPcre(), false, caseless)
                             : g->db.add(l->op_arg, !re.usesPcre(), re.matches("\n"), caseless)};
      }
      ids.emplace(same, id);
      if (id.second < 0) {
        impl.scan_left_out += id.second == -1;
        continue;
      }
      assigned.push_back({l, id});
      addPipeline(pipeline, l->multi_match);
      const auto need = phrases ? match::neededClassesOfPhrases(*phrases) : match::neededClasses(l->op_arg);
      g->need |= need ? *need : ~uint64_t(0);
      for (const auto& v : l->vars) {
        if (v.exclude) continue;
        const std::string sel = gatherSelector(v);
        bool have = false;
        for (const auto& w : g->vars)
          if (w.kind == v.kind &&
              (w.selector_lower == sel || (w.selector_lower.empty() && v.kind != variables::Kind::Xml)))
            have = true;
        if (have) continue;
        if (sel.empty() && v.kind != variables::Kind::Xml)
          g->vars.erase(std::remove_if(g->vars.begin(), g->vars.end(), [&](const CompiledVar& w) { return w.kind == v.kind; }),
                        g->vars.end());
        CompiledVar gather;
        gather.kind = v.kind;
        gather.name = v.name;
        gather.selector = sel;
        gather.selector_lower = sel;
        g->vars.push_back(std::move(gather));
      }
    }
    // A database that does not compile decides none of its links (they are
    // evaluated in full).
    const bool lined_ok = g->db.size() > 0 && g->db.build();
    const bool plain_ok = g->db_plain.size() > 0 && g->db_plain.build();
    if (!lined_ok && !plain_ok) continue;
    int index = static_cast<int>(impl.scans.size());
    g->hits_offset = impl.scan_hits_size;
    impl.scan_hits_size += g->db.size() + g->db_plain.size();
    const int lined_size = static_cast<int>(g->db.size());
    // A pattern left out of a database is reported as always possible, and no
    // link reads that report (its links are evaluated in full): the memo
    // disregards it, so that a group holding one is remembered too.
    g->memo = index < 64;
    g->unread.assign(g->db.size() + g->db_plain.size(), 0);
    for (size_t i = 0; i < g->db.size(); ++i) g->unread[i] = g->db.leftOut(int(i));
    for (size_t i = 0; i < g->db_plain.size(); ++i) g->unread[g->db.size() + i] = g->db_plain.leftOut(int(i));
    impl.scans.push_back(std::move(g));
    const auto& built = *impl.scans.back();
    for (auto& [l, id] : assigned) {
      if (!(id.first ? plain_ok : lined_ok)) continue;
      // Left out of the database (always reported): the link is evaluated in full.
      if ((id.first ? built.db_plain : built.db).leftOut(id.second)) {
        ++impl.scan_left_out;
        continue;
      }
      l->scan_group = index;
      l->scan_id = id.first ? lined_size + id.second : id.second;
      ++impl.scan_links;
    }
  }
  // Links no database decides, that read untransformed request values (which
  // stay where they are for the transaction, so a value is known by its
  // address): their patterns per phase in RegexSets of up to 64.
  std::map<int, std::vector<CompiledRule*>> by_phase;
  forEachReachedLink([&](int phase, CompiledRule& l) {
    if (l.scan_group >= 0 || l.negated || !l.op || l.op_name != "rx" || !l.op->regex() ||
        !l.op->regex()->plainRe2() || !l.tfns.empty() || l.vars.empty())
      return;
    for (const auto& v : l.vars)
      if (v.count || !batchable(v.kind)) return;
    by_phase[phase].push_back(&l);
  });
  for (auto& [phase, all] : by_phase) {
    // Only links that read a value another one reads: a set asked about a
    // value once costs more than its one member.
    auto overlap = [](const CompiledRule& a, const CompiledRule& b) {
      for (const auto& v : a.vars)
        for (const auto& w : b.vars)
          if (!v.exclude && !w.exclude && v.kind == w.kind &&
              (v.selector_re || w.selector_re || v.selector_lower.empty() || w.selector_lower.empty() ||
               v.selector_lower == w.selector_lower))
            return true;
      return false;
    };
    std::vector<CompiledRule*> links;
    for (auto* l : all)
      if (std::any_of(all.begin(), all.end(), [&](const CompiledRule* o) { return o != l && overlap(*l, *o); }))
        links.push_back(l);
    for (size_t from = 0; from + 1 < links.size(); from += 64) {
      const size_t n = std::min<size_t>(64, links.size() - from);
      if (n < 2) break;
      std::vector<const match::Regex*> members;
      for (size_t i = 0; i < n; ++i) members.push_back(links[from + i]->op->regex());
      auto set = match::RegexSet::build(members);
      if (!set) continue;
      for (size_t i = 0; i < n; ++i) {
        links[from + i]->regex_set = static_cast<int>(impl.regex_sets.size());
        links[from + i]->regex_set_bit = static_cast<int>(i);
      }
      impl.regex_sets.push_back(std::move(set));
    }
  }
}

namespace {

// Only %{tx.NAME} macros, if any.
bool onlyTxMacros(std::string_view text) {
  for (size_t p = text.find("%{"); p != std::string_view::npos; p = text.find("%{", p + 2)) {
    std::string_view name = text.substr(p + 2, 3);
    if (name.size() < 3 || (name[0] | 0x20) != 't' || (name[1] | 0x20) != 'x' || name[2] != '.') return false;
  }
  return true;
}

// A link whose outcome and effects depend on TX alone: TX targets (or none), a
// deterministic operator whose argument expands only TX, setvar on TX only.
bool txOnlyLink(const CompiledRule& l) {
  static constexpr std::string_view kOps[] = {"eq", "ge", "gt", "le", "lt", "streq", "rx", "pm", "within",
                                               "contains", "containsword", "beginswith", "endswith",
                                               "unconditionalmatch", "nomatch", "strmatch"};
  if (!l.op || std::find(std::begin(kOps), std::end(kOps), l.op_name) == std::end(kOps)) return false;
  if (!onlyTxMacros(l.op_arg)) return false;
  for (const auto& v : l.vars)
    if (v.kind != variables::Kind::Tx) return false;
  for (const auto& s : l.steps) {
    if (s.kind != actions::Step::Kind::SetVar || s.setvar.collection != "tx") return false;
    if (!onlyTxMacros(s.setvar.key) || !onlyTxMacros(s.setvar.value)) return false;
  }
  return true;
}

// Matching it changes neither the verdict nor which rules run next.
bool flowNeutral(const CompiledRule& r) {
  return (r.disruptive == Disruptive::None || r.disruptive == Disruptive::Pass) && r.skip == 0 &&
         r.skip_after.empty();
}

// A rule that cannot change TX, the flow or the verdict: phase 1 runs it in
// place while the TX-only rules around it are folded.
bool leavesTxAlone(const CompiledRule& r) {
  if (!flowNeutral(r)) return false;
  auto quiet = [](const CompiledRule& l) {
    if (l.capture) return false;
    for (const auto& s : l.steps) {
      if (s.kind != actions::Step::Kind::Ctl) return false;
      using K = actions::Ctl::Kind;
      const K k = s.ctl.kind;
      if (k != K::RequestBodyProcessor && k != K::ForceRequestBodyVariable && k != K::RequestBodyAccess) return false;
    }
    return true;
  };
  if (!quiet(r)) return false;
  for (const auto& l : r.chain)
    if (!quiet(*l)) return false;
  return true;
}

}  // namespace

// CRS begins phase 1 with some 30 rules that read and write only TX (defaults
// for settings crs-setup.conf left unset, anomaly scores set to 0): the same
// ~60 setvars on every request. Those at the start of phase 1 (with rules that
// leave TX alone between them) run here once, on a transaction of their own;
// every transaction then starts from their TX and skips them. A rule that
// would log, block, change the flow or score severity when it matches ends the
// folded run, as does the first rule that reads anything but TX.
void Engine::precomputeInit(const std::shared_ptr<Engine>& engine) {
  Impl& impl = *engine->impl_;
  Transaction tx(engine, "rampart-init");
  auto& t = *tx.impl_;
  t.current_phase = 1;
  std::vector<CompiledRule*> folded;
  for (const CompiledRule* rule : impl.phases[1]) {
    if (rule->is_marker) continue;
    bool pure = txOnlyLink(*rule);
    for (const auto& l : rule->chain) pure = pure && txOnlyLink(*l);
    if (!pure) {
      if (leavesTxAlone(*rule)) continue;
      break;
    }
    const Collection before = t.txColl();
    const size_t hits_before = t.hits.size(), logged_before = t.logged_count;
    t.current_head = rule;
    t.matched_vars.clear();
    const bool all = t.evaluateRule(*rule);
    const bool quiet_match = !rule->log && !rule->auditlog && rule->severity < 0 && flowNeutral(*rule);
    if (t.intercepted || (all && !quiet_match)) {
      t.txColl() = before;  // this one runs per request, and everything after it
      t.hits.resize(hits_before);
      t.logged_count = logged_before;
      break;
    }
    auto* r = const_cast<CompiledRule*>(rule);
    r->precomputed_match = all;
    if (all) {
      r->precomputed_var = t.matchedVar();
      r->precomputed_var_name = t.matchedVarName();
    }
    folded.push_back(r);
  }
  if (folded.empty() || t.txColl().empty()) return;
  impl.tx_init = t.txColl();
  // Its keys and values were made in the probe transaction's arena, which
  // goes with it: the engine keeps copies, the values pointed to without a
  // reference count (the transactions that read them hold the engine).
  impl.tx_init.ownKeys();
  impl.tx_init.rehomeValues([&](const CollValue& v) -> const CollValue& { return impl.tx_init_values.emplace_back(v); });
  for (auto* r : folded) r->precomputed = true;

  // After the fold: a rule whose outcome depends only on TX variables that no
  // rule can write at run time (no setvar names them, literally or by a key
  // whose literal start they share; no capture for TX:0-9) has the outcome it
  // has on tx_init on every request that starts from it. Only rules whose match
  // does nothing but record a nolog match and move the flow (skipAfter, skip)
  // qualify: CRS's paranoia-level skips, ~80 a request.
  std::set<std::string, std::less<>> written;
  std::vector<std::string> written_prefixes;
  bool captures = false;
  for (const auto& r : impl.rules) {
    if (r->is_marker || r->precomputed) continue;
    auto visit = [&](const CompiledRule& l) {
      captures |= l.capture;
      for (const auto& s : l.steps) {
        if (s.kind != actions::Step::Kind::SetVar || s.setvar.collection != "tx") continue;
        if (s.setvar.key_macro) written_prefixes.push_back(toLower(s.setvar.key.substr(0, s.setvar.key.find("%{"))));
        else written.insert(s.setvar.key_lower);
      }
    };
    visit(*r);
    for (const auto& l : r->chain) visit(*l);
  }
  auto stable = [&](std::string_view key) {  // lower case
    if (key.empty() || written.count(key)) return false;
    if (captures && key.size() == 1 && key[0] >= '0' && key[0] <= '9') return false;
    for (const auto& p : written_prefixes)
      if (key.starts_with(p)) return false;
    return true;
  };
  // An operator argument whose macros read only such variables is the same
  // text on every request: expanded here, the operator is built once from
  // it (920450's @within %{tx.restricted_headers_basic}, 911100's allowed
  // methods...) instead of reading TX at every evaluation.
  static constexpr std::string_view kFixedArgOps[] = {"within", "rx", "pm", "streq", "contains", "containsword",
                                                       "beginswith", "endswith", "eq", "ge", "gt", "le", "lt"};
  auto fixArgument = [&](CompiledRule& l) {
    if (!l.op || !l.src || !operators::hasMacro(l.op_arg) ||
        std::find(std::begin(kFixedArgOps), std::end(kFixedArgOps), l.op_name) == std::end(kFixedArgOps))
      return;
    std::string text;
    bool ok = true;
    operators::splitMacros(
        l.op_arg, [&](std::string_view literal) { text.append(literal); },
        [&](std::string_view coll, std::string_view key) {
          const std::string lkey = toLower(key);
          const Collection::Item* it = operators::isTxCollection(coll) && !key.empty() && stable(lkey)
                                           ? impl.tx_init.find(lkey)
                                           : nullptr;
          if (it && it->second.p) text.append(it->second.p->value);
          else ok = false;
        });
    // (A value holding a macro is not expanded again at run time.)
    if (!ok || operators::hasMacro(text)) return;
    std::string err;
    auto op = operators::create(l.op_name, text, operatorContext(impl, *l.src), &err);
    if (!op) return;  // (evaluated as written: it fails at run time as it would have)
    l.op = std::move(op);
    l.op_arg = std::move(text);
  };
  for (const auto& r : impl.rules) {
    if (r->is_marker || r->precomputed) continue;
    fixArgument(*r);
    for (auto& l : r->chain) fixArgument(*l);
  }
  for (const auto& r : impl.rules) {
    if (r->is_marker || r->precomputed || !r->chain.empty() || !txOnlyLink(*r) || !r->steps.empty() || r->capture ||
        r->log || r->severity >= 0 || r->vars.empty() ||
        (r->disruptive != Disruptive::None && r->disruptive != Disruptive::Pass))
      continue;
    bool ok = true;
    for (const auto& v : r->vars)
      ok = ok && !v.exclude && !v.count && !v.selector_re && stable(v.selector_lower);
    const std::string_view arg = r->op_arg;
    for (size_t p = arg.find("%{"); ok && p != std::string_view::npos; p = arg.find("%{", p + 2)) {
      const size_t end = arg.find('}', p);
      ok = end != std::string_view::npos && stable(toLower(arg.substr(p + 5, end - p - 5)));  // past "%{tx."
    }
    if (!ok) continue;
    t.current_phase = r->phase;
    t.current_head = r.get();
    t.matched_vars.clear();
    const bool all = t.evaluateRule(*r);
    r->constant = all ? 1 : 0;
    if (all) {
      r->precomputed_var = t.matchedVar();
      r->precomputed_var_name = t.matchedVarName();
    }
  }
  t.current_head = nullptr;
}

size_t Engine::foldedRules() const {
  const auto& p1 = impl_->phases[1];
  return static_cast<size_t>(std::count_if(p1.begin(), p1.end(), [](const CompiledRule* r) { return r->precomputed; }));
}

size_t Engine::constantRules() const {
  return static_cast<size_t>(
      std::count_if(impl_->rules.begin(), impl_->rules.end(), [](const auto& r) { return r->constant >= 0; }));
}

size_t Engine::replayedRules() const { return impl_->tx_sim_slots.size(); }

namespace {

// Reads and writes only TX, by literal keys: its outcome and effects are a
// function of those TX variables (Engine::simulateTxPath).
bool replayableLink(const CompiledRule& l) {
  if (!txOnlyLink(l) || l.capture) return false;
  for (const auto& v : l.vars)
    if (v.exclude || v.selector_re || v.selector_lower.empty()) return false;
  return true;
}
bool replayable(const CompiledRule& r) {
  if (!replayableLink(r)) return false;
  for (const auto& l : r.chain)
    if (!replayableLink(*l)) return false;
  return true;
}

// The TX variables a replayable link reads: its targets, its operator's
// macros, its setvars' macros and the variables they add to or subtract from.
void txReads(const CompiledRule& l, std::set<std::string, std::less<>>& out) {
  for (const auto& v : l.vars) out.insert(v.selector_lower);
  const std::string_view arg = l.op_arg;
  for (size_t p = arg.find("%{"); p != std::string_view::npos; p = arg.find("%{", p + 2)) {
    const size_t end = arg.find('}', p);
    if (end != std::string_view::npos && end > p + 5) out.insert(toLower(arg.substr(p + 5, end - p - 5)));  // past "%{tx."
  }
  for (const auto& st : l.steps) {
    for (const auto* m : {&st.setvar.key_text, &st.setvar.value_text})
      for (const auto& part : m->parts)
        if (part.tx) out.insert(part.text);
    if (st.setvar.op != actions::SetVar::Op::Set && st.setvar.op != actions::SetVar::Op::Unset &&
        !st.setvar.key_macro)
      out.insert(st.setvar.key_lower);
  }
}

}  // namespace

// The TX path: the requests that trip no attack rule see the same TX-only
// rules run on the same TX, phase after phase (CRS's anomaly-score sums and
// threshold checks). Here, on a transaction of its own, every phase's plan is
// walked from tx_init as runPhase walks it: the folded and constant rules as
// runPhase takes them, each replayable rule evaluated (its setvars recorded as
// they resolved), every other rule taken as not matching. A replayable rule
// that matches and would log, score or disrupt ends the walk: it and what
// follows are evaluated at run time. A chain whose first link reads only TX
// and does not match is recorded too (nothing of it runs). At run time
// (Transaction::Impl::runPhase) a request is on the path until something
// leaves it: a write to a TX variable a replayed rule reads (marked watched in
// tx_init) by any other rule, a rule taken as not matching that changes the
// flow, a ctl that removes a simulated rule or a TX target, phase 1 or 2 cut
// short or not run. The optional phases 3 and 4 are walked run and not run:
// a phase replays the walk of the phases that ran before it.
void Engine::simulateTxPath(const std::shared_ptr<Engine>& engine) {
  Impl& impl = *engine->impl_;
  if (impl.tx_init.empty()) return;
  std::set<std::string, std::less<>> watched;
  static const CompiledRule kNoMatch;
  // What a rule's match left in MATCHED_VAR(_NAME), by rule: a rule whose
  // paths leave different ones is replayed on the first only.
  std::map<const CompiledRule*, std::pair<std::string, std::string>> matched;
  // One walk per set of the optional phases 3 and 4 that run (a response
  // body is inspected for some types only; `waf inspect` runs neither). A
  // rule of phase p is recorded under the phases before p that ran.
  for (int variant = 0; variant < Impl::kTxPathVariants; ++variant) {
    Transaction tx(engine, "rampart-tx-path");
    auto& t = *tx.impl_;
    t.txColl() = impl.tx_init;
    t.from_tx_init = true;
    std::vector<Impl::TxSimOp> ops;
    t.tx_sim_record = &ops;
    t.tx_sim_values = &impl.tx_sim_values;
    auto record = [&](CompiledRule* rule, int key, bool all, bool any_link) {
      if (rule->tx_sim < 0) {
        rule->tx_sim = static_cast<int>(impl.tx_sim_slots.size());
        impl.tx_sim_slots.emplace_back();
      }
      auto& slot = impl.tx_sim_slots[size_t(rule->tx_sim)].by_variant;
      if (slot[size_t(key)] >= 0) return;  // the same phases before it: the same outcome
      if (any_link) {
        std::pair<std::string, std::string> mv{std::string(t.matchedVar()), std::string(t.matchedVarName())};
        auto [it, added] = matched.emplace(rule, mv);
        if (!added && it->second != mv) return;  // evaluated on this path
        rule->precomputed_var = mv.first;
        rule->precomputed_var_name = mv.second;
      }
      slot[size_t(key)] = static_cast<int32_t>(impl.tx_sims.size());
      impl.tx_sims.push_back({all, any_link, ops});
    };
    bool ended = false;
    for (int phase = 1; phase <= 5 && !ended; ++phase) {
      if ((phase == 3 && !(variant & 1)) || (phase == 4 && !(variant & 2))) continue;
      const int key = (phase > 3 ? variant & 1 : 0) | (phase > 4 ? variant & 2 : 0);
      t.current_phase = phase;
      const auto& plan = impl.plans[size_t(phase)];
      int skip = 0;
      for (size_t i = 0; i < plan.size(); ++i) {
        const Impl::PlanStep& step = plan[i];
        if (step.marker) continue;
        if (skip > 0) {
          --skip;
          continue;
        }
        if (step.precomputed) continue;
        auto* rule = const_cast<CompiledRule*>(step.rule);
        bool all = false;
        if (step.constant >= 0) {
          all = step.constant == 1;
        } else if (replayable(*rule)) {
          ops.clear();
          t.current_head = rule;
          t.matched_vars.clear();
          t.matched_from = &kNoMatch;
          all = t.evaluateRule(*rule);
          const bool any_link = t.matched_from != &kNoMatch;
          if (t.intercepted || (all && (rule->log || rule->severity >= 0 || (rule->disruptive != Disruptive::None &&
                                                                             rule->disruptive != Disruptive::Pass)))) {
            ended = true;
            break;
          }
          // A setvar whose key is built by macros may add to the variable it names.
          auto keyMacro = [](const CompiledRule& l) {
            return std::any_of(l.steps.begin(), l.steps.end(),
                               [](const actions::Step& st) { return st.setvar.key_macro; });
          };
          bool built_keys = keyMacro(*rule);
          for (const auto& l : rule->chain) built_keys = built_keys || keyMacro(*l);
          if (built_keys)
            for (const auto& op : ops) watched.insert(op.lkey);
          record(rule, key, all, any_link);
          t.matched_from = nullptr;
          txReads(*rule, watched);
          for (const auto& l : rule->chain) txReads(*l, watched);
        } else if (!rule->chain.empty() && replayableLink(*rule)) {
          // A chain whose first link reads only TX (CRS's `&TX:MAX_NUM_ARGS
          // "@eq 1"` before the arguments are counted): when that link does not
          // match, neither does the rule, and nothing of it runs.
          const Collection before = t.txColl();
          ops.clear();
          t.current_head = rule;
          t.matched_vars.clear();
          if (t.evaluateLink(*rule, *rule, false) == 0) {
            record(rule, key, false, false);
            txReads(*rule, watched);
          } else {
            t.txColl() = before;  // evaluated at run time; taken here as not matching, as any other rule
          }
          t.matched_from = nullptr;
        }
        if (!all) continue;
        if (step.skip_to >= 0) i = size_t(step.skip_to);
        else if (rule->skip > 0) skip = rule->skip;
      }
    }
    t.current_head = nullptr;
    t.tx_sim_record = nullptr;
  }
  // TX:0-9 are written by every capture: a rule that reads them is not replayed.
  const bool digits = std::any_of(watched.begin(), watched.end(),
                                  [](const std::string& k) { return k.size() == 1 && k[0] >= '0' && k[0] <= '9'; });
  if (digits || impl.tx_sims.empty()) {
    for (auto& r : impl.rules) r->tx_sim = -1;
    impl.tx_sims.clear();
    impl.tx_sim_slots.clear();
    return;
  }
  for (const auto& key : watched) impl.tx_init.watch(key);
}

size_t Engine::memoLinks() const {
  size_t n = 0;
  for (const auto& head : impl_->rules) {
    n += head->memo_bit >= 0 || head->keyed_bit >= 0;
    for (const auto& l : head->chain) n += l->memo_bit >= 0;
  }
  return n;
}

Engine::ScanStats Engine::scanStats() const {
  ScanStats st;
  st.databases = impl_->scans.size();
  st.links = static_cast<size_t>(impl_->scan_links);
  st.left_out = static_cast<size_t>(impl_->scan_left_out);
  for (const auto& g : impl_->scans) {
    st.databases += g->db.ready() && g->db_plain.ready();  // two in this group
    st.patterns += g->db.size() + g->db_plain.size();
    st.prefilter_mode += g->db.prefilterModeCount() + g->db_plain.prefilterModeCount();
    st.bytes += g->db.bytes() + g->db_plain.bytes();
  }
  return st;
}

void Engine::buildPlans(Engine::Impl& impl) {
  for (size_t phase = 1; phase < impl.phases.size(); ++phase) {
    const auto& list = impl.phases[phase];
    auto& plan = impl.plans[phase];
    plan.assign(list.size(), {});
    for (size_t i = 0; i < list.size(); ++i) {
      const CompiledRule& r = *list[i];
      Impl::PlanStep& p = plan[i];
      p.rule = &r;
      p.marker = r.is_marker;
      p.precomputed = r.precomputed;
      p.precomputed_match = r.precomputed_match;
      p.constant = r.constant;
      p.tx_sim = r.tx_sim;
      if (r.scan_group >= 0 && r.scan_id >= 0) {
        p.scan_group = r.scan_group;
        p.scan_hit = static_cast<int32_t>(impl.scans[size_t(r.scan_group)]->hits_offset) + r.scan_id;
      }
      if (!r.skip_after.empty()) {
        size_t m = i + 1;
        while (m < list.size() && !(list[m]->is_marker && list[m]->marker == r.skip_after)) ++m;
        p.skip_to = static_cast<int32_t>(m);
      }
    }
    auto add = [](Impl::RunPlan& to, const Impl::PlanStep& p, int32_t skip_to, int32_t full_index) {
      Impl::RunStep r;
      r.rule = p.rule;
      if (p.scan_group >= 0 && p.scan_group <= INT16_MAX && p.scan_hit >= 0 && p.scan_hit <= INT16_MAX) {
        r.scan_group = static_cast<int16_t>(p.scan_group);
        r.scan_hit = static_cast<int16_t>(p.scan_hit);
      }
      r.constant = p.constant;
      r.flags = static_cast<uint8_t>((p.marker ? Impl::RunStep::kMarker : 0) |
                                     (p.precomputed ? Impl::RunStep::kPrecomputed : 0) |
                                     (p.precomputed_match ? Impl::RunStep::kPrecomputedMatch : 0) |
                                     (skip_to >= 0 ? Impl::RunStep::kSkipTo : 0) |
                                     (p.tx_sim >= 0 ? Impl::RunStep::kTxSim : 0));
      to.steps.push_back(r);
      Impl::RunCold c{skip_to, p.tx_sim, full_index};
      if (p.rule && !p.marker) {
        const CompiledRule& h = *p.rule;
        c.quiet = !h.log && !h.auditlog && (h.disruptive == Disruptive::None || h.disruptive == Disruptive::Pass);
        c.severity = static_cast<int8_t>(h.severity);
        c.id = h.id;
      }
      to.cold.push_back(c);
    };
    auto& run_plan = impl.run_plans[phase];
    run_plan = {};
    for (size_t i = 0; i < plan.size(); ++i) add(run_plan, plan[i], plan[i].skip_to, static_cast<int32_t>(i));
    // The short plan (Impl::short_plans): runPhase takes it while what it
    // leaves out does nothing.
    auto& short_plan = impl.short_plans[phase];
    short_plan = {};
    const bool skips = std::any_of(list.begin(), list.end(), [](const CompiledRule* r) { return r->skip > 0; });
    auto idle = [](const Impl::PlanStep& p) {
      return p.marker || (p.precomputed && !p.precomputed_match) || p.constant == 0;
    };
    if (skips || std::none_of(plan.begin(), plan.end(), idle)) continue;
    std::vector<int32_t> kept_before(plan.size() + 1, 0);  // kept entries among plan[0 .. i)
    for (size_t i = 0; i < plan.size(); ++i) kept_before[i + 1] = kept_before[i] + (idle(plan[i]) ? 0 : 1);
    for (size_t i = 0; i < plan.size(); ++i) {
      if (idle(plan[i])) continue;
      // runPhase goes on after skip_to: here after the last kept entry at or before it.
      int32_t skip_to = plan[i].skip_to;
      if (skip_to >= 0) skip_to = kept_before[size_t(std::min<int32_t>(skip_to + 1, int32_t(plan.size())))] - 1;
      add(short_plan, plan[i], skip_to, static_cast<int32_t>(i));
    }
  }
}

namespace {

// A variable whose values are the request's (not TX, another collection,
// MATCHED_* or the like): the same bytes on another request are the same value.
bool requestValueKind(variables::Kind k) {
  using K = variables::Kind;
  switch (k) {
    case K::Tx: case K::Ip: case K::Session: case K::User: case K::Global: case K::Resource: case K::Env:
    case K::Geo: case K::Rule: case K::MatchedVars: case K::MatchedVarsNames: case K::MatchedVar:
    case K::MatchedVarName: case K::UniqueId: case K::Unknown:
      return false;
    default:
      return true;
  }
}

// Operators whose outcome is a function of the value alone once their
// argument holds no macro.
bool pureOperator(std::string_view op) {
  static constexpr std::string_view kPure[] = {"rx", "pm", "pmfromfile", "pmf", "within", "contains",
                                               "containsword", "beginswith", "endswith", "streq", "strmatch"};
  return std::find(std::begin(kPure), std::end(kPure), op) != std::end(kPure);
}

// Operators whose outcome is a function of the (transformed) value alone, and
// of their argument: the string compares, the detectors, the validators.
bool valueOperator(std::string_view op) {
  static constexpr std::string_view kValue[] = {"detectsqli", "detectxss", "validatebyterange", "validateurlencoding",
                                                "validateutf8encoding"};
  return pureOperator(op) || std::find(std::begin(kValue), std::end(kValue), op) != std::end(kValue);
}

// Every macro of the text reads one of the captures TX:0-9.
bool capturesOnly(const actions::MacroText& m) {
  if (!m.tx_only) return false;
  for (const auto& p : m.parts)
    if (p.tx && !(p.text.size() == 1 && p.text[0] >= '0' && p.text[0] <= '9')) return false;
  return true;
}

}  // namespace

// The links whose verdict on a request value is remembered across requests
// (match::ValueMemo): not decided by a scan, an operator whose outcome is a
// function of the (transformed) value alone with an argument without macros,
// a request variable among its targets (TX and the like are not stable
// values), in a request phase (a response body is seldom sent twice and costs
// its length to hash). The 64 bits go to rules a request reaches first, and
// among them to the costliest kinds: the detectors, the RegexSet patterns,
// @pmFromFile and @pm, other @rx, the validators, the string compares.
void Engine::assignMemoBits(Impl& impl) {
  auto rank = [](const CompiledRule& l) -> int {
    if (l.scan_group >= 0 || !l.op || l.op_arg.find("%{") != std::string::npos || l.phase > 2) return -1;
    const bool request_value = std::any_of(l.vars.begin(), l.vars.end(), [](const CompiledVar& v) {
      return !v.exclude && !v.count && requestValueKind(v.kind);
    });
    if (!request_value) return -1;
    if (l.keyed) return 0;  // (its bit is keyed_bit: the chain's verdict, the costliest rule of a GET)
    // A pattern that matches whatever it is given (920450's "^.*$") never
    // leaves a value to remember: its values would be hashed for nothing.
    if (const match::Regex* re = l.op->regex(); re && re->matchesAnything()) return -1;
    const std::string& op = l.op_name;
    if (op == "detectsqli" || op == "detectxss") return 0;
    if (op == "rx" && l.regex_set >= 0) return 1;
    if (op == "pmfromfile" || op == "pmf" || op == "pm") return 2;
    if (op == "rx") return 3;
    if (op == "validatebyterange" || op == "validateurlencoding" || op == "validateutf8encoding") return 4;
    if (pureOperator(op)) return 5;  // the string compares (@rx and @pm above)
    return -1;
  };
  // Rules a constant skipAfter passes over (CRS's paranoia levels above the
  // configured one) are never evaluated: they come last.
  std::set<const CompiledRule*> reached;
  for (const auto& plan : impl.plans)
    for (size_t i = 0; i < plan.size();) {
      const Impl::PlanStep& p = plan[i];
      reached.insert(p.rule);
      const bool matches = p.constant == 1 || (p.precomputed && p.precomputed_match);
      i = matches && p.skip_to >= 0 ? size_t(p.skip_to) : i + 1;
    }
  std::vector<std::pair<int, CompiledRule*>> cands;
  for (auto& head : impl.rules) {
    if (head->is_marker || head->precomputed || head->constant >= 0) continue;
    const int unreached = reached.count(head.get()) ? 0 : 64;
    auto consider = [&](CompiledRule& l) {
      if (int r = rank(l); r >= 0) cands.emplace_back(unreached + r, &l);
    };
    consider(*head);
    for (auto& l : head->chain) consider(*l);
  }
  std::stable_sort(cands.begin(), cands.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < cands.size() && i < 64; ++i)
    (cands[i].second->keyed ? cands[i].second->keyed_bit : cands[i].second->memo_bit) = static_cast<int8_t>(i);
  // The links left without a bit whose outcome is a function of the
  // request's bytes: what the counts and the numeric compares CRS runs on
  // every request (920280's &REQUEST_HEADERS:Host "@eq 0", 920170's chained
  // Content-Length...) gave is a request set's answer (outcome_bit), the
  // reached ones first.
  auto outcome = [](const CompiledRule& l) {
    static constexpr std::string_view kNumeric[] = {"eq", "ge", "gt", "le", "lt"};
    if (l.scan_group >= 0 || !l.op || l.memo_bit >= 0 || l.keyed || l.capture || l.phase > 2 ||
        l.op_arg.find("%{") != std::string::npos || l.vars.empty())
      return false;
    const std::string& op = l.op_name;
    const bool pure_op =
        valueOperator(op) || std::find(std::begin(kNumeric), std::end(kNumeric), op) != std::end(kNumeric);
    return pure_op && std::all_of(l.vars.begin(), l.vars.end(),
                                  [](const CompiledVar& v) { return variables::fromRequest(v.kind); });
  };
  std::vector<std::pair<int, CompiledRule*>> links;
  for (auto& head : impl.rules) {
    if (head->is_marker || head->precomputed || head->constant >= 0) continue;
    const int unreached = reached.count(head.get()) ? 0 : 1;
    if (outcome(*head)) links.emplace_back(unreached, head.get());
    for (auto& l : head->chain)
      if (outcome(*l)) links.emplace_back(unreached, l.get());
  }
  std::stable_sort(links.begin(), links.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < links.size() && i < 64; ++i) links[i].second->outcome_bit = static_cast<int8_t>(i);
}

namespace {

// Whether a link's actions may change a collection value (TX, IP...) that its
// targets view while it runs: its captures (TX:0-9), a setvar of a key it
// reads (or of a key only known at run time), initcol, setsid, setuid.
// CRS's scoring rules read TX and add to other TX keys: nothing to pin.
bool needsPins(const CompiledRule& l) {
  std::vector<const CompiledVar*> read;  // the collections' variables (collectionName: tx, ip...)
  for (const auto& v : l.vars)
    if (!v.exclude && !v.count && !variables::collectionName(v.kind).empty()) read.push_back(&v);
  if (read.empty()) return false;
  if (l.capture) return true;
  for (const auto& s : l.steps) {
    if (s.kind == actions::Step::Kind::Ctl) continue;
    if (s.kind != actions::Step::Kind::SetVar) return true;
    const auto& sv = s.setvar;
    for (const CompiledVar* v : read) {
      if (variables::collectionName(v->kind) != sv.collection) continue;
      if (sv.key_macro || v->selector.empty()) return true;
      if (v->selector_re ? v->selector_re->matches(sv.key) || v->selector_re->matches(sv.key_lower)
                         : v->selector_lower == sv.key_lower)
        return true;
    }
  }
  return false;
}

// Whether a rule (its chain, its actions and its phase's default actions) can
// read MATCHED_VARS or MATCHED_VARS_NAMES: as a target, or by a macro in an
// operator's argument or an action's value.
bool readsMatchedVars(const rules::Rule& r) {
  auto mentions = [](std::string_view text) { return toLower(text).find("matched_vars") != std::string::npos; };
  for (const auto& v : r.variables)
    if (mentions(v.name) || mentions(v.selector)) return true;
  if (mentions(r.op.argument)) return true;
  for (const auto* list : {&r.actions, &r.default_actions})
    for (const auto& a : *list)
      if (mentions(a.value)) return true;
  for (const auto& link : r.chain)
    if (readsMatchedVars(link)) return true;
  return false;
}

}  // namespace

// What links' and scan groups' targets need at run time.
// Variable lists: CRS's rules and scan groups read the same variables again
// and again (ARGS in ~40 groups and links a phase). Variables whose values stay
// put while a phase runs (the request's collections and line; not TX,
// MATCHED_*, TIME or counts) get an id per distinct variable and selector:
// their values are resolved once a phase, and the value memo's verdicts on all
// of them are asked once (Transaction::Impl::varList). Pins: needsPins.
// MATCHED_VARS are kept only for the rules that read them (readsMatchedVars).
void Engine::prepareTargets(Impl& impl) {
  // The variables a phase scan may gather once (batchable), not counts.
  auto fixed = [](const CompiledVar& v) { return !v.count && batchable(v.kind); };
  std::map<std::string, int16_t> ids;
  // TX regex selectors over tx_init's items, once (tx_init is final here:
  // simulateTxPath added its watched items). A selector that turns caseless
  // matching off could tell a key from its spelling: left to run time.
  auto knowTxInit = [&](CompiledVar& v) {
    if (v.kind != variables::Kind::Tx || !v.selector_re || turnsCaseOff(v.selector)) return;
    v.tx_init_known = true;
    v.tx_init_hits.clear();
    impl.tx_init.forEachItem([&](size_t i, const Collection::Item& it) {
      if (v.selector_re->matches(it.first)) v.tx_init_hits.push_back(static_cast<uint32_t>(i));
    });
  };
  // The literal keys of REQUEST_HEADERS(_NAMES) variables (Impl::header_keys).
  std::map<std::string, int16_t, std::less<>> header_keys;
  auto keyHeader = [&](CompiledVar& v) {
    if ((v.kind == variables::Kind::RequestHeaders || v.kind == variables::Kind::RequestHeadersNames) &&
        !v.selector.empty() && !v.selector_re && header_keys.size() < 1024)
      v.header_key = header_keys.emplace(v.selector_lower, static_cast<int16_t>(header_keys.size())).first->second;
  };
  // True when every variable it reads got an id. A count gets its variable's
  // list (its length, &REQUEST_HEADERS:Content-Length) but is never asked of
  // the memo: its link reads a number.
  auto assign = [&](std::vector<CompiledVar>& vars) {
    bool all = !vars.empty();
    for (auto& v : vars) {
      knowTxInit(v);
      keyHeader(v);
      const bool listed = v.count ? batchable(v.kind) : fixed(v);
      if (!listed || ids.size() >= size_t(INT16_MAX)) {
        all = all && v.exclude;  // (an exclusion's values are only taken away)
        continue;
      }
      v.var_list = ids.emplace(v.name + ":" + v.selector, static_cast<int16_t>(ids.size())).first->second;
      v.head_list = variables::fixedByHead(v.kind);
      if (impl.list_owner.size() <= size_t(v.var_list)) impl.list_owner.resize(size_t(v.var_list) + 1, nullptr);
      if (!impl.list_owner[size_t(v.var_list)]) impl.list_owner[size_t(v.var_list)] = &v;
      all = all && !v.count;
    }
    return all;
  };
  // A link's or group's lists in known_lists (the variables stay where they are
  // from here on: list_owner points at them). False, and none added, for more
  // than a count holds.
  auto know = [&](const std::vector<CompiledVar>& vars, uint32_t& at, uint16_t& count) {
    at = static_cast<uint32_t>(impl.known_lists.size());
    for (const auto& v : vars)
      if (!v.exclude) impl.known_lists.push_back(static_cast<uint16_t>(v.var_list * 2 + (v.head_list ? 1 : 0)));
    if (impl.known_lists.size() - at > UINT16_MAX) {
      impl.known_lists.resize(at);
      return false;
    }
    count = static_cast<uint16_t>(impl.known_lists.size() - at);
    return true;
  };
  for (auto& head : impl.rules) {
    if (head->is_marker) continue;
    head->vars_listed = assign(head->vars);
    head->excludes = std::any_of(head->vars.begin(), head->vars.end(), [](const CompiledVar& v) { return v.exclude; });
    head->pin_values = needsPins(*head);
    head->keeps_matched_vars = !head->src || readsMatchedVars(*head->src);
    for (auto& l : head->chain) {
      l->vars_listed = assign(l->vars);
      l->excludes = std::any_of(l->vars.begin(), l->vars.end(), [](const CompiledVar& v) { return v.exclude; });
      l->pin_values = needsPins(*l);
    }
  }
  for (auto& g : impl.scans) g->vars_listed = assign(g->vars);
  impl.var_lists = ids.size();
  impl.header_list_slot.assign(impl.var_lists, -1);
  impl.header_list_ids.clear();
  // RAMPART_WAF_HEAD_MEMO=0: no request takes its header lists' masks from
  // an earlier one's (A/B measurements, tests).
  const char* hm = std::getenv("RAMPART_WAF_HEAD_MEMO");
  const bool head_memo = !(hm && std::string_view(hm) == "0");
  for (size_t id = 0; head_memo && id < impl.list_owner.size(); ++id) {
    const CompiledVar* v = impl.list_owner[id];
    using K = variables::Kind;
    if (!v || !v->head_list ||
        (v->kind != K::RequestHeaders && v->kind != K::RequestHeadersNames && v->kind != K::RequestCookies &&
         v->kind != K::RequestCookiesNames))
      continue;
    impl.header_list_slot[id] = static_cast<int16_t>(impl.header_list_ids.size());
    impl.header_list_ids.push_back(static_cast<uint16_t>(id));
  }
  // Only what the memo is asked of: links with a memo bit, and scan groups.
  for (auto& head : impl.rules) {
    if (head->is_marker) continue;
    if (head->vars_listed && (head->memo_bit >= 0 || head->keyed_bit >= 0))
      head->vars_listed = know(head->vars, head->known_at, head->known_count);
    for (auto& l : head->chain)
      if (l->vars_listed && l->memo_bit >= 0) l->vars_listed = know(l->vars, l->known_at, l->known_count);
  }
  for (auto& g : impl.scans)
    if (g->vars_listed) g->vars_listed = know(g->vars, g->known_at, g->known_count);
  // The questions a request set answers (Transaction::Impl::RequestSet):
  // those of phases 1 and 2 whose every list is the request's own.
  // RAMPART_WAF_REQUEST_MEMO=0: none (A/B measurements, tests).
  std::memset(impl.request_pure, 0, sizeof impl.request_pure);
  const char* rm = std::getenv("RAMPART_WAF_REQUEST_MEMO");
  if (!(rm && std::string_view(rm) == "0")) {
    uint64_t seen[2] = {}, impure[2] = {};
    auto question = [&](int phase, int kind, int bit, uint32_t at, uint16_t count) {
      const uint64_t b = uint64_t(1) << bit;
      bool pure = count > 0 && (phase == 1 || phase == 2) && !(seen[kind] & b);
      for (uint16_t k = 0; pure && k < count; ++k) {
        const CompiledVar* v = impl.list_owner[impl.known_lists[at + k] >> 1];
        pure = v && variables::fromRequest(v->kind);
      }
      seen[kind] |= b;
      if (pure) impl.request_pure[phase - 1][kind] |= b, impl.question_lists[kind][bit] = {at, count};
      else impure[kind] |= b;  // (a bit asked twice, or of another phase: none of its questions)
    };
    for (size_t gi = 0; gi < impl.scans.size() && gi < 64; ++gi) {
      const Impl::ScanGroup& g = *impl.scans[gi];
      if (g.memo && g.vars_listed) question(g.phase, 0, int(gi), g.known_at, g.known_count);
    }
    auto outcome = [&](int phase, const CompiledRule& l) {
      if (l.outcome_bit >= 0 && (phase == 1 || phase == 2))
        impl.request_pure[phase - 1][2] |= uint64_t(1) << l.outcome_bit;
    };
    for (auto& head : impl.rules) {
      if (head->is_marker) continue;
      if (head->vars_listed && head->memo_bit >= 0)
        question(head->phase, 1, head->memo_bit, head->known_at, head->known_count);
      if (head->vars_listed && head->keyed_bit >= 0)
        question(head->phase, 1, head->keyed_bit, head->known_at, head->known_count);
      outcome(head->phase, *head);
      for (auto& l : head->chain) {
        if (l->vars_listed && l->memo_bit >= 0) question(head->phase, 1, l->memo_bit, l->known_at, l->known_count);
        outcome(head->phase, *l);
      }
    }
    for (auto& phase : impl.request_pure)
      for (int kind = 0; kind < 2; ++kind) phase[kind] &= ~impure[kind];
  }
  // A request seen again has its phases 1 and 2 replayed where they can be
  // (Transaction::Impl::RequestReplay); RAMPART_WAF_REPLAY=0: never.
  const char* rp = std::getenv("RAMPART_WAF_REPLAY");
  impl.request_replay = !(rm && std::string_view(rm) == "0") && !(rp && std::string_view(rp) == "0");
  impl.request_sets = impl.request_replay;
  for (const auto& phase : impl.request_pure)
    for (uint64_t mask : phase) impl.request_sets |= mask != 0;
  impl.scan_hot.assign(impl.scans.size(), {});
  for (size_t gi = 0; gi < impl.scans.size(); ++gi) {
    const Impl::ScanGroup& g = *impl.scans[gi];
    impl.scan_hot[gi] = {static_cast<uint32_t>(g.hits_offset), static_cast<uint32_t>(g.db.size() + g.db_plain.size()),
                         g.known_at, g.known_count, g.memo, g.vars_listed};
  }
  for (auto* plans : {&impl.run_plans, &impl.short_plans})
    for (auto& plan : *plans) {
      plan.memo.assign(plan.steps.size(), {});
      for (size_t i = 0; i < plan.steps.size(); ++i) {
        auto& st = plan.steps[i];
        const CompiledRule* r = st.rule;
        if (!r || (st.flags & (Impl::RunStep::kMarker | Impl::RunStep::kPrecomputed | Impl::RunStep::kTxSim)) ||
            st.constant >= 0 || r->memo_bit < 0 || !r->vars_listed || r->scan_group >= 0)
          continue;
        st.flags |= Impl::RunStep::kMemo;
        plan.memo[i] = {r->known_at, r->known_count, r->memo_bit};
      }
      // Runs of entries one group's scan decides (markers between them pass too).
      for (size_t i = 0; i < plan.steps.size(); ++i) {
        auto& st = plan.steps[i];
        if (st.scan_group < 0 || (st.flags & Impl::RunStep::kMarker)) continue;
        size_t end = i + 1;
        while (end < plan.steps.size() && end - i < UINT16_MAX) {
          const auto& next = plan.steps[end];
          if (!(next.flags & Impl::RunStep::kMarker) && next.scan_group != st.scan_group) break;
          ++end;
        }
        st.run = static_cast<uint16_t>(end - i);
      }
    }
  impl.header_keys.assign(header_keys.size(), {});
  for (auto& [k, id] : header_keys) impl.header_keys[size_t(id)] = k;
  size_t table = 8;
  while (table < header_keys.size() * 4) table *= 2;
  impl.header_key_table.assign(header_keys.empty() ? 0 : table, 0);
  for (size_t id = 0; id < impl.header_keys.size(); ++id) {
    size_t at = Impl::headerKeyHash(impl.header_keys[id]) & (table - 1);
    while (impl.header_key_table[at] != 0) at = (at + 1) & (table - 1);
    impl.header_key_table[at] = static_cast<uint16_t>(id + 1);
  }
}

// CompiledRule::KeyedSet. 920450's chain otherwise builds a TX variable per
// header name and walks TX for them (~29k instructions of a warm GET's
// ~120k). After precomputeInit (its fixed operator arguments) and
// simulateTxPath; before assignMemoBits (which gives keyed_bit).
void Engine::recognizeKeyedSets(Impl& impl) {
  for (auto& r : impl.rules) {
    if (r->is_marker || !r->src || r->precomputed || r->constant >= 0 || r->tx_sim >= 0) continue;
    if (r->chain.size() != 1 || r->steps.size() != 1 || r->steps[0].kind != actions::Step::Kind::SetVar) continue;
    const CompiledRule& c = *r->chain[0];
    const actions::SetVar& sv = r->steps[0].setvar;
    if (sv.collection != "tx" || sv.op != actions::SetVar::Op::Set || !sv.key_macro || !capturesOnly(sv.key_text) ||
        (sv.value_macro && !capturesOnly(sv.value_text)))
      continue;
    const std::string prefix = toLower(std::string_view(sv.key).substr(0, sv.key.find("%{")));
    if (prefix.empty()) continue;
    // The head: @rx (a match captures at least TX:0) over request values.
    if (!r->op || r->op_name != "rx" || !r->capture || r->negated || r->multi_match || r->scan_group >= 0 ||
        operators::hasMacro(r->op_arg) || r->vars.empty() || readsMatchedVars(*r->src))
      continue;
    bool ok = true;
    for (const auto& v : r->vars) ok = ok && !v.count && (v.exclude || requestValueKind(v.kind));
    // The chain: TX:/^<prefix>/ alone, no transformation, a pure operator.
    ok = ok && c.vars.size() == 1 && c.vars[0].kind == variables::Kind::Tx && c.vars[0].selector_re &&
         !c.vars[0].exclude && !c.vars[0].count && c.vars[0].selector_re->onlyAnchoredLiteral() &&
         toLower(c.vars[0].selector_re->anchoredLiteral()) == prefix && c.tfns.empty() && c.op &&
         pureOperator(c.op_name) && !operators::hasMacro(c.op_arg) && !c.capture && !c.multi_match && !c.chained &&
         c.scan_group < 0;
    if (!ok) continue;
    // (An item not live is a key a replayed rule reads: found below as a reader.)
    impl.tx_init.forEachItem([&](size_t, const Collection::Item& it) {
      ok = ok && !(it.live && it.first.starts_with(prefix));
    });
    if (!ok) continue;
    auto ks = std::make_unique<CompiledRule::KeyedSet>();
    ks->prefix = prefix;
    ks->setvar = &sv;
    // Keys that may begin with the prefix: a key built from a literal start q.
    auto overlaps = [&](std::string_view q) { return q.starts_with(prefix) || std::string_view(prefix).starts_with(q); };
    auto readsKey = [&](const std::string& lkey) {
      if (lkey.empty()) ok = false;
      else if (lkey.starts_with(prefix)) ks->reader_keys.push_back(lkey);
    };
    std::function<void(const rules::Rule&)> macros = [&](const rules::Rule& src) {
      auto scan = [&](std::string_view text) {
        operators::splitMacros(
            text, [](std::string_view) {},
            [&](std::string_view coll, std::string_view key) {
              if (operators::isTxCollection(coll)) readsKey(toLower(key));
            });
      };
      scan(src.op.argument);
      for (const auto* list : {&src.actions, &src.default_actions})
        for (const auto& a : *list) scan(a.value);
      for (const auto& l : src.chain) macros(l);
    };
    for (const auto& other : impl.rules) {
      if (other->is_marker) continue;
      if (other->src) macros(*other->src);
      auto visit = [&](const CompiledRule& l) {
        for (const auto& v : l.vars) {
          if (v.kind != variables::Kind::Tx || v.exclude || &l == &c) continue;
          if (v.selector_re) {
            const std::string lit = toLower(v.selector_re->anchoredLiteral());
            if (lit.empty() || overlaps(lit)) ks->reader_res.push_back(v.selector_re);
          } else {
            readsKey(v.selector_lower);  // (TX or &TX whole: no shortcut)
          }
        }
        for (const auto& st : l.steps) {
          if (st.kind != actions::Step::Kind::SetVar || st.setvar.collection != "tx" || &st.setvar == &sv) continue;
          const auto& w = st.setvar;
          if (w.key_macro ? overlaps(toLower(std::string_view(w.key).substr(0, w.key.find("%{"))))
                          : w.key_lower.starts_with(prefix))
            ok = false;  // another writer: the chain would read its keys too
        }
      };
      visit(*other);
      for (const auto& l : other->chain) visit(*l);
    }
    if (ok) r->keyed = std::move(ks);
  }
}

CompileResult Engine::compile(const rules::RuleSet& ruleset) {
  CompileResult result;
  auto impl = std::make_unique<Impl>();
  impl->ruleset = ruleset;
  Compiler c{*impl, result.errors};
  c.compile();
  c.resolveRemovals();
  if (!ruleset.settings.audit_log_relevant_status.empty()) {
    std::string err;
    impl->relevant_status = match::Regex::compile(ruleset.settings.audit_log_relevant_status, {}, &err);
    if (!impl->relevant_status) {
      rules::Diagnostic d;
      d.message = "SecAuditLogRelevantStatus: " + err;
      result.errors.push_back(std::move(d));
    }
  }
  if (!result.errors.empty()) return result;
  auto engine = std::shared_ptr<Engine>(new Engine(std::move(impl)));
  // RAMPART_WAF_PREFILTER=0 turns the batched prefilter off (A/B measurements).
  const char* pf = std::getenv("RAMPART_WAF_PREFILTER");
  // RAMPART_WAF_FOLD_INIT=0 keeps the TX-only phase-1 rules per request (A/B).
  const char* fold = std::getenv("RAMPART_WAF_FOLD_INIT");
  // The plans (runPhase walks them) after the folded and constant rules, for
  // buildScans' probe request, and again with the scans.
  // RAMPART_WAF_TX_PATH=0 evaluates the TX-only rules on every request (A/B).
  const char* txp = std::getenv("RAMPART_WAF_TX_PATH");
  if (!(fold && std::string_view(fold) == "0")) precomputeInit(engine);
  buildPlans(*engine->impl_);
  if (!(txp && std::string_view(txp) == "0")) simulateTxPath(engine);
  if (!(pf && std::string_view(pf) == "0")) buildScans(engine);
  buildPlans(*engine->impl_);
  recognizeKeyedSets(*engine->impl_);
  assignMemoBits(*engine->impl_);
  prepareTargets(*engine->impl_);
  result.engine = std::move(engine);
  return result;
}

}  // namespace rampart::waf
