// The SecLang loader: directives, Include, and resolution into a RuleSet.
//
// Why it is one pass: ModSecurity v2 applies SecRuleRemove*, SecRuleUpdate* and
// SecDefaultAction to what has been read *so far*, so the loader keeps the rule
// list being built and applies each directive to it in file order.
//
// Directives (names are case-insensitive, like Apache's):
//
// Rules
//   SecRule VARIABLES OPERATOR [ACTIONS]   a rule; "chain" links the next SecRule to it.
//       SecRule ARGS|!ARGS:pwd "@rx (?i)union\s+select" "id:1001,phase:2,deny,t:lowercase"
//   SecAction ACTIONS                      a rule that always matches.
//       SecAction "id:900000,phase:1,pass,nolog,setvar:tx.paranoia_level=1"
//   SecMarker NAME                         a skipAfter target.   SecMarker "END-HOST-CHECK"
//   SecDefaultAction ACTIONS               defaults for later rules of the same phase
//       (must hold a disruptive action; no id/msg/rev/ver/skip/skipAfter).
//       SecDefaultAction "phase:2,log,auditlog,pass"
// Changing rules defined earlier (later rules are untouched, as in ModSecurity v2)
//   SecRuleRemoveById ID|FROM-TO...        SecRuleRemoveById 920350 "942000-942999"
//   SecRuleRemoveByTag REGEX               SecRuleRemoveByTag "attack-sqli"
//   SecRuleRemoveByMsg REGEX               SecRuleRemoveByMsg "^SQL"
//   SecRuleUpdateTargetById ID TARGETS [REPLACED]  appends targets/exclusions, or replaces one:
//       SecRuleUpdateTargetById 942100 "!ARGS:password"
//       SecRuleUpdateTargetById 958895 REQUEST_URI REQUEST_FILENAME
//   SecRuleUpdateTargetByTag REGEX TARGETS [REPLACED], SecRuleUpdateTargetByMsg REGEX TARGETS [REPLACED]
//   SecRuleUpdateActionById ID ACTIONS     merges actions (single-valued ones and the
//       disruptive action are replaced, others appended): SecRuleUpdateActionById 1 "deny,status:403"
// Files
//   Include PATH|GLOB                      relative to the including file; globs sorted;
//       nested at most 32 deep.  Include rules/*.conf     (IncludeOptional: no match is fine)
// Engine settings (EngineSettings fields)
//   SecRuleEngine On|Off|DetectionOnly, SecRequestBodyAccess On|Off,
//   SecRequestBodyLimit N, SecRequestBodyNoFilesLimit N, SecRequestBodyLimitAction
//   Reject|ProcessPartial, SecRequestBodyJsonDepthLimit N, SecArgumentsLimit N,
//   SecResponseBodyAccess On|Off, SecResponseBodyMimeType TYPE... (first use replaces the
//   default list, later uses add), SecResponseBodyMimeTypesClear, SecResponseBodyLimit N,
//   SecResponseBodyLimitAction Reject|ProcessPartial, SecPcreMatchLimit N,
//   SecPcreMatchLimitRecursion N, SecComponentSignature TEXT (accumulates),
//   SecArgumentSeparator C, SecAuditEngine On|Off|RelevantOnly, SecAuditLogParts ABIJDEFHZ,
//   SecAuditLogRelevantStatus REGEX, SecCookieFormat 0|1.
//       SecRequestBodyLimit 13107200
// Accepted and recorded in settings.other (name -> last value): see kOtherDirectives
//   (SecTmpDir, SecDataDir, SecAuditLog, SecDebugLog, SecUploadDir, SecStatusEngine...).
//       SecTmpDir /tmp/
#include "rules/parser.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <re2/re2.h>

#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>

#include "rules/lexer.h"
#include "rules/names.h"
#include "rules/rule_syntax.h"

namespace rampart::rules {

bool LoadResult::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; });
}

std::string format(const Diagnostic& d) {
  std::string s = d.loc.file;
  s += ':' + std::to_string(d.loc.line) + ':' + std::to_string(d.loc.column) + ": ";
  s += d.severity == Diagnostic::Severity::Error ? "error: " : "warning: ";
  s += d.message;
  return s;
}

namespace {

constexpr int kMaxIncludeDepth = 32;

std::string locString(const SourceLocation& l) {
  return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.column);
}

std::string dirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {};
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string joinPath(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir.back() == '/' ? dir + path : dir + "/" + path;
}

bool hasGlob(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

// Directives accepted and recorded in settings.other (canonical spelling).
constexpr std::string_view kOtherDirectives[] = {
    "SecTmpDir", "SecDataDir", "SecUnicodeMapFile", "SecUnicodeCodePage", "SecAuditLog",
    "SecAuditLog2", "SecAuditLogType", "SecAuditLogStorageDir", "SecAuditLogFormat",
    "SecAuditLogDirMode", "SecAuditLogFileMode", "SecDebugLog", "SecDebugLogLevel",
    "SecStatusEngine", "SecCollectionTimeout", "SecUploadDir", "SecUploadKeepFiles",
    "SecUploadFileLimit", "SecUploadFileMode", "SecTmpSaveUploadedFiles",
    "SecXmlExternalEntity", "SecRequestBodyInMemoryLimit", "SecServerSignature",
    "SecWebAppId", "SecHashEngine", "SecHashKey", "SecHashParam", "SecHashMethodRx",
    "SecHashMethodPm", "SecGeoLookupDb", "SecGsbLookupDb", "SecGuardianLog", "SecConnEngine",
    "SecContentInjection", "SecStreamInBodyInspection", "SecStreamOutBodyInspection",
    "SecDisableBackendCompression", "SecInterceptOnError", "SecRuleInheritance",
    "SecRulePerfTime", "SecSensorId", "SecReadStateLimit", "SecWriteStateLimit",
    "SecConnReadStateLimit", "SecConnWriteStateLimit", "SecChrootDir", "SecCacheTransformations",
    "SecHttpBlKey", "SecRemoteRulesFailAction",
};

// Which actions a chained (non-starter) rule may not carry (ModSecurity v2,
// msre_rule_create: "... can only be specified by chain starter rules").
bool forbiddenInChained(const std::string& name) {
  return name == "id" || name == "phase" || name == "rev" || name == "msg" || name == "tag" ||
         name == "severity" || name == "ver" || name == "accuracy" || name == "maturity" ||
         name == "logdata" || name == "skip" || name == "skipafter" ||
         actionKind(name) == ActionKind::Disruptive;
}

// Single-valued actions: a later one (SecRuleUpdateActionById) replaces the earlier one.
bool singleValued(const std::string& n) {
  return n == "id" || n == "phase" || n == "msg" || n == "logdata" || n == "severity" ||
         n == "rev" || n == "ver" || n == "maturity" || n == "accuracy" || n == "status" ||
         n == "skip" || n == "skipafter" || n == "capture" || n == "multimatch" ||
         n == "chain";
}

const Action* findAction(const std::vector<Action>& acts, std::string_view name) {
  for (const auto& a : acts)
    if (a.name == name) return &a;
  return nullptr;
}

struct IdRange {
  uint64_t lo, hi;
};

class Loader {
 public:
  explicit Loader(const ParseOptions& opts) : opts_(opts) {}

  void loadPathOrGlob(const std::string& spec, const std::string& base_dir, int depth,
                      const SourceLocation* from, bool optional);
  void loadText(std::string_view text, const std::string& filename, const std::string& dir, int depth);
  LoadResult finish();

 private:
  // Per-directive context.
  struct Ctx {
    const LogicalLine* line;
    const std::string* file;
    const std::string* dir;
    int depth;
    std::vector<Word> words;
    std::string name;  // directive as written
  };

  SourceLocation at(const Ctx& c, size_t offset) const {
    SourceLocation l;
    l.file = *c.file;
    c.line->position(offset, l.line, l.column);
    return l;
  }
  void diag(Diagnostic::Severity sev, SourceLocation loc, std::string msg) {
    res_.diagnostics.push_back({sev, std::move(loc), std::move(msg)});
  }
  void error(const Ctx& c, size_t offset, std::string msg) {
    diag(Diagnostic::Severity::Error, at(c, offset), std::move(msg));
  }
  void warning(const Ctx& c, size_t offset, std::string msg) {
    diag(Diagnostic::Severity::Warning, at(c, offset), std::move(msg));
  }
  // Reports syntax errors found inside argument `w`. Returns false when the
  // directive must be skipped (any error, or an unknown name).
  bool report(const Ctx& c, const Word& w, const std::vector<SyntaxError>& errs) {
    bool ok = true;
    for (const auto& e : errs) {
      size_t off = w.rawOffsetOf(e.offset);
      if (e.unknown_name && opts_.unknown_is_warning) {
        warning(c, off, e.message + "; statement skipped");
      } else {
        error(c, off, e.message);
      }
      ok = false;
    }
    return ok;
  }
  bool argCount(const Ctx& c, size_t min, size_t max) {
    size_t got = c.words.size() - 1;
    if (got >= min && got <= max) return true;
    std::string want = min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
    std::string msg = c.name + ": expected " + want + " argument" + (max == 1 ? "" : "s") + ", got " +
                      std::to_string(got);
    size_t off = got > max ? c.words[max + 1].raw_offset - (c.words[max + 1].quote ? 1 : 0)
                           : c.line->text.size();
    error(c, off, msg);
    return false;
  }
  size_t argStart(const Ctx& c, size_t i) const {
    const Word& w = c.words[i];
    return w.raw_offset - (w.quote ? 1 : 0);
  }

  void directive(Ctx& c);
  void ruleDirective(Ctx& c, Rule::Kind kind);
  void defaultAction(Ctx& c);
  void marker(Ctx& c);
  void removeById(Ctx& c);
  void removeByRegex(Ctx& c, bool by_tag);
  void updateTarget(Ctx& c, int by);  // 0 id, 1 tag, 2 msg
  void updateAction(Ctx& c);
  void include(Ctx& c, bool optional);
  bool setting(Ctx& c, const std::string& lname);

  bool parseIdRanges(Ctx& c, size_t first_arg, size_t last_arg, std::vector<IdRange>& out);
  bool compileRegex(Ctx& c, size_t arg, std::unique_ptr<re2::RE2>& re);
  bool onOff(Ctx& c, size_t arg, bool& out);
  bool number(Ctx& c, size_t arg, uint64_t& out);

  void closeChainWithError(const std::string& why_loc_file, const SourceLocation& where);
  void forgetId(const Rule& r) {
    if (r.id != 0) ids_.erase(r.id);
  }
  static void deriveFields(Rule& r);

  ParseOptions opts_;
  LoadResult res_;
  std::vector<Rule>& rules_ = res_.ruleset.rules;
  std::unordered_map<int64_t, SourceLocation> ids_;
  std::map<int, std::vector<Action>> defaults_;
  bool chain_open_ = false;
  bool skip_chain_ = false;  // the chain's head was rejected: drop the rest of it quietly
  size_t chain_head_ = 0;
  bool mime_types_set_ = false;
  std::vector<std::pair<std::string, SourceLocation>> skip_after_;  // target, where
};

void Loader::deriveFields(Rule& r) {
  r.id = 0;
  if (const Action* a = findAction(r.actions, "id")) {
    uint64_t v = 0;
    if (parseUnsigned(a->value, v)) r.id = static_cast<int64_t>(v);
  }
  r.phase = 2;
  if (const Action* a = findAction(r.actions, "phase")) {
    int p = parsePhase(a->value);
    if (p) r.phase = p;
  }
  for (auto& c : r.chain) c.phase = r.phase;
}

void Loader::loadPathOrGlob(const std::string& spec, const std::string& base_dir, int depth,
                            const SourceLocation* from, bool optional) {
  auto fail = [&](std::string msg) {
    SourceLocation l = from ? *from : SourceLocation{spec, 0, 0};
    diag(Diagnostic::Severity::Error, l, std::move(msg));
  };
  if (depth > kMaxIncludeDepth) {
    fail("Include nested more than " + std::to_string(kMaxIncludeDepth) +
         " levels deep (recursive Include?) at '" + spec + "'");
    return;
  }
  std::string full = joinPath(base_dir, spec);
  std::vector<std::string> files;
  if (hasGlob(full)) {
    glob_t g{};
    int rc = glob(full.c_str(), 0, nullptr, &g);  // sorted by glob(3)
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (files.empty()) {
      if (!optional) fail("no file matches '" + full + "'");
      return;
    }
  } else {
    files.push_back(full);
  }
  for (const auto& f : files) {
    struct stat st {};
    if (stat(f.c_str(), &st) != 0) {
      if (!optional) fail("cannot open '" + f + "': no such file");
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (hasGlob(full)) continue;  // a glob may match directories: skip them
      fail("'" + f + "' is a directory, expected a file or a glob such as '" + f + "/*.conf'");
      continue;
    }
    if (!S_ISREG(st.st_mode)) {  // a FIFO or /dev/zero would never end
      fail("'" + f + "' is not a regular file");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      fail("cannot read '" + f + "'");
      continue;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    loadText(ss.str(), f, dirName(f), depth);
  }
}

void Loader::loadText(std::string_view text, const std::string& filename, const std::string& dir,
                      int depth) {
  std::vector<LogicalLine> lines = splitLogicalLines(text);
  for (const auto& line : lines) {
    Ctx c{&line, &filename, &dir, depth, splitWords(line.text), {}};
    if (c.words.empty()) continue;
    c.name = c.words[0].value;
    bool bad = false;
    for (const auto& w : c.words) {
      if (w.unterminated) {
        error(c, w.raw_offset - 1,
              std::string("expected '") + w.quote + "' to close the argument opened here");
        bad = true;
      }
    }
    if (bad) continue;
    directive(c);
  }
  if (chain_open_) {
    const Rule& head = rules_[chain_head_];
    diag(Diagnostic::Severity::Error, head.chain.empty() ? head.loc : head.chain.back().loc,
         "the last rule of the chain says 'chain' but no rule follows it before the end of '" +
             filename + "'");
    chain_open_ = false;
  }
  skip_chain_ = false;
}

void Loader::closeChainWithError(const std::string& directive, const SourceLocation& where) {
  const Rule& head = rules_[chain_head_];
  const SourceLocation& last = head.chain.empty() ? head.loc : head.chain.back().loc;
  diag(Diagnostic::Severity::Error, where,
       "expected a SecRule to continue the chain of the rule at " + locString(last) + ", got " +
           directive);
  chain_open_ = false;
}

void Loader::directive(Ctx& c) {
  std::string l = toLower(c.name);
  if (chain_open_ && l != "secrule" && l != "secaction") closeChainWithError(c.name, at(c, argStart(c, 0)));
  if (l != "secrule" && l != "secaction") skip_chain_ = false;
  if (l == "secrule") return ruleDirective(c, Rule::Kind::SecRule);
  if (l == "secaction") return ruleDirective(c, Rule::Kind::SecAction);
  if (l == "secmarker") return marker(c);
  if (l == "secdefaultaction") return defaultAction(c);
  if (l == "secruleremovebyid") return removeById(c);
  if (l == "secruleremovebytag") return removeByRegex(c, true);
  if (l == "secruleremovebymsg") return removeByRegex(c, false);
  if (l == "secruleupdatetargetbyid") return updateTarget(c, 0);
  if (l == "secruleupdatetargetbytag") return updateTarget(c, 1);
  if (l == "secruleupdatetargetbymsg") return updateTarget(c, 2);
  if (l == "secruleupdateactionbyid") return updateAction(c);
  if (l == "include") return include(c, false);
  if (l == "includeoptional") return include(c, true);
  if (setting(c, l)) return;
  for (auto name : kOtherDirectives) {
    if (iequals(name, c.name)) {
      if (!argCount(c, 1, 16)) return;
      std::string v;
      for (size_t i = 1; i < c.words.size(); ++i) v += (i > 1 ? " " : "") + c.words[i].value;
      res_.ruleset.settings.other[std::string(name)] = v;
      return;
    }
  }
  std::string msg = "unknown directive '" + c.name + "'";
  if (l == "secrulescript") msg = "SecRuleScript (Lua) is not supported";
  if (opts_.unknown_is_warning)
    warning(c, argStart(c, 0), msg + "; statement skipped");
  else
    error(c, argStart(c, 0), msg);
}

bool Loader::onOff(Ctx& c, size_t i, bool& out) {
  const std::string& v = c.words[i].value;
  if (iequals(v, "On")) out = true;
  else if (iequals(v, "Off")) out = false;
  else {
    error(c, argStart(c, i), c.name + ": expected On or Off, got '" + v + "'");
    return false;
  }
  return true;
}

bool Loader::number(Ctx& c, size_t i, uint64_t& out) {
  if (parseUnsigned(c.words[i].value, out)) return true;
  error(c, argStart(c, i), c.name + ": expected a number, got '" + c.words[i].value + "'");
  return false;
}

bool Loader::setting(Ctx& c, const std::string& l) {
  EngineSettings& s = res_.ruleset.settings;
  auto one = [&]() { return argCount(c, 1, 1); };
  uint64_t n = 0;
  bool b = false;
  if (l == "secruleengine") {
    if (!one()) return true;
    const std::string& v = c.words[1].value;
    if (iequals(v, "On")) s.rule_engine = EngineSettings::RuleEngine::On;
    else if (iequals(v, "Off")) s.rule_engine = EngineSettings::RuleEngine::Off;
    else if (iequals(v, "DetectionOnly")) s.rule_engine = EngineSettings::RuleEngine::DetectionOnly;
    else error(c, argStart(c, 1), "SecRuleEngine: expected On, Off or DetectionOnly, got '" + v + "'");
  } else if (l == "secrequestbodyaccess") {
    if (one() && onOff(c, 1, b)) s.request_body_access = b;
  } else if (l == "secresponsebodyaccess") {
    if (one() && onOff(c, 1, b)) s.response_body_access = b;
  } else if (l == "secrequestbodylimit") {
    if (one() && number(c, 1, n)) s.request_body_limit = n;
  } else if (l == "secrequestbodynofileslimit") {
    if (one() && number(c, 1, n)) s.request_body_no_files_limit = n;
  } else if (l == "secresponsebodylimit") {
    if (one() && number(c, 1, n)) s.response_body_limit = n;
  } else if (l == "secrequestbodyjsondepthlimit") {
    if (one() && number(c, 1, n)) s.request_body_json_depth_limit = static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
  } else if (l == "secargumentslimit") {
    if (one() && number(c, 1, n)) s.arguments_limit = static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
  } else if (l == "secpcrematchlimit") {
    if (one() && number(c, 1, n)) s.pcre_match_limit = n;
  } else if (l == "secpcrematchlimitrecursion") {
    if (one() && number(c, 1, n)) s.pcre_match_limit_recursion = n;
  } else if (l == "secrequestbodylimitaction" || l == "secresponsebodylimitaction") {
    if (!one()) return true;
    const std::string& v = c.words[1].value;
    bool reject;
    if (iequals(v, "Reject")) reject = true;
    else if (iequals(v, "ProcessPartial")) reject = false;
    else {
      error(c, argStart(c, 1), c.name + ": expected Reject or ProcessPartial, got '" + v + "'");
      return true;
    }
    (l == "secrequestbodylimitaction" ? s.request_body_limit_reject : s.response_body_limit_reject) = reject;
  } else if (l == "secresponsebodymimetype") {
    if (!argCount(c, 1, 64)) return true;
    if (!mime_types_set_) s.response_body_mime_types.clear();
    mime_types_set_ = true;
    for (size_t i = 1; i < c.words.size(); ++i) {
      std::istringstream in(c.words[i].value);  // a quoted argument may hold several types
      std::string t;
      while (in >> t) {
        t = toLower(t);
        if (std::find(s.response_body_mime_types.begin(), s.response_body_mime_types.end(), t) ==
            s.response_body_mime_types.end())
          s.response_body_mime_types.push_back(t);
      }
    }
  } else if (l == "secresponsebodymimetypesclear") {
    if (!argCount(c, 0, 0)) return true;
    s.response_body_mime_types.clear();
    mime_types_set_ = true;
  } else if (l == "seccomponentsignature") {
    if (one()) s.component_signatures.push_back(c.words[1].value);
  } else if (l == "secargumentseparator") {
    if (!one()) return true;
    if (c.words[1].value.size() != 1)
      error(c, argStart(c, 1), "SecArgumentSeparator: expected a single character, got '" + c.words[1].value + "'");
    else
      s.argument_separator = c.words[1].value[0];
  } else if (l == "secauditengine") {
    if (!one()) return true;
    const std::string& v = c.words[1].value;
    if (iequals(v, "On")) s.audit_engine = "On";
    else if (iequals(v, "Off")) s.audit_engine = "Off";
    else if (iequals(v, "RelevantOnly")) s.audit_engine = "RelevantOnly";
    else error(c, argStart(c, 1), "SecAuditEngine: expected On, Off or RelevantOnly, got '" + v + "'");
  } else if (l == "secauditlogparts") {
    if (!one()) return true;
    const std::string& v = c.words[1].value;
    size_t bad = v.find_first_not_of("ABCDEFGHIJKZ");
    if (v.empty() || bad != std::string::npos)
      error(c, c.words[1].rawOffsetOf(v.empty() ? 0 : bad),
            "SecAuditLogParts: expected letters from ABCDEFGHIJKZ, got '" + v + "'");
    else
      s.audit_log_parts = v;
  } else if (l == "secauditlogrelevantstatus") {
    // A PCRE pattern used by audit logging only: recorded, not compiled here.
    if (one()) s.audit_log_relevant_status = c.words[1].value;
  } else if (l == "seccookieformat") {
    if (!one()) return true;
    if (c.words[1].value != "0" && c.words[1].value != "1")
      error(c, argStart(c, 1), "SecCookieFormat: expected 0 or 1, got '" + c.words[1].value + "'");
    else
      s.cookie_format = c.words[1].value;
  } else {
    return false;
  }
  return true;
}

void Loader::ruleDirective(Ctx& c, Rule::Kind kind) {
  Rule r;
  r.kind = kind;
  r.loc = at(c, argStart(c, 0));
  size_t actions_arg = 0;
  if (!argCount(c, kind == Rule::Kind::SecRule ? 2 : 1, kind == Rule::Kind::SecRule ? 3 : 1)) {
    chain_open_ = skip_chain_ = false;
    return;
  }
  bool ok = true;
  std::vector<SyntaxError> errs;
  if (kind == Rule::Kind::SecRule) {
    parseVariables(c.words[1].value, r.variables, errs);
    ok = report(c, c.words[1], errs);
    errs.clear();
    parseOperator(c.words[2].value, r.op, errs);
    ok = report(c, c.words[2], errs) && ok;
    errs.clear();
    if (c.words.size() > 3) actions_arg = 3;
  } else {
    r.op = Operator{"unconditionalmatch", "", false};
    actions_arg = 1;
  }
  std::vector<ActionSpan> spans;
  if (actions_arg) {
    parseActions(c.words[actions_arg].value, r.actions, spans, errs);
    ok = report(c, c.words[actions_arg], errs) && ok;
  }
  if (!ok) {
    // A broken rule: if it says 'chain', the rest of its chain is dropped quietly
    // instead of being reported as rules without an id. A broken link drops the
    // whole chain: a chain with a link missing would match more than written.
    if (chain_open_) {
      diag(Diagnostic::Severity::Warning, rules_[chain_head_].loc,
           "the chain starting here is skipped because one of its rules is invalid");
      forgetId(rules_[chain_head_]);
      rules_.erase(rules_.begin() + static_cast<std::ptrdiff_t>(chain_head_));
    }
    chain_open_ = false;
    skip_chain_ = findAction(r.actions, "chain") != nullptr;
    return;
  }
  auto actionLoc = [&](size_t idx, bool value) {
    const ActionSpan& sp = spans[idx];
    return at(c, c.words[actions_arg].rawOffsetOf(value ? sp.value_offset : sp.name_offset));
  };
  bool says_chain = findAction(r.actions, "chain") != nullptr;

  if (skip_chain_) {  // rest of a chain whose head was rejected
    skip_chain_ = says_chain;
    return;
  }

  if (chain_open_) {
    Rule& head = rules_[chain_head_];
    bool ok = true;
    for (size_t i = 0; i < r.actions.size(); ++i) {
      if (forbiddenInChained(r.actions[i].name)) {
        diag(Diagnostic::Severity::Error, actionLoc(i, false),
             "action '" + r.actions[i].name +
                 "' is only allowed on the first rule of a chain (chain started at " +
                 locString(head.loc) + ")");
        ok = false;
      }
    }
    r.phase = head.phase;
    r.id = 0;
    auto d = defaults_.find(head.phase);
    if (d != defaults_.end()) r.default_actions = d->second;
    if (ok) head.chain.push_back(std::move(r));
    chain_open_ = says_chain;
    return;
  }

  // A chain starter or a standalone rule.
  const Action* id = findAction(r.actions, "id");
  if (!id) {
    error(c, argStart(c, actions_arg),
          std::string(kind == Rule::Kind::SecRule ? "SecRule" : "SecAction") +
              " has no 'id' action (ModSecurity requires one on every rule)");
    skip_chain_ = says_chain;
    return;
  }
  deriveFields(r);
  bool seen_id = false;
  for (size_t i = 0; i < r.actions.size(); ++i) {
    if (r.actions[i].name == "id" && seen_id) {
      diag(Diagnostic::Severity::Error, actionLoc(i, false), "action 'id' given more than once");
      skip_chain_ = says_chain;
      return;
    }
    if (r.actions[i].name == "id") {
      seen_id = true;
      auto it = ids_.find(r.id);
      if (it != ids_.end()) {
        diag(Diagnostic::Severity::Error, actionLoc(i, true),
             "duplicate rule id " + std::to_string(r.id) + " (first defined at " +
                 locString(it->second) + ")");
        skip_chain_ = says_chain;
        return;
      }
      ids_.emplace(r.id, r.loc);
    }
    if (r.actions[i].name == "skipafter") skip_after_.emplace_back(r.actions[i].value, actionLoc(i, true));
  }
  auto d = defaults_.find(r.phase);
  if (d != defaults_.end()) r.default_actions = d->second;
  rules_.push_back(std::move(r));
  if (says_chain) {
    chain_open_ = true;
    chain_head_ = rules_.size() - 1;
  }
}

void Loader::defaultAction(Ctx& c) {
  if (!argCount(c, 1, 1)) return;
  std::vector<Action> acts;
  std::vector<ActionSpan> spans;
  std::vector<SyntaxError> errs;
  parseActions(c.words[1].value, acts, spans, errs);
  if (!report(c, c.words[1], errs)) return;
  bool ok = true, disruptive = false;
  int phase = 2;
  for (size_t i = 0; i < acts.size(); ++i) {
    const auto& a = acts[i];
    auto kind = actionKind(a.name);
    size_t off = c.words[1].rawOffsetOf(spans[i].name_offset);
    if (kind == ActionKind::Disruptive) disruptive = true;
    if (a.name == "phase") phase = parsePhase(a.value);
    // ModSecurity v2 (cmd_default_action): metadata and flow actions are refused,
    // severity/logdata only warned about, tag allowed (CRS's examples use it).
    if (a.name == "id" || a.name == "rev" || a.name == "msg" || a.name == "ver" ||
        a.name == "maturity" || a.name == "accuracy" || a.name == "chain" || a.name == "skip" ||
        a.name == "skipafter") {
      error(c, off, "SecDefaultAction must not contain '" + a.name + "'");
      ok = false;
    } else if (a.name == "severity" || a.name == "logdata") {
      warning(c, off, "'" + a.name + "' in SecDefaultAction is deprecated (ModSecurity v2 warns too)");
    }
  }
  if (!disruptive) {
    error(c, argStart(c, 1),
          "SecDefaultAction must specify a disruptive action (pass, block, deny, drop, allow, redirect...)");
    ok = false;
  }
  if (ok) defaults_[phase] = std::move(acts);
}

void Loader::marker(Ctx& c) {
  if (!argCount(c, 1, 1)) return;
  const std::string& name = c.words[1].value;
  if (name.empty() || name.find_first_of(" \t") != std::string::npos) {
    error(c, argStart(c, 1), "SecMarker: expected a marker name without blanks, got '" + name + "'");
    return;
  }
  Rule r;
  r.kind = Rule::Kind::SecMarker;
  r.loc = at(c, argStart(c, 0));
  r.marker = name;
  r.op = Operator{"unconditionalmatch", "", false};
  rules_.push_back(std::move(r));
}

bool Loader::parseIdRanges(Ctx& c, size_t first, size_t last, std::vector<IdRange>& out) {
  bool ok = true;
  for (size_t i = first; i <= last && i < c.words.size(); ++i) {
    const std::string& v = c.words[i].value;
    size_t p = 0;
    while (p < v.size()) {
      while (p < v.size() && (v[p] == ' ' || v[p] == '\t' || v[p] == ',')) ++p;
      if (p >= v.size()) break;
      size_t q = p;
      while (q < v.size() && v[q] != ' ' && v[q] != '\t' && v[q] != ',') ++q;
      std::string tok = v.substr(p, q - p);
      size_t dash = tok.find('-', 1);
      uint64_t lo = 0, hi = 0;
      bool good = dash == std::string::npos
                      ? parseUnsigned(tok, lo) && (hi = lo, true)
                      : parseUnsigned(tok.substr(0, dash), lo) && parseUnsigned(tok.substr(dash + 1), hi) && lo <= hi;
      if (!good) {
        error(c, c.words[i].rawOffsetOf(p),
              c.name + ": expected a rule id or a range such as 1000-1999, got '" + tok + "'");
        ok = false;
      } else {
        out.push_back({lo, hi});
      }
      p = q;
    }
  }
  if (out.empty() && ok) {
    error(c, c.line->text.size(), c.name + ": expected at least one rule id");
    ok = false;
  }
  return ok;
}

bool Loader::compileRegex(Ctx& c, size_t arg, std::unique_ptr<re2::RE2>& re) {
  // RE2: linear-time matching, and no recursion in the compiler that a long or
  // deeply nested pattern could overflow (std::regex did, found by fuzz_seclang).
  const std::string& pattern = c.words[arg].value;
  if (pattern.size() > 4096) {
    error(c, argStart(c, arg), c.name + ": regular expression too long (at most 4096 characters)");
    return false;
  }
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(8 << 20);
  re = std::make_unique<re2::RE2>(pattern, opts);
  if (!re->ok()) {
    error(c, argStart(c, arg), c.name + ": invalid regular expression '" + pattern + "': " + re->error());
    re.reset();
    return false;
  }
  return true;
}

void Loader::removeById(Ctx& c) {
  if (!argCount(c, 1, 1024)) return;
  std::vector<IdRange> ranges;
  if (!parseIdRanges(c, 1, c.words.size() - 1, ranges)) return;
  std::erase_if(rules_, [&](const Rule& r) {
    if (r.id == 0) return false;
    for (const auto& rg : ranges) {
      if (static_cast<uint64_t>(r.id) >= rg.lo && static_cast<uint64_t>(r.id) <= rg.hi) {
        forgetId(r);
        return true;
      }
    }
    return false;
  });
}

namespace {
bool anyActionMatches(const Rule& r, std::string_view action, const re2::RE2& re) {
  for (const auto& a : r.actions)
    if (a.name == action && re2::RE2::PartialMatch(a.value, re)) return true;
  return false;
}
}  // namespace

void Loader::removeByRegex(Ctx& c, bool by_tag) {
  if (!argCount(c, 1, 1)) return;
  std::unique_ptr<re2::RE2> re;
  if (!compileRegex(c, 1, re)) return;
  std::erase_if(rules_, [&](const Rule& r) {
    if (r.kind == Rule::Kind::SecMarker) return false;
    if (anyActionMatches(r, by_tag ? "tag" : "msg", *re)) {
      forgetId(r);
      return true;
    }
    return false;
  });
}

void Loader::updateTarget(Ctx& c, int by) {
  if (!argCount(c, 2, 3)) return;
  std::vector<IdRange> ranges;
  std::unique_ptr<re2::RE2> re;
  if (by == 0) {
    if (!parseIdRanges(c, 1, 1, ranges)) return;
  } else if (!compileRegex(c, 1, re)) {
    return;
  }
  std::vector<Variable> add, replaced;
  std::vector<SyntaxError> errs;
  parseVariables(c.words[2].value, add, errs);
  if (!report(c, c.words[2], errs)) return;
  if (c.words.size() > 3) {
    parseVariables(c.words[3].value, replaced, errs);
    if (!report(c, c.words[3], errs)) return;
    if (replaced.size() != 1) {
      error(c, argStart(c, 3), c.name + ": expected exactly one target to replace");
      return;
    }
  }
  bool any = false;
  for (auto& r : rules_) {
    if (r.kind != Rule::Kind::SecRule) continue;
    bool match = false;
    if (by == 0) {
      for (const auto& rg : ranges)
        match = match || (r.id != 0 && static_cast<uint64_t>(r.id) >= rg.lo && static_cast<uint64_t>(r.id) <= rg.hi);
    } else {
      match = anyActionMatches(r, by == 1 ? "tag" : "msg", *re);
    }
    if (!match) continue;
    any = true;
    if (!replaced.empty()) {
      auto it = std::find(r.variables.begin(), r.variables.end(), replaced[0]);
      if (it == r.variables.end()) {
        warning(c, argStart(c, 3), c.name + ": rule " + std::to_string(r.id) + " has no target '" +
                                       c.words[3].value + "' to replace");
        continue;
      }
      it = r.variables.erase(it);
      for (const auto& v : add) {
        if (std::find(r.variables.begin(), r.variables.end(), v) != r.variables.end()) continue;
        it = r.variables.insert(it, v) + 1;
      }
      continue;
    }
    for (const auto& v : add)
      if (std::find(r.variables.begin(), r.variables.end(), v) == r.variables.end()) r.variables.push_back(v);
  }
  if (!any && by == 0)
    warning(c, argStart(c, 1), c.name + ": no rule with id " + c.words[1].value + " is defined before this directive");
}

void Loader::updateAction(Ctx& c) {
  if (!argCount(c, 2, 2)) return;
  std::vector<IdRange> ranges;
  if (!parseIdRanges(c, 1, 1, ranges)) return;
  std::vector<Action> acts;
  std::vector<ActionSpan> spans;
  std::vector<SyntaxError> errs;
  parseActions(c.words[2].value, acts, spans, errs);
  if (!report(c, c.words[2], errs)) return;
  for (size_t i = 0; i < acts.size(); ++i) {
    if (acts[i].name == "id" || acts[i].name == "chain") {
      error(c, c.words[2].rawOffsetOf(spans[i].name_offset),
            c.name + ": cannot change '" + acts[i].name + "' of a rule");
      return;
    }
  }
  bool any = false;
  for (auto& r : rules_) {
    if (r.id == 0) continue;
    bool match = false;
    for (const auto& rg : ranges)
      match = match || (static_cast<uint64_t>(r.id) >= rg.lo && static_cast<uint64_t>(r.id) <= rg.hi);
    if (!match) continue;
    any = true;
    for (const auto& a : acts) {
      auto kind = actionKind(a.name);
      auto same = [&](const Action& old) {
        if (kind == ActionKind::Disruptive) return actionKind(old.name) == ActionKind::Disruptive;
        if (a.name == "log" || a.name == "nolog") return old.name == "log" || old.name == "nolog";
        if (a.name == "auditlog" || a.name == "noauditlog")
          return old.name == "auditlog" || old.name == "noauditlog";
        return singleValued(a.name) && old.name == a.name;
      };
      auto it = std::find_if(r.actions.begin(), r.actions.end(), same);
      if (it != r.actions.end()) {
        *it = a;
        // drop any further duplicates of a single-valued action
        r.actions.erase(std::remove_if(it + 1, r.actions.end(), same), r.actions.end());
      } else {
        r.actions.push_back(a);
      }
    }
    deriveFields(r);
  }
  if (!any)
    warning(c, argStart(c, 1), c.name + ": no rule with id " + c.words[1].value + " is defined before this directive");
}

void Loader::include(Ctx& c, bool optional) {
  if (!argCount(c, 1, 1)) return;
  SourceLocation from = at(c, argStart(c, 1));
  loadPathOrGlob(c.words[1].value, *c.dir, c.depth + 1, &from, optional);
}

LoadResult Loader::finish() {
  std::set<std::string> targets;
  for (const auto& r : rules_) {
    if (r.kind == Rule::Kind::SecMarker) targets.insert(r.marker);
    if (r.id) targets.insert(std::to_string(r.id));
  }
  for (const auto& [t, loc] : skip_after_)
    if (!targets.count(t))
      diag(Diagnostic::Severity::Warning, loc, "skipAfter target '" + t + "' is never defined (no SecMarker or rule id)");
  return std::move(res_);
}

}  // namespace

LoadResult loadSources(const std::vector<Source>& sources, const ParseOptions& opts) {
  Loader l(opts);
  for (const auto& s : sources) {
    if (s.kind == Source::Kind::File)
      l.loadPathOrGlob(s.path_or_name, opts.base_dir, 0, nullptr, false);
    else
      l.loadText(s.text, s.path_or_name, opts.base_dir, 0);
  }
  return l.finish();
}

LoadResult loadFiles(const std::vector<std::string>& paths_or_globs, const ParseOptions& opts) {
  std::vector<Source> sources;
  for (const auto& p : paths_or_globs) sources.push_back({Source::Kind::File, p, {}});
  return loadSources(sources, opts);
}

LoadResult loadString(std::string_view text, std::string_view filename, const ParseOptions& opts) {
  return loadSources({{Source::Kind::Text, std::string(filename), std::string(text)}}, opts);
}

}  // namespace rampart::rules
