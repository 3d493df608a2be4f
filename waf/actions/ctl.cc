// ctl:NAME=VALUE changes the configuration of the running transaction only:
//   ctl:ruleEngine=Off|On|DetectionOnly
//   ctl:ruleRemoveById=920100 | 1-99,942100   (rules evaluated after this one)
//   ctl:ruleRemoveByTag=attack-sqli | ruleRemoveByMsg=REGEX
//   ctl:ruleRemoveTargetById=942100;ARGS:password   ruleRemoveTargetByTag=TAG;ARGS:/^pw/
//   ctl:requestBodyProcessor=JSON|XML|URLENCODED|MULTIPART
//   ctl:forceRequestBodyVariable=On   ctl:requestBodyAccess=Off   ctl:responseBodyAccess=On
//   ctl:auditEngine=Off|On|RelevantOnly   ctl:auditLogParts=+E
// Others (debugLogLevel, hashEngine...) are accepted and ignored.
#include "waf/actions/actions.h"
#include "waf/transaction_impl.h"

namespace rampart::waf {

namespace actions {

bool idInRanges(int64_t id, const std::vector<IdRange>& ranges) {
  for (auto& r : ranges)
    if (id >= r.lo && id <= r.hi) return true;
  return false;
}

namespace {

bool parseIds(std::string_view s, std::vector<IdRange>* out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != ',') ++i;
    if (i == b) break;
    std::string item(s.substr(b, i - b));
    auto dash = item.find('-', 1);
    IdRange r;
    char* end = nullptr;
    r.lo = strtoll(item.c_str(), &end, 10);
    if (dash != std::string::npos) {
      r.hi = strtoll(item.c_str() + dash + 1, &end, 10);
    } else {
      r.hi = r.lo;
    }
    if (*end != '\0' && dash == std::string::npos) return false;
    out->push_back(r);
  }
  return !out->empty();
}

}  // namespace

bool parseTargetSpec(std::string_view text, TargetSpec* out, std::string* error) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto colon = text.find(':');
  std::string name(text.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out->name = name;
  if (colon == std::string_view::npos) return true;
  std::string_view sel = text.substr(colon + 1);
  if (sel.size() >= 2 && sel.front() == '/' && sel.back() == '/') {
    match::RegexOptions o;
    o.caseless = true;
    auto re = match::Regex::compile(sel.substr(1, sel.size() - 2), o, error);
    if (!re) return false;
    out->selector_re = std::move(re);
  } else {
    if (sel.size() >= 2 && sel.front() == '\'' && sel.back() == '\'') sel = sel.substr(1, sel.size() - 2);
    out->selector = toLower(sel);
  }
  return true;
}

bool parseCtl(const std::string& raw, Ctl* out, std::string* error) {
  auto eq = raw.find('=');
  if (eq == std::string::npos) {
    if (error) *error = "ctl: expected NAME=VALUE in '" + raw + "'";
    return false;
  }
  std::string name = toLower(raw.substr(0, eq));
  out->value = raw.substr(eq + 1);
  const std::string& v = out->value;
  auto regexOf = [&](std::string_view s) -> bool {
    match::RegexOptions o;
    out->re = match::Regex::compile(s, o, error);
    return out->re != nullptr;
  };
  using K = Ctl::Kind;
  if (name == "ruleengine") out->kind = K::RuleEngine;
  else if (name == "ruleremovebyid") {
    out->kind = K::RuleRemoveById;
    if (!parseIds(v, &out->ids)) {
      if (error) *error = "ctl:ruleRemoveById: bad id list '" + v + "'";
      return false;
    }
  } else if (name == "ruleremovebytag") {
    out->kind = K::RuleRemoveByTag;
    return regexOf(v);
  } else if (name == "ruleremovebymsg") {
    out->kind = K::RuleRemoveByMsg;
    return regexOf(v);
  } else if (name == "ruleremovetargetbyid" || name == "ruleremovetargetbytag" || name == "ruleremovetargetbymsg") {
    auto semi = v.find(';');
    if (semi == std::string::npos) {
      if (error) *error = "ctl:" + raw.substr(0, eq) + ": expected RULE;TARGET";
      return false;
    }
    std::string who = v.substr(0, semi);
    if (!parseTargetSpec(std::string_view(v).substr(semi + 1), &out->target, error)) return false;
    if (name == "ruleremovetargetbyid") {
      out->kind = K::RuleRemoveTargetById;
      if (!parseIds(who, &out->ids)) {
        if (error) *error = "ctl:ruleRemoveTargetById: bad id '" + who + "'";
        return false;
      }
    } else {
      out->kind = name == "ruleremovetargetbytag" ? K::RuleRemoveTargetByTag : K::RuleRemoveTargetByMsg;
      return regexOf(who);
    }
  } else if (name == "requestbodyprocessor") out->kind = K::RequestBodyProcessor;
  else if (name == "forcerequestbodyvariable") out->kind = K::ForceRequestBodyVariable;
  else if (name == "requestbodyaccess") out->kind = K::RequestBodyAccess;
  else if (name == "responsebodyaccess") out->kind = K::ResponseBodyAccess;
  else if (name == "auditengine") out->kind = K::AuditEngine;
  else if (name == "auditlogparts") out->kind = K::AuditLogParts;
  else if (name == "requestbodylimit") out->kind = K::RequestBodyLimit;
  else out->kind = K::Ignored;
  return true;
}

}  // namespace actions

void Transaction::Impl::runCtl(const actions::Ctl& c, const CompiledRule& rule) {
  using K = actions::Ctl::Kind;
  // What the variables hold changes with the body's processing and
  // forceRequestBodyVariable: values are gathered and scanned again. The other
  // ctls leave them as they are (a removed target is left out by the links
  // that read it; the scans ask more than it, never less). CRS 941010 removes
  // a target on most requests.
  if (c.kind == K::RequestBodyProcessor || c.kind == K::ForceRequestBodyVariable || c.kind == K::RequestBodyAccess) {
    resetScans();
    if (req_keyed) requestBodyCtl(current_phase);
  }
  auto on = [&](std::string_view v) { return iequals(v, "on") || iequals(v, "1") || iequals(v, "true"); };
  switch (c.kind) {
    case K::RuleEngine:
      if (iequals(c.value, "off")) mode = rules::EngineSettings::RuleEngine::Off;
      else if (iequals(c.value, "detectiononly")) mode = rules::EngineSettings::RuleEngine::DetectionOnly;
      else if (iequals(c.value, "on")) mode = rules::EngineSettings::RuleEngine::On;
      break;
    case K::RuleRemoveById:
      removed_ids.insert(removed_ids.end(), c.ids.begin(), c.ids.end());
      rules_removed = true;
      break;
    case K::RuleRemoveByTag:
      removed_tags.push_back(&c);
      rules_removed = true;
      break;
    case K::RuleRemoveByMsg:
      removed_msgs.push_back(&c);
      rules_removed = true;
      break;
    case K::RuleRemoveTargetById:
    case K::RuleRemoveTargetByTag:
    case K::RuleRemoveTargetByMsg:
      if (c.target.name == "TX") {
        tx_target_removed = true;  // (constant rules read TX only)
        tx_path = false;           // (and the replayed ones)
      }
      removed_targets.push_back(&c);
      break;
    case K::RequestBodyProcessor: {
      std::string p = c.value;
      for (auto& ch : p) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (!body_processed) reqbody_processor = p;
      break;
    }
    case K::ForceRequestBodyVariable:
      force_body_variable = on(c.value);
      break;
    case K::RequestBodyAccess:
      request_body_access = on(c.value);
      break;
    case K::ResponseBodyAccess:
      response_body_access = on(c.value);
      break;
    case K::AuditEngine:
      audit_engine = c.value;
      break;
    case K::AuditLogParts:
      if (!c.value.empty() && (c.value[0] == '+' || c.value[0] == '-')) {
        for (char ch : c.value.substr(1)) {
          auto pos = audit_log_parts.find(ch);
          if (c.value[0] == '+' && pos == std::string::npos) audit_log_parts.push_back(ch);
          if (c.value[0] == '-' && pos != std::string::npos) audit_log_parts.erase(pos, 1);
        }
      } else {
        audit_log_parts = c.value;
      }
      break;
    case K::RequestBodyLimit:
    case K::Ignored:
      break;
  }
  (void)rule;
}

}  // namespace rampart::waf
