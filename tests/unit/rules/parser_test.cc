// SecLang parsing: rule syntax (variables, operators, actions), directives,
// diagnostics with exact locations, chains, defaults, removals and updates.
#include <gtest/gtest.h>

#include "rules/parser.h"

namespace rampart::rules {
namespace {

LoadResult load(const std::string& text, ParseOptions opts = {}) { return loadString(text, "t.conf", opts); }

std::vector<std::string> diags(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(format(d));
  return out;
}

// Parses one rule that must load cleanly.
Rule one(const std::string& text) {
  LoadResult r = load(text);
  EXPECT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : format(r.diagnostics[0]));
  EXPECT_EQ(r.ruleset.rules.size(), 1u);
  return r.ruleset.rules.empty() ? Rule{} : r.ruleset.rules[0];
}

std::vector<int64_t> ids(const LoadResult& r) {
  std::vector<int64_t> out;
  for (const auto& x : r.ruleset.rules) out.push_back(x.id);
  return out;
}

// ---------------------------------------------------------------- variables

TEST(Variables, ListWithSelectorsCountsAndExclusions) {
  Rule r = one(R"(SecRule ARGS|!ARGS:foo|&TX:anomaly|REQUEST_HEADERS:User-Agent|TX:0 "@rx x" "id:1")");
  ASSERT_EQ(r.variables.size(), 5u);
  EXPECT_EQ(r.variables[0], (Variable{"ARGS", "", false, false, false}));
  EXPECT_EQ(r.variables[1], (Variable{"ARGS", "foo", false, false, true}));
  EXPECT_EQ(r.variables[2], (Variable{"TX", "anomaly", false, true, false}));
  EXPECT_EQ(r.variables[3], (Variable{"REQUEST_HEADERS", "User-Agent", false, false, false}));
  EXPECT_EQ(r.variables[4], (Variable{"TX", "0", false, false, false}));
}

TEST(Variables, NamesAreCaseInsensitiveSelectorsKeepCase) {
  Rule r = one(R"(SecRule request_headers:Content-Type "@rx x" "id:1")");
  EXPECT_EQ(r.variables[0].name, "REQUEST_HEADERS");
  EXPECT_EQ(r.variables[0].selector, "Content-Type");
}

TEST(Variables, RegexAndQuotedSelectors) {
  Rule r = one(R"(SecRule "ARGS:/^id_/|!REQUEST_COOKIES:/^_ga(?:_\w+)?$/|ARGS:'a b|c'|ARGS:'/^x|y$/'" "@rx x" "id:1")");
  ASSERT_EQ(r.variables.size(), 4u);
  EXPECT_EQ(r.variables[0], (Variable{"ARGS", "^id_", true, false, false}));
  EXPECT_EQ(r.variables[1], (Variable{"REQUEST_COOKIES", "^_ga(?:_\\w+)?$", true, false, true}));
  EXPECT_EQ(r.variables[2], (Variable{"ARGS", "a b|c", false, false, false}));
  EXPECT_EQ(r.variables[3], (Variable{"ARGS", "^x|y$", true, false, false}));
}

TEST(Variables, XmlXPathSelectorsAreNotRegexes) {
  Rule r = one(R"(SecRule XML:/*|XML://@*|XML:/a/b[@c='d'] "@rx x" "id:1")");
  ASSERT_EQ(r.variables.size(), 3u);
  EXPECT_EQ(r.variables[0], (Variable{"XML", "/*", false, false, false}));
  EXPECT_EQ(r.variables[1], (Variable{"XML", "//@*", false, false, false}));
  EXPECT_EQ(r.variables[2], (Variable{"XML", "/a/b[@c='d']", false, false, false}));
}

TEST(Variables, UnknownVariableIsAnErrorAtItsColumn) {
  LoadResult r = load("SecRule ARGS|REQUEST_HEADER \"@rx x\" \"id:1\"\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{"t.conf:1:14: error: unknown variable 'REQUEST_HEADER'"}));
  EXPECT_TRUE(r.ruleset.rules.empty());
}

TEST(Variables, UnknownVariableCanBeAWarning) {
  ParseOptions o;
  o.unknown_is_warning = true;
  LoadResult r = load("SecRule FOO \"@rx x\" \"id:1\"\nSecRule ARGS \"@rx x\" \"id:2\"\n", o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(diags(r), (std::vector<std::string>{"t.conf:1:9: warning: unknown variable 'FOO'; statement skipped"}));
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2}));
}

TEST(Variables, SyntaxErrors) {
  EXPECT_EQ(diags(load("SecRule ARGS| \"@rx x\" \"id:1\"")),
            (std::vector<std::string>{"t.conf:1:14: error: expected a variable name"}));
  EXPECT_EQ(diags(load("SecRule ARGS:'abc \"@rx x\" \"id:1\"")),
            (std::vector<std::string>{"t.conf:1:14: error: expected \"'\" to close the selector of ARGS"}));
  EXPECT_EQ(diags(load("SecRule \"ARGS ARGS_NAMES\" \"@rx x\" \"id:1\"")),
            (std::vector<std::string>{"t.conf:1:15: error: expected '|' between variables"}));
  // Only "/.../" is a regex: "/abc" is a plain selector, as in ModSecurity.
  EXPECT_EQ(one("SecRule REQUEST_HEADERS:/abc \"@rx x\" \"id:1\"").variables[0],
            (Variable{"REQUEST_HEADERS", "/abc", false, false, false}));
}

// ---------------------------------------------------------------- operators

TEST(Operators, ExplicitImplicitAndNegated) {
  EXPECT_EQ(one(R"(SecRule ARGS "@rx ^a b$" "id:1")").op, (Operator{"rx", "^a b$", false}));
  EXPECT_EQ(one(R"(SecRule ARGS "^a b$" "id:1")").op, (Operator{"rx", "^a b$", false}));
  EXPECT_EQ(one(R"(SecRule ARGS "!^a" "id:1")").op, (Operator{"rx", "^a", true}));
  EXPECT_EQ(one(R"(SecRule ARGS "!@streq  x" "id:1")").op, (Operator{"streq", "x", true}));
  EXPECT_EQ(one(R"(SecRule ARGS "@detectSQLi" "id:1")").op, (Operator{"detectsqli", "", false}));
  EXPECT_EQ(one(R"(SecRule ARGS @unconditionalMatch "id:1")").op, (Operator{"unconditionalmatch", "", false}));
  EXPECT_EQ(one(R"(SecRule ARGS "@pmFromFile a.data" "id:1")").op, (Operator{"pmfromfile", "a.data", false}));
  EXPECT_EQ(one(R"(SecRule ARGS "@validateByteRange 1-255" "id:1")").op,
            (Operator{"validatebyterange", "1-255", false}));
}

TEST(Operators, RegexTextReachesTheEngineAsPcreSeesIt) {
  // \" is unescaped by the configuration reader; every other backslash stays.
  Rule r = one(R"(SecRule ARGS "@rx ['\";=\x5c]\d+\.\s\/" "id:1")");
  EXPECT_EQ(r.op.argument, R"(['";=\x5c]\d+\.\s\/)");
  // "\\" becomes "\" (Apache), so "\\\\" is a regex-escaped backslash.
  EXPECT_EQ(one(R"(SecRule ARGS "@rx a\\\\b" "id:1")").op.argument, R"(a\\b)");
}

TEST(Operators, UnknownOperatorAndMissingName) {
  EXPECT_EQ(diags(load("SecRule ARGS \"@foo bar\" \"id:1\"")),
            (std::vector<std::string>{"t.conf:1:16: error: unknown operator '@foo'"}));
  EXPECT_EQ(diags(load("SecRule ARGS \"@ bar\" \"id:1\"")),
            (std::vector<std::string>{"t.conf:1:16: error: expected an operator name after '@'"}));
}

// ---------------------------------------------------------------- actions

TEST(Actions, QuotedValuesWithCommasAndEscapes) {
  Rule r = one(R"(SecRule ARGS "@rx x" "id:1,phase:2,msg:'a, b',logdata:'it\'s %{TX.0}',setvar:'tx.x=%{tx.y}',t:none,t:lowercase,pass,nolog")");
  ASSERT_EQ(r.actions.size(), 9u);
  EXPECT_EQ(r.actions[2], (Action{"msg", "a, b", true}));
  EXPECT_EQ(r.actions[3], (Action{"logdata", "it's %{TX.0}", true}));
  EXPECT_EQ(r.actions[4], (Action{"setvar", "tx.x=%{tx.y}", true}));
  EXPECT_EQ(r.actions[6], (Action{"t", "lowercase", true}));
  EXPECT_EQ(r.actions[7], (Action{"pass", "", false}));
  EXPECT_EQ(r.id, 1);
  EXPECT_EQ(r.phase, 2);
}

TEST(Actions, BackslashesInQuotedValuesFollowModSecurity) {
  // Inside '...' only \' and \\ are escapes (msre_parse_generic); unquoted values keep backslashes.
  Rule r = one(R"(SecAction "id:1,pass,msg:'a\\\\b \\'q\\'',setvar:tx.re=\\d+")");
  EXPECT_EQ(r.actions[2], (Action{"msg", "a\\b 'q'", true}));
  EXPECT_EQ(r.actions[3], (Action{"setvar", "tx.re=\\d+", true}));
  EXPECT_EQ(diags(load(R"(SecAction "id:1,pass,setvar:'tx.re=\\d+',nolog,frob")")),
            (std::vector<std::string>{
                R"(t.conf:1:36: error: expected "\'" or "\\" after '\' in the quoted value of action 'setvar')",
                "t.conf:1:48: error: unknown action 'frob'"}));
}

TEST(Actions, BlanksAroundActionsAreIgnoredAndNamesLowerCased) {
  LoadResult lr = load("SecRule ARGS \"@rx x\" \"id:'7', \\\n    Phase:request,\\\n    multiMatch ,   skipAfter:END\"\nSecMarker END");
  ASSERT_TRUE(lr.ok());
  const Rule& r = lr.ruleset.rules[0];
  ASSERT_EQ(r.actions.size(), 4u);
  EXPECT_EQ(r.actions[0], (Action{"id", "7", true}));
  EXPECT_EQ(r.actions[1], (Action{"phase", "request", true}));
  EXPECT_EQ(r.actions[2], (Action{"multimatch", "", false}));
  EXPECT_EQ(r.actions[3], (Action{"skipafter", "END", true}));
  EXPECT_EQ(r.phase, 2);
}

TEST(Actions, PhaseNames) {
  EXPECT_EQ(one(R"(SecAction "id:1,phase:response,pass")").phase, 4);
  EXPECT_EQ(one(R"(SecAction "id:1,phase:logging,pass")").phase, 5);
  EXPECT_EQ(one(R"(SecAction "id:1,phase:1,pass")").phase, 1);
  EXPECT_EQ(one(R"(SecAction "id:1,pass")").phase, 2);
}

TEST(Actions, CtlAndEmptyValues) {
  Rule r = one(R"(SecAction "id:1,pass,ctl:ruleRemoveTargetById=942100;ARGS:pwd,ctl:ruleEngine=Off,msg:''")");
  EXPECT_EQ(r.actions[2], (Action{"ctl", "ruleRemoveTargetById=942100;ARGS:pwd", true}));
  EXPECT_EQ(r.actions[4], (Action{"msg", "", true}));
}

TEST(Actions, ValueErrorsNameWhatWasExpected) {
  EXPECT_EQ(diags(load("SecAction \"id:abc,pass\"")),
            (std::vector<std::string>{"t.conf:1:15: error: expected a positive number for 'id', got 'abc'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,phase:6,pass\"")),
            (std::vector<std::string>{"t.conf:1:23: error: expected a phase 1-5, 'request', 'response' or 'logging', got '6'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,skip:x,pass\"")),
            (std::vector<std::string>{"t.conf:1:22: error: expected a positive number for 'skip', got 'x'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,severity:HUGE,pass\"")),
            (std::vector<std::string>{"t.conf:1:26: error: expected a severity 0-7 or EMERGENCY..DEBUG, got 'HUGE'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,t:lowercse,pass\"")),
            (std::vector<std::string>{"t.conf:1:19: error: unknown transformation 'lowercse'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,ctl:foo=1,pass\"")),
            (std::vector<std::string>{"t.conf:1:21: error: unknown ctl option 'foo'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,frobnicate,pass\"")),
            (std::vector<std::string>{"t.conf:1:17: error: unknown action 'frobnicate'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,msg:'abc,pass\"")),
            (std::vector<std::string>{"t.conf:1:21: error: expected \"'\" to close the value of action 'msg'"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,deny:1\"")),
            (std::vector<std::string>{"t.conf:1:22: error: action 'deny' takes no value"}));
  EXPECT_EQ(diags(load("SecAction \"id:1,msg\"")),
            (std::vector<std::string>{"t.conf:1:17: error: action 'msg' expects a value ('msg:...')"}));
  EXPECT_EQ(one(R"(SecAction "id:1,severity:'CRITICAL',pass")").actions[1], (Action{"severity", "CRITICAL", true}));
  EXPECT_TRUE(load("SecAction \"id:1,severity:2,pass\"").ok());
}

TEST(Actions, ErrorColumnAccountsForContinuationLines) {
  LoadResult r = load("SecRule ARGS \"@rx x\" \\\n    \"id:5,\\\n    phase:9\"\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:3:11: error: expected a phase 1-5, 'request', 'response' or 'logging', got '9'"}));
}

TEST(Actions, UnknownTransformationCanBeAWarning) {
  ParseOptions o;
  o.unknown_is_warning = true;
  LoadResult r = load("SecAction \"id:1,t:bogus,pass\"\n", o);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.ruleset.rules.empty());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].severity, Diagnostic::Severity::Warning);
}

// ---------------------------------------------------------------- rules and diagnostics

TEST(Rules, SecActionAndSecMarker) {
  LoadResult r = load("SecAction \"id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1\"\nSecMarker \"END-HOST-CHECK\"\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.ruleset.rules.size(), 2u);
  EXPECT_EQ(r.ruleset.rules[0].kind, Rule::Kind::SecAction);
  EXPECT_EQ(r.ruleset.rules[0].op, (Operator{"unconditionalmatch", "", false}));
  EXPECT_EQ(r.ruleset.rules[0].phase, 1);
  EXPECT_EQ(r.ruleset.rules[1].kind, Rule::Kind::SecMarker);
  EXPECT_EQ(r.ruleset.rules[1].marker, "END-HOST-CHECK");
  EXPECT_EQ(r.ruleset.rules[1].loc.line, 2u);
  EXPECT_EQ(r.ruleset.rules[1].id, 0);
}

TEST(Rules, RuleWithoutIdIsAnError) {
  EXPECT_EQ(diags(load("SecRule ARGS \"@rx x\" \"phase:2,pass\"")),
            (std::vector<std::string>{"t.conf:1:22: error: SecRule has no 'id' action (ModSecurity requires one on every rule)"}));
  EXPECT_EQ(diags(load("SecRule ARGS \"@rx x\"")),
            (std::vector<std::string>{"t.conf:1:1: error: SecRule has no 'id' action (ModSecurity requires one on every rule)"}));
}

TEST(Rules, DuplicateIdNamesBothLocations) {
  LoadResult r = load("SecAction \"id:10,pass\"\n\nSecRule ARGS \"x\" \"pass,id:10\"\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{"t.conf:3:27: error: duplicate rule id 10 (first defined at t.conf:1:1)"}));
  EXPECT_EQ(r.ruleset.rules.size(), 1u);
}

TEST(Rules, IdGivenTwice) {
  EXPECT_EQ(diags(load("SecAction \"id:1,pass,id:2\"")),
            (std::vector<std::string>{"t.conf:1:22: error: action 'id' given more than once"}));
}

TEST(Rules, KeepsGoingAfterErrors) {
  LoadResult r = load("SecRule ARGS \"@rx x\" \"id:1,bogus\"\nSecFoo bar\nSecRule ARGS \"@rx x\" \"id:2\"\nSecRuleEngine Maybe\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:1:28: error: unknown action 'bogus'",
                          "t.conf:2:1: error: unknown directive 'SecFoo'",
                          "t.conf:4:15: error: SecRuleEngine: expected On, Off or DetectionOnly, got 'Maybe'",
                      }));
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2}));
}

TEST(Rules, ArgumentCountAndUnterminatedQuote) {
  EXPECT_EQ(diags(load("SecRule ARGS")),
            (std::vector<std::string>{"t.conf:1:13: error: SecRule: expected 2 to 3 arguments, got 1"}));
  EXPECT_EQ(diags(load("SecRule ARGS x \"id:1\" extra")),
            (std::vector<std::string>{"t.conf:1:23: error: SecRule: expected 2 to 3 arguments, got 4"}));
  // Apache closes the quote at the next '"': ModSecurity then sees the value '1"'.
  EXPECT_EQ(diags(load("SecRule ARGS \"@rx x \"id:1\"\n")),
            (std::vector<std::string>{"t.conf:1:25: error: expected a positive number for 'id', got '1\"'"}));
  EXPECT_EQ(diags(load("SecRule ARGS \"@rx x\n")),
            (std::vector<std::string>{"t.conf:1:14: error: expected '\"' to close the argument opened here"}));
}

TEST(Rules, SecRuleScriptIsRejectedClearly) {
  EXPECT_EQ(diags(load("SecRuleScript /x.lua \"id:1\"")),
            (std::vector<std::string>{"t.conf:1:1: error: SecRuleScript (Lua) is not supported"}));
}

// ---------------------------------------------------------------- chains

TEST(Chains, ChainedRulesGoIntoTheHead) {
  LoadResult r = load(
      "SecRule ARGS \"@rx a\" \"id:1,phase:1,deny,chain\"\n"
      "  SecRule ARGS_NAMES \"@rx b\" \"t:lowercase,chain\"\n"
      "    SecRule &TX:x \"@eq 0\" \"setvar:tx.y=1\"\n"
      "SecRule ARGS \"@rx c\" \"id:2\"\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  ASSERT_EQ(r.ruleset.rules.size(), 2u);
  const Rule& h = r.ruleset.rules[0];
  ASSERT_EQ(h.chain.size(), 2u);
  EXPECT_EQ(h.chain[0].variables[0].name, "ARGS_NAMES");
  EXPECT_EQ(h.chain[1].op, (Operator{"eq", "0", false}));
  EXPECT_EQ(h.chain[0].id, 0);
  EXPECT_EQ(h.chain[1].phase, 1);
  EXPECT_EQ(h.chain[1].loc.line, 3u);
}

TEST(Chains, UnfinishedChainAtEndOfFile) {
  LoadResult r = load("SecRule ARGS \"@rx a\" \"id:1,chain\"\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:1:1: error: the last rule of the chain says 'chain' but no rule follows it before the end of 't.conf'"}));
}

TEST(Chains, ChainInterruptedByAnotherDirective) {
  LoadResult r = load("SecRule ARGS \"@rx a\" \"id:1,chain\"\nSecMarker M\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:2:1: error: expected a SecRule to continue the chain of the rule at t.conf:1:1, got SecMarker"}));
}

TEST(Chains, ChainedRuleMayNotCarryStarterActions) {
  LoadResult r = load(
      "SecRule ARGS \"@rx a\" \"id:1,chain\"\n"
      "  SecRule ARGS \"@rx b\" \"id:2,phase:2,deny,msg:'x',skipAfter:M\"\n"
      "SecMarker M\n");
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:2:25: error: action 'id' is only allowed on the first rule of a chain (chain started at t.conf:1:1)",
                          "t.conf:2:30: error: action 'phase' is only allowed on the first rule of a chain (chain started at t.conf:1:1)",
                          "t.conf:2:38: error: action 'deny' is only allowed on the first rule of a chain (chain started at t.conf:1:1)",
                          "t.conf:2:43: error: action 'msg' is only allowed on the first rule of a chain (chain started at t.conf:1:1)",
                          "t.conf:2:51: error: action 'skipafter' is only allowed on the first rule of a chain (chain started at t.conf:1:1)",
                      }));
}

TEST(Chains, RestOfChainOfARejectedHeadIsDroppedQuietly) {
  LoadResult r = load(
      "SecRule ARGS \"@rx a\" \"phase:2,chain\"\n"
      "  SecRule ARGS \"@rx b\" \"t:none\"\n"
      "SecRule ARGS \"@rx c\" \"id:3\"\n");
  EXPECT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(ids(r), (std::vector<int64_t>{3}));
}

TEST(Chains, InvalidLinkDropsTheWholeChainInWarningMode) {
  ParseOptions o;
  o.unknown_is_warning = true;
  LoadResult r = load(
      "SecRule ARGS \"@rx a\" \"id:1,chain\"\n"
      "  SecRule ARGS \"@bogus b\" \"chain\"\n"
      "  SecRule ARGS \"@rx c\" \"t:none\"\n"
      "SecRule ARGS \"@rx d\" \"id:2\"\n", o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2}));
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:2:18: warning: unknown operator '@bogus'; statement skipped",
                          "t.conf:1:1: warning: the chain starting here is skipped because one of its rules is invalid"}));
}

TEST(Chains, LocationsAndRemovalOfAWholeChain) {
  LoadResult r = load(
      "SecRule ARGS \"@rx a\" \"id:1,chain\"\n"
      "\t  SecRule ARGS \"@rx b\" \"t:none\"\n"
      "SecAction \"id:2,pass\"\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ruleset.rules[0].chain[0].loc.column, 4u);
  r = load(
      "SecRule ARGS \"@rx a\" \"id:1,chain\"\n"
      "  SecRule ARGS \"@rx b\" \"t:none\"\n"
      "SecAction \"id:2,pass\"\n"
      "SecRuleRemoveById 1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2}));
}

TEST(Chains, SecActionMayEndAChain) {
  LoadResult r = load("SecRule ARGS \"@rx a\" \"id:1,chain\"\nSecAction \"setvar:tx.a=1\"\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.ruleset.rules[0].chain.size(), 1u);
  EXPECT_EQ(r.ruleset.rules[0].chain[0].kind, Rule::Kind::SecAction);
}

// ---------------------------------------------------------------- defaults

TEST(Defaults, PerPhaseDefaultsAttachToLaterRules) {
  LoadResult r = load(
      "SecRule ARGS \"@rx a\" \"id:1,phase:2\"\n"
      "SecDefaultAction \"phase:1,log,auditlog,pass\"\n"
      "SecDefaultAction \"phase:2,log,auditlog,deny,status:403,t:lowercase\"\n"
      "SecRule ARGS \"@rx a\" \"id:2,phase:2,chain\"\n"
      "  SecRule ARGS \"@rx b\" \"t:none\"\n"
      "SecRule ARGS \"@rx a\" \"id:3,phase:1\"\n"
      "SecRule ARGS \"@rx a\" \"id:4,phase:3\"\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  const auto& rs = r.ruleset.rules;
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_TRUE(rs[0].default_actions.empty());
  ASSERT_EQ(rs[1].default_actions.size(), 6u);
  EXPECT_EQ(rs[1].default_actions[3], (Action{"deny", "", false}));
  EXPECT_EQ(rs[1].chain[0].default_actions, rs[1].default_actions);
  EXPECT_EQ(rs[2].default_actions[3], (Action{"pass", "", false}));
  EXPECT_TRUE(rs[3].default_actions.empty());
}

TEST(Defaults, DefaultWithoutPhaseIsPhaseTwo) {
  LoadResult r = load("SecDefaultAction \"log,pass\"\nSecRule ARGS \"x\" \"id:1\"\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ruleset.rules[0].default_actions.size(), 2u);
}

TEST(Defaults, Validation) {
  EXPECT_EQ(diags(load("SecDefaultAction \"phase:2,log\"")),
            (std::vector<std::string>{
                "t.conf:1:18: error: SecDefaultAction must specify a disruptive action (pass, block, deny, drop, allow, redirect...)"}));
  EXPECT_EQ(diags(load("SecDefaultAction \"phase:2,pass,id:3,msg:'x'\"")),
            (std::vector<std::string>{"t.conf:1:32: error: SecDefaultAction must not contain 'id'",
                                      "t.conf:1:37: error: SecDefaultAction must not contain 'msg'"}));
  // CRS's own example: tag (with a macro) is allowed; severity only warns.
  LoadResult r = load(
      "SecDefaultAction \"phase:2,log,auditlog,redirect:'http://%{request_headers.host}/',tag:'Host: %{request_headers.host}',severity:2\"\n");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:1:119: warning: 'severity' in SecDefaultAction is deprecated (ModSecurity v2 warns too)"}));
}

// ---------------------------------------------------------------- removals and updates

const char* kFive =
    "SecRule ARGS \"@rx a\" \"id:100,tag:attack-sqli,msg:'SQL Injection'\"\n"
    "SecRule ARGS \"@rx a\" \"id:101,tag:attack-xss,msg:'XSS Attack'\"\n"
    "SecRule ARGS \"@rx a\" \"id:102,tag:paranoia-level/2,tag:attack-xss\"\n"
    "SecRule ARGS \"@rx a\" \"id:200\"\n"
    "SecRule ARGS \"@rx a\" \"id:300\"\n";

TEST(Removals, ByIdListAndRangeOnlyAffectEarlierRules) {
  LoadResult r = load(std::string(kFive) + "SecRuleRemoveById 100 \"101-102\" 250-400 999\nSecRule ARGS \"x\" \"id:301\"\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  EXPECT_EQ(ids(r), (std::vector<int64_t>{200, 301}));
}

TEST(Removals, RemovedIdMayBeDefinedAgain) {
  LoadResult r = load("SecAction \"id:1,pass\"\nSecRuleRemoveById 1\nSecAction \"id:1,pass,nolog\"\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.ruleset.rules.size(), 1u);
  EXPECT_EQ(r.ruleset.rules[0].actions.size(), 3u);
}

TEST(Removals, ByTagAndByMsgAreRegexes) {
  LoadResult r = load(std::string(kFive) + "SecRuleRemoveByTag \"^attack-xss$\"\n");
  EXPECT_EQ(ids(r), (std::vector<int64_t>{100, 200, 300}));
  r = load(std::string(kFive) + "SecRuleRemoveByMsg \"(?i)^sql\"\n");
  EXPECT_EQ(ids(r), (std::vector<int64_t>{101, 102, 200, 300}));
  r = load(std::string(kFive) + "SecRuleRemoveByTag \"paranoia\"\n");
  EXPECT_EQ(ids(r), (std::vector<int64_t>{100, 101, 200, 300}));
}

TEST(Removals, Errors) {
  EXPECT_EQ(diags(load("SecRuleRemoveById 12x")),
            (std::vector<std::string>{"t.conf:1:19: error: SecRuleRemoveById: expected a rule id or a range such as 1000-1999, got '12x'"}));
  EXPECT_EQ(diags(load("SecRuleRemoveById \"1 5-3\"")),
            (std::vector<std::string>{"t.conf:1:22: error: SecRuleRemoveById: expected a rule id or a range such as 1000-1999, got '5-3'"}));
  // Found by fuzz_seclang when this used std::regex, which overflowed on a huge
  // back-reference; RE2 compiles it without recursion and the load succeeds.
  LoadResult huge = load("SecRuleRemoveByTag \"a\\\\6666666666666666666666\"");
  EXPECT_TRUE(huge.ok());
  LoadResult longer = load("SecRuleRemoveByTag \"" + std::string(5000, 'a') + "\"");
  ASSERT_EQ(longer.diagnostics.size(), 1u);
  EXPECT_EQ(format(longer.diagnostics[0]),
            "t.conf:1:20: error: SecRuleRemoveByTag: regular expression too long (at most 4096 characters)");
  LoadResult r = load("SecRuleRemoveByTag \"(\"");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(format(r.diagnostics[0]).rfind("t.conf:1:20: error: SecRuleRemoveByTag: invalid regular expression '('", 0), 0u);
}

TEST(Updates, TargetAppendAndExclusion) {
  LoadResult r = load(std::string(kFive) +
                      "SecRuleUpdateTargetById 100 \"!ARGS:foo|REQUEST_HEADERS:/^x-/\"\n"
                      "SecRuleUpdateTargetById 100 ARGS\n"  // already there: not duplicated
                      "SecRuleUpdateTargetByTag attack-xss !ARGS:bar\n"
                      "SecRuleUpdateTargetByMsg \"^SQL\" ARGS_NAMES\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  const auto& rs = r.ruleset.rules;
  ASSERT_EQ(rs[0].variables.size(), 4u);
  EXPECT_EQ(rs[0].variables[1], (Variable{"ARGS", "foo", false, false, true}));
  EXPECT_EQ(rs[0].variables[2], (Variable{"REQUEST_HEADERS", "^x-", true, false, false}));
  EXPECT_EQ(rs[0].variables[3], (Variable{"ARGS_NAMES", "", false, false, false}));
  EXPECT_EQ(rs[1].variables.size(), 2u);
  EXPECT_EQ(rs[2].variables.size(), 2u);
  EXPECT_EQ(rs[3].variables.size(), 1u);
}

TEST(Updates, TargetReplaceForm) {
  LoadResult r = load("SecRule ARGS|REQUEST_FILENAME|ARGS_NAMES \"@rx a\" \"id:1\"\n"
                      "SecRuleUpdateTargetById 1 \"REQUEST_URI|QUERY_STRING\" REQUEST_FILENAME\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  const auto& v = r.ruleset.rules[0].variables;
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].name, "ARGS");
  EXPECT_EQ(v[1].name, "REQUEST_URI");
  EXPECT_EQ(v[2].name, "QUERY_STRING");
  EXPECT_EQ(v[3].name, "ARGS_NAMES");
}

TEST(Updates, ReplaceByTagAndMissingTargetWarning) {
  LoadResult r = load(std::string(kFive) + "SecRuleUpdateTargetByTag \"attack-xss\" ARGS_NAMES ARGS\n" +
                      "SecRuleUpdateTargetById 200 ARGS_NAMES REQUEST_URI\n");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.ruleset.rules[0].variables[0].name, "ARGS");
  EXPECT_EQ(r.ruleset.rules[1].variables[0].name, "ARGS_NAMES");
  EXPECT_EQ(r.ruleset.rules[2].variables[0].name, "ARGS_NAMES");
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:7:40: warning: SecRuleUpdateTargetById: rule 200 has no target 'REQUEST_URI' to replace"}));
}

TEST(Updates, OnlyRulesDefinedBeforeAreUpdated) {
  LoadResult r = load("SecRuleUpdateTargetById 1 !ARGS:x\nSecRule ARGS \"@rx a\" \"id:1\"\n");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.ruleset.rules[0].variables.size(), 1u);
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:1:25: warning: SecRuleUpdateTargetById: no rule with id 1 is defined before this directive"}));
}

TEST(Updates, ActionsMergeLikeModSecurity) {
  LoadResult r = load("SecRule ARGS \"@rx a\" \"id:1,phase:2,block,log,msg:'old',tag:a,t:none\"\n"
                      "SecRuleUpdateActionById 1 \"deny,status:403,nolog,msg:'new',tag:b,t:lowercase,phase:1\"\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  const Rule& x = r.ruleset.rules[0];
  std::vector<Action> want = {{"id", "1", true},       {"phase", "1", true},  {"deny", "", false},
                              {"nolog", "", false},    {"msg", "new", true},  {"tag", "a", true},
                              {"t", "none", true},     {"status", "403", true}, {"tag", "b", true},
                              {"t", "lowercase", true}};
  EXPECT_EQ(x.actions, want);
  EXPECT_EQ(x.phase, 1);
  EXPECT_EQ(diags(load("SecAction \"id:1,pass\"\nSecRuleUpdateActionById 1 \"id:2\"")),
            (std::vector<std::string>{"t.conf:2:28: error: SecRuleUpdateActionById: cannot change 'id' of a rule"}));
}

// ---------------------------------------------------------------- skipAfter

TEST(SkipAfter, UnknownTargetIsAWarning) {
  LoadResult r = load("SecAction \"id:1,pass,skipAfter:NOWHERE\"\nSecAction \"id:2,pass,skipAfter:END\"\nSecMarker END\n");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(diags(r), (std::vector<std::string>{
                          "t.conf:1:32: warning: skipAfter target 'NOWHERE' is never defined (no SecMarker or rule id)"}));
}

// ---------------------------------------------------------------- print

TEST(Print, RoundTripsAwkwardRules) {
  const char* text =
      "SecRule \"ARGS:'a b'|!ARGS:/^x|y$/|&TX:foo|XML:/a[@b='cd']|ARGS:/a\\\\/b/\" \"!@rx \\\"q\\\" \\\\d\" "
      "\"id:1,msg:'it\\'s, ok',logdata:' lead',t:none,tag:'',pass,chain\"\n"
      "  SecRule ARGS \"  leading\" \"t:lowercase\"\n";
  LoadResult a = load(text);
  ASSERT_TRUE(a.ok()) << diags(a)[0];
  std::string printed = print(a.ruleset.rules[0]);
  LoadResult b = load(printed);
  ASSERT_TRUE(b.ok()) << printed << diags(b)[0];
  EXPECT_TRUE(equalIgnoringLocation(a.ruleset.rules[0], b.ruleset.rules[0])) << printed;
  EXPECT_EQ(a.ruleset.rules[0].actions[1].value, "it's, ok");
  EXPECT_EQ(a.ruleset.rules[0].op.argument, "\"q\" \\d");
}

TEST(Print, RoundTripsRulesBuiltInMemory) {
  Rule r;
  r.kind = Rule::Kind::SecRule;
  r.variables = {{"XML", "/a[@b='c d']", false, false, false},
                 {"ARGS", "a/|b", true, false, false},
                 {"ARGS", "x,y", false, true, true}};
  r.op = {"rx", " leading blank", false};
  r.actions = {{"id", "9", true}, {"msg", "a\\'b\"c", true}, {"setvar", "tx.a=,", true}};
  r.id = 9;
  std::string printed = print(r);
  LoadResult b = load(printed);
  ASSERT_TRUE(b.ok()) << printed << diags(b)[0];
  EXPECT_TRUE(equalIgnoringLocation(r, b.ruleset.rules[0])) << printed;
}

TEST(Print, ExactText) {
  LoadResult a = load("SecRule ARGS:foo|!&TX:/^a/ \"!@pmfromfile x.data\" \"id:1,msg:a b,t:none,pass,chain\"\n"
                      "SecRule REQUEST_URI \"\\d\" \"setvar:'tx.x=1'\"\nSecAction id:2,nolog,pass\n");
  ASSERT_TRUE(a.ok()) << diags(a)[0];
  EXPECT_EQ(print(a.ruleset.rules[0]),
            "SecRule \"ARGS:foo|!&TX:/^a/\" \"!@pmFromFile x.data\" \"id:1,msg:'a b',t:none,pass,chain\"\n"
            "  SecRule \"REQUEST_URI\" \"@rx \\\\d\" \"setvar:tx.x=1\"\n");
  EXPECT_EQ(print(a.ruleset.rules[1]), "SecAction \"id:2,nolog,pass\"\n");
}

TEST(Print, Marker) {
  LoadResult a = load("SecMarker END-X\n");
  EXPECT_EQ(print(a.ruleset.rules[0]), "SecMarker \"END-X\"\n");
}

}  // namespace
}  // namespace rampart::rules
