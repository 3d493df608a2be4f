// print(): a Rule back to SecLang text that parses to an equal Rule.
//
// Every argument is written in double quotes with '\' and '"' escaped (Apache
// unescapes exactly those two), action values in single quotes when they hold
// a ',', a quote, blanks at either end, or nothing.
#include <string>

#include "rules/names.h"
#include "rules/parser.h"

namespace rampart::rules {

namespace {

void appendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string variablesText(const std::vector<Variable>& vars) {
  std::string s;
  for (size_t i = 0; i < vars.size(); ++i) {
    const Variable& v = vars[i];
    if (i) s.push_back('|');
    if (v.exclude) s.push_back('!');
    if (v.count) s.push_back('&');
    s += v.name;
    if (v.selector.empty() && !v.selector_is_regex) continue;
    s.push_back(':');
    std::string sel = v.selector_is_regex ? "/" + v.selector + "/" : v.selector;
    bool plain = !sel.empty() && sel.find_first_of("|,' \t'") == std::string::npos;
    if (v.selector_is_regex) {
      // '/.../' unquoted ends at the first '/' followed by a separator: quote when that would cut it.
      for (size_t k = 1; k + 1 < sel.size() && plain; ++k)
        if (sel[k] == '/' && (sel[k + 1] == '|' || sel[k + 1] == ',' || isBlank(sel[k + 1]))) plain = false;
    }
    if (v.name == "XML") plain = !sel.empty() && sel.find_first_of("| \t'") == std::string::npos;
    if (plain) {
      s += sel;
    } else {
      s.push_back('\'');
      for (char ch : sel) {
        if (ch == '\'') s.push_back('\\');
        s.push_back(ch);
      }
      s.push_back('\'');
    }
  }
  return s;
}

std::string actionsText(const std::vector<Action>& acts) {
  std::string s;
  for (size_t i = 0; i < acts.size(); ++i) {
    const Action& a = acts[i];
    if (i) s.push_back(',');
    s += a.name;
    if (!a.has_value) continue;
    s.push_back(':');
    // Unquoted values run to the next ',' and may hold a quote anywhere but first.
    // Values with blanks are quoted too, as ModSecurity's own examples write them.
    bool quote = a.value.empty() || a.value.find_first_of(", \t") != std::string::npos ||
                 a.value.front() == '\'' || isBlank(a.value.front()) || isBlank(a.value.back());
    if (!quote) {
      s += a.value;
      continue;
    }
    s.push_back('\'');
    for (char ch : a.value) {
      if (ch == '\'' || ch == '\\') s.push_back('\\');
      s.push_back(ch);
    }
    s.push_back('\'');
  }
  return s;
}

void printOne(std::string& out, const Rule& r) {
  switch (r.kind) {
    case Rule::Kind::SecMarker:
      out += "SecMarker ";
      appendQuoted(out, r.marker);
      return;
    case Rule::Kind::SecAction:
      out += "SecAction ";
      appendQuoted(out, actionsText(r.actions));
      return;
    case Rule::Kind::SecRule:
      break;
  }
  out += "SecRule ";
  appendQuoted(out, variablesText(r.variables));
  out.push_back(' ');
  std::string op;
  if (r.op.negated) op.push_back('!');
  bool leading_blank = !r.op.argument.empty() && isBlank(r.op.argument.front());
  if (r.op.name == "rx" && !r.op.negated && leading_blank) {
    op += r.op.argument;  // the '@'-less form keeps leading blanks
  } else {
    op += "@" + operatorSpelling(r.op.name);
    if (!r.op.argument.empty()) op += " " + r.op.argument;
  }
  appendQuoted(out, op);
  if (!r.actions.empty()) {
    out.push_back(' ');
    appendQuoted(out, actionsText(r.actions));
  }
}

}  // namespace

std::string print(const Rule& rule) {
  std::string out;
  printOne(out, rule);
  for (const auto& c : rule.chain) {
    out += "\n  ";
    printOne(out, c);
  }
  out.push_back('\n');
  return out;
}

bool equalIgnoringLocation(const Rule& a, const Rule& b) {
  if (a.kind != b.kind || a.variables != b.variables || !(a.op == b.op) || a.actions != b.actions ||
      a.default_actions != b.default_actions || a.id != b.id || a.phase != b.phase ||
      a.marker != b.marker || a.chain.size() != b.chain.size())
    return false;
  for (size_t i = 0; i < a.chain.size(); ++i)
    if (!equalIgnoringLocation(a.chain[i], b.chain[i])) return false;
  return true;
}

}  // namespace rampart::rules
