// The SecLang rule IR: plain data produced by the front end (rules/) and
// consumed by the engine (waf/). Nothing here knows about matching or I/O.
//
// Two levels:
//  - Directive: one statement as read from a file (name, arguments, where).
//  - RuleSet: the resolved result of a whole configuration: engine settings,
//    and the final ordered list of rules after Include, SecDefaultAction,
//    SecRuleRemove* and SecRuleUpdate* have been applied (ModSecurity v2
//    semantics: removals and updates affect rules defined *before* them).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rampart::rules {

struct SourceLocation {
  std::string file;   // path as given / resolved, "<string>" for in-memory text
  uint32_t line = 0;  // 1-based; for a directive continued over lines, its first line
  uint32_t column = 0;  // 1-based; 0 when unknown
};

struct Diagnostic {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  SourceLocation loc;
  std::string message;  // "expected '\"' to close the operator", "unknown action 'foo'"
};

// One target of a SecRule: ARGS, ARGS:foo, ARGS:/^id_/, &ARGS, !ARGS:foo, XML:/*
struct Variable {
  std::string name;             // canonical upper case: "ARGS", "REQUEST_HEADERS", "TX", "XML"
  std::string selector;         // text after ':' with quotes removed; empty when none; case as written
  bool selector_is_regex = false;  // written as /.../ : selector holds the regex without the slashes
  bool count = false;           // &VAR
  bool exclude = false;         // !VAR[:sel]

  bool operator==(const Variable&) const = default;
};

struct Operator {
  std::string name;      // ModSecurity's name in lower case, without '@': "rx", "pm", "pmfromfile",
                         // "validatebyterange", "detectsqli", "unconditionalmatch", ...
  std::string argument;  // raw argument (macros not expanded), leading space after the name removed
  bool negated = false;  // "!@rx ..."
  // An operator string with no '@' is "rx" with the whole string as argument.

  bool operator==(const Operator&) const = default;
};

struct Action {
  std::string name;   // lower case: "id", "phase", "t", "setvar", "ctl", "msg", "tag", "chain"...
  std::string value;  // argument with one pair of surrounding single quotes removed; "" when none
  bool has_value = false;  // "name:value" (even "name:") vs bare "name"

  bool operator==(const Action&) const = default;
};

struct Rule {
  enum class Kind { SecRule, SecAction, SecMarker };
  Kind kind = Kind::SecRule;
  SourceLocation loc;

  std::vector<Variable> variables;  // SecRule only (after SecRuleUpdateTarget* applied)
  Operator op;                      // SecAction: {"unconditionalmatch", "", false}
  std::vector<Action> actions;      // as written in the rule (after SecRuleUpdateActionById), in order

  // The SecDefaultAction actions in force for this rule's phase when it was defined
  // (empty when none). The engine merges them: rule actions override the
  // defaults' disruptive action, and 't:none' in the rule drops the defaults' t: list.
  std::vector<Action> default_actions;

  // Convenience fields derived from `actions` by the front end (chain heads only for id/phase):
  int64_t id = 0;       // 0 when the rule has none (chained rules, markers)
  int phase = 2;        // 1..5; "request"->2, "response"->4, "logging"->5
  std::string marker;   // SecMarker name, or empty (a marker's `phase` is left at 2 and means
                        // nothing: like ModSecurity, a marker ends skipAfter in every phase)

  // Rules chained after this one (only on a chain head), in order. A chained
  // rule never has its own entry in RuleSet::rules.
  std::vector<Rule> chain;
};

// Engine-wide settings read from configuration directives. Unset values keep
// ModSecurity's defaults.
struct EngineSettings {
  enum class RuleEngine { On, Off, DetectionOnly };
  RuleEngine rule_engine = RuleEngine::Off;  // ModSecurity's default; configs set it
  bool request_body_access = false;
  uint64_t request_body_limit = 134217728;          // SecRequestBodyLimit
  uint64_t request_body_no_files_limit = 1048576;   // SecRequestBodyNoFilesLimit
  bool request_body_limit_reject = true;            // SecRequestBodyLimitAction Reject|ProcessPartial
  uint32_t request_body_json_depth_limit = 10000;   // SecRequestBodyJsonDepthLimit
  uint32_t arguments_limit = 1000;                  // SecArgumentsLimit
  bool response_body_access = false;
  std::vector<std::string> response_body_mime_types = {"text/plain", "text/html"};
  uint64_t response_body_limit = 524288;
  bool response_body_limit_reject = true;           // SecResponseBodyLimitAction
  char argument_separator = '&';
  std::string audit_engine = "Off";                 // On | Off | RelevantOnly
  std::string audit_log_parts = "ABIJDEFHZ";
  std::string audit_log_relevant_status;
  uint64_t pcre_match_limit = 1000;
  uint64_t pcre_match_limit_recursion = 1000;
  std::vector<std::string> component_signatures;
  std::string cookie_format = "0";
  // Anything else accepted and not acted on (SecTmpDir, SecDataDir, SecDebugLog*...),
  // kept for printing back: directive name -> last value.
  std::map<std::string, std::string> other;
};

struct RuleSet {
  EngineSettings settings;
  std::vector<Rule> rules;  // chain heads, SecActions and SecMarkers in definition order
};

}  // namespace rampart::rules
