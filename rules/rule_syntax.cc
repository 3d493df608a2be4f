#include "rules/rule_syntax.h"

#include <cctype>

#include "rules/names.h"

namespace rampart::rules {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

}  // namespace

bool parseUnsigned(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > 19) return false;
  uint64_t r = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    r = r * 10 + static_cast<uint64_t>(c - '0');
  }
  out = r;
  return true;
}

int parsePhase(std::string_view v) {
  if (iequals(v, "request")) return 2;
  if (iequals(v, "response")) return 4;
  if (iequals(v, "logging")) return 5;
  if (v.size() == 1 && v[0] >= '1' && v[0] <= '5') return v[0] - '0';
  return 0;
}

void parseVariables(std::string_view s, std::vector<Variable>& out, std::vector<SyntaxError>& errors) {
  size_t p = 0;
  const size_t n = s.size();
  bool expect_more = true;
  while (p < n) {
    while (p < n && isBlank(s[p])) ++p;
    if (p >= n) break;
    Variable v;
    size_t start = p;
    for (int k = 0; k < 2 && p < n; ++k) {
      if (s[p] == '!' && !v.exclude) {
        v.exclude = true;
        ++p;
      } else if (s[p] == '&' && !v.count) {
        v.count = true;
        ++p;
      }
    }
    size_t name_start = p;
    while (p < n && isNameChar(s[p])) ++p;
    std::string_view name = s.substr(name_start, p - name_start);
    if (name.empty()) {
      errors.push_back({name_start, "expected a variable name", false});
      return;
    }
    v.name = toUpper(name);
    if (p < n && s[p] == ':') {
      ++p;
      if (p < n && s[p] == '\'') {
        size_t q = p + 1;
        std::string sel;
        while (q < n && s[q] != '\'') {
          if (s[q] == '\\' && q + 1 < n && s[q + 1] == '\'') ++q;
          sel.push_back(s[q++]);
        }
        if (q >= n) {
          errors.push_back({p, "expected \"'\" to close the selector of " + v.name, false});
          return;
        }
        p = q + 1;
        if (v.name != "XML" && sel.size() >= 2 && sel.front() == '/' && sel.back() == '/') {
          v.selector_is_regex = true;
          sel = sel.substr(1, sel.size() - 2);
        }
        v.selector = std::move(sel);
      } else if (p < n && s[p] == '/' && v.name != "XML") {
        // /regex/: up to an unescaped '/' that is followed by a separator or the end.
        size_t q = p + 1;
        size_t close = std::string_view::npos;
        while (q < n) {
          if (s[q] == '\\' && q + 1 < n) {
            q += 2;
            continue;
          }
          if (s[q] == '/' && (q + 1 == n || s[q + 1] == '|' || s[q + 1] == ',' || isBlank(s[q + 1]))) {
            close = q;
            break;
          }
          ++q;
        }
        if (close == std::string_view::npos) {
          // Like ModSecurity: only "/.../" is a regex; "/abc" is a plain selector.
          size_t q2 = p;
          while (q2 < n && s[q2] != '|' && s[q2] != ',' && !isBlank(s[q2])) ++q2;
          v.selector = std::string(s.substr(p, q2 - p));
          p = q2;
        } else {
          v.selector_is_regex = v.selector_is_regex || close > p;
          v.selector = std::string(s.substr(p + 1, close - p - 1));
          p = close + 1;
        }
      } else {
        size_t q = p;
        if (v.name == "XML") {
          // XPath may contain ',' and quotes; it ends at '|' or a blank.
          while (q < n && s[q] != '|' && !isBlank(s[q])) ++q;
        } else {
          while (q < n && s[q] != '|' && s[q] != ',' && !isBlank(s[q])) ++q;
        }
        v.selector = std::string(s.substr(p, q - p));
        p = q;
        if (v.selector.empty()) {
          errors.push_back({p, "expected a selector after ':' in " + v.name, false});
          return;
        }
      }
    }
    if (!isKnownVariable(v.name)) {
      errors.push_back({name_start, "unknown variable '" + std::string(name) + "'", true});
    } else {
      out.push_back(std::move(v));
    }
    while (p < n && isBlank(s[p])) ++p;
    expect_more = false;
    if (p < n) {
      if (s[p] == '|' || s[p] == ',') {
        ++p;
        expect_more = true;
      } else {
        errors.push_back({p, "expected '|' between variables", false});
        return;
      }
    }
    (void)start;
  }
  if (expect_more) errors.push_back({n, "expected a variable name", false});
}

void parseOperator(std::string_view s, Operator& op, std::vector<SyntaxError>& errors) {
  size_t p = 0;
  const size_t n = s.size();
  op = Operator{};
  if (p < n && s[p] == '!') {
    op.negated = true;
    ++p;
    while (p < n && isBlank(s[p])) ++p;
  }
  if (p < n && s[p] == '@') {
    size_t name_start = ++p;
    while (p < n && !isBlank(s[p])) ++p;
    std::string_view name = s.substr(name_start, p - name_start);
    if (name.empty()) {
      errors.push_back({name_start, "expected an operator name after '@'", false});
      return;
    }
    op.name = canonicalOperator(name);
    if (op.name.empty()) {
      errors.push_back({name_start, "unknown operator '@" + std::string(name) + "'", true});
      return;
    }
    while (p < n && isBlank(s[p])) ++p;
    op.argument = std::string(s.substr(p));
  } else {
    op.name = "rx";
    op.argument = std::string(s.substr(p));
  }
}

namespace {

// Checks one action's value. Returns "" when fine.
std::string checkAction(const Action& a) {
  const std::string& n = a.name;
  auto needs = [&]() -> std::string {
    return a.has_value ? std::string() : "action '" + n + "' expects a value ('" + n + ":...')";
  };
  if (n == "id") {
    if (!a.has_value) return needs();
    uint64_t v = 0;
    if (!parseUnsigned(a.value, v) || v == 0 || v > 0xFFFFFFFFull)
      return "expected a positive number for 'id', got '" + a.value + "'";
  } else if (n == "phase") {
    if (!a.has_value) return needs();
    if (parsePhase(a.value) == 0)
      return "expected a phase 1-5, 'request', 'response' or 'logging', got '" + a.value + "'";
  } else if (n == "skip") {
    if (!a.has_value) return needs();
    uint64_t v = 0;
    if (!parseUnsigned(a.value, v) || v == 0) return "expected a positive number for 'skip', got '" + a.value + "'";
  } else if (n == "status") {
    if (!a.has_value) return needs();
    uint64_t v = 0;
    if (!parseUnsigned(a.value, v) || v < 100 || v > 999)
      return "expected an HTTP status code for 'status', got '" + a.value + "'";
  } else if (n == "severity") {
    if (!a.has_value) return needs();
    if (parseSeverity(a.value) < 0)
      return "expected a severity 0-7 or EMERGENCY..DEBUG, got '" + a.value + "'";
  } else if (n == "t") {
    if (!a.has_value) return needs();
    if (!isKnownTransformation(a.value)) return "unknown transformation '" + a.value + "'";
  } else if (n == "ctl") {
    if (!a.has_value) return needs();
    size_t eq = a.value.find('=');
    if (eq == std::string::npos) return "expected 'option=value' after 'ctl:', got '" + a.value + "'";
    std::string opt = a.value.substr(0, eq);
    while (!opt.empty() && isBlank(opt.back())) opt.pop_back();
    if (!isKnownCtl(opt)) return "unknown ctl option '" + opt + "'";
  } else if (n == "accuracy" || n == "maturity") {
    if (!a.has_value) return needs();
    uint64_t v = 0;
    if (!parseUnsigned(a.value, v) || v > 9) return "expected a number 0-9 for '" + n + "', got '" + a.value + "'";
  } else if (n == "msg" || n == "logdata" || n == "tag" || n == "rev" || n == "ver" ||
             n == "setvar" || n == "skipafter" || n == "redirect" || n == "proxy" ||
             n == "initcol" || n == "setenv" || n == "setuid" || n == "setsid" ||
             n == "setrsc" || n == "expirevar" || n == "deprecatevar" || n == "append" ||
             n == "prepend" || n == "exec" || n == "xmlns" || n == "sanitisearg" ||
             n == "sanitiserequestheader" || n == "sanitiseresponseheader" || n == "pause") {
    if (!a.has_value) return needs();
    if ((n == "setvar" || n == "skipafter") && a.value.empty())
      return "expected a non-empty value for '" + n + "'";
  } else if (n == "block" || n == "deny" || n == "drop" || n == "pass" || n == "log" ||
             n == "nolog" || n == "auditlog" || n == "noauditlog" || n == "capture" ||
             n == "chain" || n == "multimatch") {
    if (a.has_value) return "action '" + n + "' takes no value";
  }
  return {};
}

}  // namespace

void parseActions(std::string_view s, std::vector<Action>& out, std::vector<ActionSpan>& spans,
                  std::vector<SyntaxError>& errors) {
  size_t p = 0;
  const size_t n = s.size();
  auto skipToComma = [&]() {
    while (p < n && s[p] != ',') ++p;
    if (p < n) ++p;
  };
  while (p < n) {
    while (p < n && (isBlank(s[p]) || s[p] == ',')) {
      if (s[p] == ',') {
        errors.push_back({p, "expected an action name before ','", false});
      }
      ++p;
    }
    if (p >= n) break;
    size_t name_start = p;
    while (p < n && s[p] != ':' && s[p] != ',' && !isBlank(s[p])) ++p;
    std::string_view name = s.substr(name_start, p - name_start);
    Action a;
    ActionSpan span{name_start, name_start};
    a.name = canonicalAction(name);
    bool known = !a.name.empty();
    while (p < n && isBlank(s[p])) ++p;
    if (p < n && s[p] == ':') {
      ++p;
      a.has_value = true;
      while (p < n && isBlank(s[p])) ++p;
      span.value_offset = p;
      if (p < n && s[p] == '\'') {
        // ModSecurity v2 (msre_parse_generic): inside '...' a backslash must escape
        // a quote or a backslash; "\\'" -> "'", "\\\\" -> "\\".
        size_t q = p + 1;
        bool bad_escape = false;
        while (q < n && s[q] != '\'') {
          if (s[q] == '\\') {
            if (q + 1 < n && (s[q + 1] == '\'' || s[q + 1] == '\\')) {
              ++q;
            } else if (!bad_escape) {
              bad_escape = true;
              errors.push_back({q, "expected \"\\'\" or \"\\\\\" after '\\' in the quoted value of action '" +
                                       std::string(name) + "'", false});
            }
          }
          a.value.push_back(s[q++]);
        }
        if (bad_escape) {
          p = q < n ? q + 1 : n;
          skipToComma();
          continue;
        }
        if (q >= n) {
          errors.push_back({p, "expected \"'\" to close the value of action '" + std::string(name) + "'", false});
          return;
        }
        p = q + 1;
        span.value_offset += 1;
        while (p < n && isBlank(s[p])) ++p;
        if (p < n && s[p] != ',') {
          errors.push_back({p, "expected ',' after the value of action '" + std::string(name) + "'", false});
          skipToComma();
          continue;
        }
      } else {
        size_t q = p;
        while (q < n && s[q] != ',') ++q;
        size_t e = q;
        while (e > p && isBlank(s[e - 1])) --e;
        a.value = std::string(s.substr(p, e - p));
        p = q;
      }
    } else if (p < n && s[p] != ',') {
      errors.push_back({p, "expected ',' or ':' after action '" + std::string(name) + "'", false});
      skipToComma();
      continue;
    }
    if (p < n && s[p] == ',') {
      ++p;
      size_t r = p;
      while (r < n && isBlank(s[r])) ++r;
      if (r >= n) errors.push_back({p - 1, "expected an action after ','", false});
    }
    if (!known) {
      errors.push_back({name_start, "unknown action '" + std::string(name) + "'", true});
      continue;
    }
    std::string problem = checkAction(a);
    if (!problem.empty()) {
      bool unknown_tfn = a.name == "t" && problem.rfind("unknown", 0) == 0;
      errors.push_back({a.has_value ? span.value_offset : name_start, problem, unknown_tfn});
      if (unknown_tfn) continue;
    }
    out.push_back(std::move(a));
    spans.push_back(span);
  }
}

}  // namespace rampart::rules
