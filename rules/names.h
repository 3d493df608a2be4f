// The SecLang vocabulary: every variable, operator, action, transformation and
// ctl option name that ModSecurity v2 (reference manual, 2.9) knows. The parser
// rejects anything else (or warns, with ParseOptions::unknown_is_warning).
//
// Why a table of names in the front end: a typo such as "t:lowercse" or
// "REQUEST_HEADER" silently disables a rule in a lenient engine; ModSecurity
// refuses to start instead, and so do we.
#pragma once

#include <string>
#include <string_view>

namespace rampart::rules {

// Collection/variable names, compared case-insensitively ("args" == "ARGS").
bool isKnownVariable(std::string_view upper_name);
// Operator names, compared case-insensitively; returns the canonical lower-case name
// ("detectSQLi" -> "detectsqli") or "" when unknown.
std::string canonicalOperator(std::string_view name);
// The manual's spelling of an operator name ("pmfromfile" -> "pmFromFile"); the input when unknown.
std::string operatorSpelling(std::string_view name);
// Action names (case-insensitive); returns the canonical lower-case name or "".
std::string canonicalAction(std::string_view name);
// Transformation names (case-insensitive, British and American spellings).
bool isKnownTransformation(std::string_view name);
// ctl:<option>=... option names (case-insensitive).
bool isKnownCtl(std::string_view name);

enum class ActionKind { Disruptive, Flow, Metadata, Data, NonDisruptive };
// Classification of a known canonical (lower-case) action name.
ActionKind actionKind(std::string_view canonical_name);

// Severity given by name or number ("CRITICAL", "2") -> 0..7, or -1 when invalid.
int parseSeverity(std::string_view v);

std::string toLower(std::string_view s);
std::string toUpper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace rampart::rules
