// Compiled actions: what the engine does when a rule (link) matches.
// Parsing lives in engine.cc (compile time); execution in setvar.cc / ctl.cc
// (per match, against the transaction).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "waf/match/regex.h"

namespace rampart::waf::actions {

// setvar:tx.score=+5, setvar:!tx.foo, setvar:ip.hits=%{tx.x}
// A macro text split once into literal bytes and %{tx.NAME} lookups (NAME in
// lower case), for texts whose every macro reads TX; `tx_only` false: some
// other macro, expanded by Transaction::Impl::expandInto.
struct MacroText {
  struct Part {
    std::string text;  // the literal, or the TX key
    bool tx = false;
  };
  std::vector<Part> parts;
  bool tx_only = false;
};
// Splits `text` as expandInto reads it: "%{" up to the next "}" is a macro,
// a "%{" without a "}" is literal to the end.
MacroText compileMacroText(std::string_view text);

struct SetVar {
  enum class Op : uint8_t { Set, Add, Sub, Unset };
  Op op = Op::Set;
  std::string collection;  // lower case: tx, ip, session, user, global, resource
  std::string key;         // may contain macros
  std::string value;       // may contain macros
  // Worked out once when parsed:
  std::string key_lower;   // the key in lower case (when it has no macro)
  bool key_macro = false;
  bool value_macro = false;
  MacroText key_text, value_text;  // when key_macro / value_macro
};

// A target of ctl:ruleRemoveTarget*: "ARGS", "ARGS:foo", "ARGS:/^id_/"
struct TargetSpec {
  std::string name;      // upper case
  std::string selector;  // lower case when literal
  std::shared_ptr<match::Regex> selector_re;
};

// An id range list as in ruleRemoveById=1-3,920100
struct IdRange {
  int64_t lo = 0, hi = 0;
  bool operator==(const IdRange&) const = default;
};

struct Ctl {
  enum class Kind : uint8_t {
    RuleEngine, RuleRemoveById, RuleRemoveByTag, RuleRemoveByMsg, RuleRemoveTargetById, RuleRemoveTargetByTag,
    RuleRemoveTargetByMsg, RequestBodyProcessor, ForceRequestBodyVariable, RequestBodyAccess, ResponseBodyAccess,
    AuditEngine, AuditLogParts, RequestBodyLimit, Ignored
  };
  Kind kind = Kind::Ignored;
  std::string value;                 // raw value after '='
  std::vector<IdRange> ids;          // *ById
  std::shared_ptr<match::Regex> re;  // *ByTag / *ByMsg (v2 matches the tag with a regex)
  TargetSpec target;                 // RuleRemoveTarget*
  // *ByTag / *ByMsg: the rules whose tags/msg the regex matches, computed once
  // at compile time, by rule (CompiledRule::profile_index: 1 = matches); rules
  // whose tags hold macros are not in it and are tested at run time.
  std::shared_ptr<const std::vector<uint8_t>> matching_rules;
};

// One non-disruptive action executed per match, in rule order.
struct Step {
  enum class Kind : uint8_t { SetVar, Ctl, InitCol, SetSid, SetUid, SetEnv };
  Kind kind = Kind::SetVar;
  SetVar setvar;
  Ctl ctl;
  std::string arg;  // initcol "ip=%{remote_addr}", setsid/setuid value, setenv "name=value"
};

// Parses "ruleRemoveTargetById=920100;ARGS:foo"-style values; false + error on bad input.
bool parseCtl(const std::string& value, Ctl* out, std::string* error);
bool parseSetVar(const std::string& value, SetVar* out, std::string* error);
bool parseTargetSpec(std::string_view text, TargetSpec* out, std::string* error);
bool idInRanges(int64_t id, const std::vector<IdRange>& ranges);

}  // namespace rampart::waf::actions
