// The three argument languages inside a SecRule, after Apache word splitting:
//
//  targets:  "ARGS|!ARGS:foo|&TX:anomaly|REQUEST_HEADERS:'User-Agent'|ARGS:/^id_/|XML:/a/@b"
//  operator: "@rx ^a", "!@streq x", "^a" (no '@': @rx), "@unconditionalMatch"
//  actions:  "id:1,phase:2,msg:'a, b',t:none,t:lowercase,setvar:'tx.x=%{tx.y}'"
//
// Each parser reports problems with the offset (in the unescaped argument) where
// the problem is, so the caller can turn it into file:line:column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ir.h"

namespace rampart::rules {

struct SyntaxError {
  size_t offset = 0;
  std::string message;
  bool unknown_name = false;  // an unknown variable/operator/action (warning-able)
};

// Variables separated by '|' (ModSecurity also accepts ','). Unknown names are
// reported with unknown_name = true and left out of `out`.
void parseVariables(std::string_view text, std::vector<Variable>& out,
                    std::vector<SyntaxError>& errors);

void parseOperator(std::string_view text, Operator& out, std::vector<SyntaxError>& errors);

// Where each action was found in the text (for later validation messages).
struct ActionSpan {
  size_t name_offset = 0;
  size_t value_offset = 0;
};
// Splits and validates actions: names, values that must be numbers (id, phase,
// skip), severities, transformation names, ctl options. Unknown action names are
// reported with unknown_name = true and left out.
void parseActions(std::string_view text, std::vector<Action>& out, std::vector<ActionSpan>& spans,
                  std::vector<SyntaxError>& errors);

// "request" -> 2, "response" -> 4, "logging" -> 5, "1".."5"; 0 when invalid.
int parsePhase(std::string_view v);

// Decimal without sign; false on anything else or overflow.
bool parseUnsigned(std::string_view v, uint64_t& out);

}  // namespace rampart::rules
