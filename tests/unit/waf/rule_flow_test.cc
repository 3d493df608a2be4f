// Rule flow with v2 semantics: chains, skip/skipAfter, block and default
// actions, DetectionOnly, allow, ctl exclusions, setvar per match, multiMatch,
// capture, MATCHED_VAR(S) in chains.
#include "tests/unit/waf/harness.h"

namespace rampart::waf::testing {
namespace {

TEST(RuleFlow, SimpleDenyBlocksWith403) {
  auto e = compileRules(R"(SecRule ARGS:q "@contains evil" "id:1,phase:1,deny")");
  ASSERT_TRUE(e);
  Request req;
  req.uri = "/s?q=very+evil";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::Deny);
  EXPECT_EQ(r.first.status, 403);
  EXPECT_EQ(r.first.rule_id, 1);
  EXPECT_EQ(r.tx->verdict().phase, 1);
}

TEST(RuleFlow, NoMatchNoVerdict) {
  auto e = compileRules(R"(SecRule ARGS:q "@contains evil" "id:1,phase:1,deny")");
  Request req;
  req.uri = "/s?q=good";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::None);
  EXPECT_TRUE(r.tx->matches().empty());
}

TEST(RuleFlow, StatusActionSetsStatus) {
  auto e = compileRules(R"(SecRule REQUEST_METHOD "@streq DELETE" "id:2,phase:1,deny,status:405")");
  Request req;
  req.method = "DELETE";
  auto r = run(e, req);
  EXPECT_EQ(r.first.status, 405);
}

TEST(RuleFlow, DetectionOnlyNeverInterrupts) {
  auto e = compileRules("SecRuleEngine DetectionOnly\nSecRule ARGS \"@contains x\" \"id:3,phase:1,deny\"\n"
                        "SecRule ARGS \"@contains x\" \"id:4,phase:2,deny\"",
                        false);
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::None);
  EXPECT_TRUE(r.fired(3));
  EXPECT_TRUE(r.fired(4));  // everything still runs
  EXPECT_FALSE(r.tx->matches()[0].disruptive);
}

TEST(RuleFlow, EngineOffRunsNothing) {
  auto e = compileRules("SecRuleEngine Off\nSecRule ARGS \"@contains x\" \"id:3,phase:1,deny\"", false);
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_TRUE(r.tx->matches().empty());
}

TEST(RuleFlow, ChainNeedsEveryLink) {
  auto e = compileRules(R"(
SecRule REQUEST_METHOD "@streq POST" "id:10,phase:1,deny,chain"
  SecRule REQUEST_HEADERS:X-Test "@streq yes")");
  Request a;
  a.method = "POST";
  a.headers.push_back({"X-Test", "no"});
  EXPECT_EQ(run(e, a).first.action, Verdict::Action::None);
  Request b;
  b.method = "POST";
  b.headers.push_back({"X-Test", "yes"});
  EXPECT_EQ(run(e, b).first.action, Verdict::Action::Deny);
  Request c;
  c.headers.push_back({"X-Test", "yes"});
  EXPECT_EQ(run(e, c).first.action, Verdict::Action::None);
}

TEST(RuleFlow, ChainSetvarInHeadRunsEvenWhenChainFails) {
  // v2 runs a link's non-disruptive actions as soon as that link matches.
  auto e = compileRules(R"(
SecRule REQUEST_METHOD "@streq GET" "id:11,phase:1,pass,setvar:tx.head=1,chain"
  SecRule REQUEST_METHOD "@streq POST" "setvar:tx.tail=1")");
  Request req;
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("head"), "1");
  EXPECT_EQ(r.tx_("tail"), "");
  EXPECT_FALSE(r.fired(11));
}

TEST(RuleFlow, ChainMatchedVarRefersToPreviousLink) {
  auto e = compileRules(R"(
SecRule ARGS:a "@rx ^abc" "id:12,phase:1,pass,chain"
  SecRule MATCHED_VAR "@streq abcdef" "setvar:tx.ok=1")");
  Request req;
  req.uri = "/?a=abcdef";
  EXPECT_EQ(run(e, req).tx_("ok"), "1");
}

// MATCHED_VAR of a phase-1 match is read in phase 2 although another
// transaction ran in between on the same thread (a gateway worker runs the
// ready requests' phase 1, then their phase 2): the lower-cased value lived
// in the thread's transformation cache, which the other one emptied and
// wrote over ("abcd" where "evil" was). A match of a request value is kept
// as views until read or until its phase ends.
TEST(RuleFlow, MatchedVarOutlivesItsPhaseAcrossTransactions) {
  auto e = compileRules(R"(
SecRule REQUEST_HEADERS:X-A "@rx ^[a-z]{4}$" "id:1,phase:1,pass,nolog,t:lowercase"
SecRule MATCHED_VAR "@streq evil" "id:2,phase:2,pass,nolog,setvar:tx.kept=1")");
  ASSERT_TRUE(e);
  auto start = [&](Transaction& tx, const char* value) {
    tx.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
    tx.processUri("GET", "/", "HTTP/1.1");
    tx.addRequestHeader("X-A", value);
    tx.processRequestHeaders();
  };
  Transaction a(e, "a");
  start(a, "EVIL");
  {
    Transaction b(e, "b");
    start(b, "ABCD");
    b.processRequestBody();
  }
  a.processRequestBody();
  EXPECT_EQ(a.txValue("kept"), "1");
}

TEST(RuleFlow, ChainMatchedVarsAccumulateOverChain) {
  auto e = compileRules(R"(
SecRule ARGS "@rx ^x" "id:13,phase:1,pass,chain"
  SecRule &MATCHED_VARS "@eq 2" "setvar:tx.two=1")");
  Request req;
  req.uri = "/?a=x1&b=x2&c=y";
  EXPECT_EQ(run(e, req).tx_("two"), "1");
}

// A rule keeps MATCHED_VARS only when it can read them (readsMatchedVars):
// also through a macro in an action or in its chain's operator.
TEST(RuleFlow, MatchedVarsReadByMacros) {
  auto e = compileRules(R"(
SecRule ARGS "@rx ^x" "id:16,phase:1,pass,nolog,setvar:tx.mv=%{matched_vars}"
SecRule ARGS "@rx ^x" "id:17,phase:1,pass,nolog,chain"
  SecRule ARGS "@streq %{MATCHED_VARS}" "setvar:tx.again=1")");
  ASSERT_TRUE(e);
  Request req;
  req.uri = "/?a=x1&b=y";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("mv"), "x1");
  EXPECT_EQ(r.tx_("again"), "1");
}

TEST(RuleFlow, MatchedVarsClearedBetweenRules) {
  auto e = compileRules(R"(
SecRule ARGS "@rx ^x" "id:14,phase:1,pass"
SecRule &MATCHED_VARS "@eq 0" "id:15,phase:1,pass,setvar:tx.cleared=1")");
  Request req;
  req.uri = "/?a=x1";
  EXPECT_EQ(run(e, req).tx_("cleared"), "1");
}

TEST(RuleFlow, MatchedVarPersistsAcrossRules) {
  auto e = compileRules(R"(
SecRule ARGS "@rx ^x" "id:16,phase:1,pass"
SecRule MATCHED_VAR "@streq x1" "id:17,phase:1,pass,setvar:tx.seen=1")");
  Request req;
  req.uri = "/?a=x1";
  EXPECT_EQ(run(e, req).tx_("seen"), "1");
}

TEST(RuleFlow, SkipAfterJumpsToMarker) {
  auto e = compileRules(R"(
SecAction "id:20,phase:1,pass,nolog,skipAfter:END"
SecAction "id:21,phase:1,pass,setvar:tx.skipped=no"
SecMarker END
SecAction "id:22,phase:1,pass,setvar:tx.after=yes")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("skipped"), "");
  EXPECT_EQ(r.tx_("after"), "yes");
}

TEST(RuleFlow, SkipAfterOnlyWhenChainMatches) {
  auto e = compileRules(R"(
SecRule REQUEST_METHOD "@streq GET" "id:23,phase:1,pass,skipAfter:END,chain"
  SecRule REQUEST_METHOD "@streq POST"
SecAction "id:24,phase:1,pass,setvar:tx.ran=1"
SecMarker END)");
  EXPECT_EQ(run(e, Request{}).tx_("ran"), "1");
}

TEST(RuleFlow, SkipAfterMissingMarkerSkipsRestOfPhaseOnly) {
  auto e = compileRules(R"(
SecAction "id:25,phase:1,pass,skipAfter:NOWHERE"
SecAction "id:26,phase:1,pass,setvar:tx.p1=1"
SecAction "id:27,phase:2,pass,setvar:tx.p2=1")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("p1"), "");
  EXPECT_EQ(r.tx_("p2"), "1");
}

// skipAfter only looks ahead: a marker of that name behind the rule is not
// its target (the rest of the phase is skipped, as for a missing one).
TEST(RuleFlow, SkipAfterMarkerBehindSkipsRestOfPhase) {
  auto e = compileRules(R"(
SecMarker BEHIND
SecAction "id:28,phase:1,pass,nolog,skipAfter:BEHIND"
SecAction "id:29,phase:1,pass,setvar:tx.p1=1"
SecMarker BEHIND
SecAction "id:130,phase:1,pass,setvar:tx.after=1"
SecAction "id:131,phase:2,pass,setvar:tx.p2=1")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("p1"), "");
  EXPECT_EQ(r.tx_("after"), "1");  // the marker ahead of it, of the same name
  EXPECT_EQ(r.tx_("p2"), "1");
}

TEST(RuleFlow, SkipCountsChainsAsOne) {
  auto e = compileRules(R"(
SecAction "id:30,phase:1,pass,skip:1"
SecRule REQUEST_METHOD "@streq GET" "id:31,phase:1,pass,setvar:tx.a=1,chain"
  SecRule REQUEST_METHOD "@streq GET" "setvar:tx.b=1"
SecAction "id:32,phase:1,pass,setvar:tx.c=1")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("a"), "");
  EXPECT_EQ(r.tx_("b"), "");
  EXPECT_EQ(r.tx_("c"), "1");
}

TEST(RuleFlow, BlockUsesDefaultActionPass) {
  auto e = compileRules(R"(
SecDefaultAction "phase:1,log,auditlog,pass"
SecRule ARGS "@contains x" "id:40,phase:1,block")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_TRUE(r.fired(40));
  EXPECT_EQ(r.first.action, Verdict::Action::None);
}

TEST(RuleFlow, BlockUsesDefaultActionDeny) {
  auto e = compileRules(R"(
SecDefaultAction "phase:1,log,auditlog,deny,status:418"
SecRule ARGS "@contains x" "id:41,phase:1,block")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::Deny);
  EXPECT_EQ(r.first.status, 418);
}

TEST(RuleFlow, DefaultActionTransformationsApplyUnlessTNone) {
  auto e = compileRules(R"(
SecDefaultAction "phase:1,pass,t:lowercase"
SecRule ARGS:a "@streq abc" "id:42,phase:1,pass,setvar:tx.lower=1"
SecRule ARGS:a "@streq abc" "id:43,phase:1,pass,t:none,setvar:tx.none=1")");
  Request req;
  req.uri = "/?a=ABC";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("lower"), "1");
  EXPECT_EQ(r.tx_("none"), "");
}

TEST(RuleFlow, PhasesRunInOrderAndDenyStopsLaterPhases) {
  auto e = compileRules(R"(
SecAction "id:50,phase:2,pass,setvar:tx.p2=1"
SecRule REQUEST_URI "@contains stop" "id:51,phase:1,deny"
SecAction "id:52,phase:3,pass,setvar:tx.p3=1")");
  Request req;
  req.uri = "/stop";
  auto r = run(e, req);
  EXPECT_EQ(r.first.rule_id, 51);
  EXPECT_EQ(r.tx_("p2"), "");
  EXPECT_EQ(r.tx_("p3"), "");
}

TEST(RuleFlow, LoggingPhaseRunsAfterDeny) {
  auto e = compileRules(R"(
SecRule REQUEST_URI "@contains stop" "id:53,phase:1,deny"
SecAction "id:54,phase:5,pass,setvar:tx.logged=1")");
  Request req;
  req.uri = "/stop";
  EXPECT_EQ(run(e, req).tx_("logged"), "1");
}

TEST(RuleFlow, AllowStopsRemainingRequestRules) {
  auto e = compileRules(R"(
SecRule REMOTE_ADDR "@ipMatch 192.0.2.0/24" "id:60,phase:1,allow"
SecRule ARGS "@contains x" "id:61,phase:1,deny"
SecRule ARGS "@contains x" "id:62,phase:2,deny")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::Allow);
  EXPECT_FALSE(r.first.disruptive());
  EXPECT_FALSE(r.fired(61));
  EXPECT_FALSE(r.fired(62));
}

TEST(RuleFlow, AllowPhaseOnlyStopsCurrentPhase) {
  auto e = compileRules(R"(
SecAction "id:63,phase:1,allow:phase"
SecAction "id:64,phase:1,pass,setvar:tx.p1=1"
SecAction "id:65,phase:2,pass,setvar:tx.p2=1")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("p1"), "");
  EXPECT_EQ(r.tx_("p2"), "1");
}

TEST(RuleFlow, SetvarRunsPerMatchingValue) {
  auto e = compileRules(R"(SecRule ARGS "@rx ^x" "id:70,phase:1,pass,setvar:tx.score=+5")");
  Request req;
  req.uri = "/?a=x&b=x&c=y";
  EXPECT_EQ(run(e, req).tx_("score"), "10");
}

// setvar's key and value macros, split when parsed (TX only) or expanded
// whole (any other variable), read as expandInto reads them.
TEST(RuleFlow, SetvarMacrosExpandAsWritten) {
  auto e = compileRules(R"(
SecAction "id:80,phase:1,pass,nolog,setvar:tx.Name=Bob,setvar:tx.n=2"
SecRule ARGS:who "@rx ^(.+)$" "id:81,phase:1,pass,nolog,capture,setvar:'tx.hello_%{tx.1}=<%{TX.name}:%{tx.n}%{tx.nothing}>'"
SecAction "id:82,phase:1,pass,nolog,setvar:'tx.host=[%{request_headers.host}|%{tx.name}]'"
SecAction "id:83,phase:1,pass,nolog,setvar:'tx.open=a%{tx.name',setvar:'tx.bare=%{tx}x',setvar:'tx.sum=+%{tx.n}'"
SecAction "id:84,phase:1,pass,nolog,setvar:'tx.%{tx.name}_%{tx.n}=%{tx.n}%{tx.n}'")");
  Request req;
  req.uri = "/?who=Ann";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("hello_ann"), "<Bob:2>");  // keys are lower case
  EXPECT_EQ(r.tx_("host"), "[example.com|Bob]");
  EXPECT_EQ(r.tx_("open"), "a%{tx.name");
  EXPECT_EQ(r.tx_("bare"), "Annx");  // a bare %{tx}: the first TX variable in key order (TX:0)
  EXPECT_EQ(r.tx_("sum"), "2");
  EXPECT_EQ(r.tx_("bob_2"), "22");
}

TEST(RuleFlow, RuleListedOnceInMatchesEvenWithManyValues) {
  auto e = compileRules(R"(SecRule ARGS "@rx ^x" "id:71,phase:1,pass")");
  Request req;
  req.uri = "/?a=x&b=x";
  auto r = run(e, req);
  EXPECT_EQ(r.tx->matches().size(), 1u);
  EXPECT_EQ(r.tx->matches()[0].matched_var_name, "ARGS:a");
}

TEST(RuleFlow, MultiMatchTestsEveryTransformationStep) {
  // Without multiMatch only the final value (lowercased) is tested.
  auto e = compileRules(R"(
SecRule ARGS:a "@streq ABC" "id:72,phase:1,pass,t:lowercase,setvar:tx.single=1"
SecRule ARGS:a "@streq ABC" "id:73,phase:1,pass,t:lowercase,multiMatch,setvar:tx.multi=1")");
  Request req;
  req.uri = "/?a=ABC";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("single"), "");
  EXPECT_EQ(r.tx_("multi"), "1");
}

// The same through the Hyperscan prefilter (@rx links it decides): with multiMatch
// every stage is scanned, so a match only before t:lowercase still counts; the
// values of a phase are scanned together, anchors hold per value.
TEST(RuleFlow, PrefilterKeepsMultiMatchAndAnchors) {
  auto e = compileRules(R"(
SecRule ARGS "@rx ^ABC$" "id:74,phase:1,pass,t:lowercase,setvar:tx.single=1"
SecRule ARGS "@rx ^ABC$" "id:75,phase:1,pass,t:lowercase,multiMatch,setvar:tx.multi=1"
SecRule ARGS|REQUEST_HEADERS "@rx ^x=1$" "id:76,phase:1,pass,setvar:tx.anchored=1"
SecRule ARGS "@rx never-there" "id:77,phase:1,pass,setvar:tx.never=1"
SecRule REQUEST_HEADERS "@pm Y=2 z=9" "id:78,phase:1,pass,capture,setvar:tx.pm=%{tx.0}"
SecRule ARGS "@pm nowhere" "id:79,phase:1,pass,setvar:tx.pmnever=1")");
  EXPECT_EQ(e->scanStats().links, 6u);
  Request req;
  req.uri = "/?z=1&a=ABC&y=2";
  req.headers.push_back({"X-Test", "x=1"});
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("single"), "");
  EXPECT_EQ(r.tx_("multi"), "1");
  EXPECT_EQ(r.tx_("anchored"), "1");
  EXPECT_EQ(r.tx_("never"), "");
  EXPECT_EQ(r.tx_("pm"), "");
  EXPECT_EQ(r.tx_("pmnever"), "");
  req.headers.push_back({"X-Other", "y=2"});
  EXPECT_EQ(run(e, req).tx_("pm"), "y=2");  // found case-insensitively, captured as written
}

// Links that read the same variables in a phase share one scan whatever their
// transformations: each value is scanned once per distinct result. A pipeline
// that lower-cases is scanned without it, its patterns caselessly, unless the
// pattern turns caseless matching off or a later step (jsDecode) could undo it.
TEST(RuleFlow, PrefilterGroupsPipelinesAndMatchesLowercasingCaselessly) {
  auto e = compileRules(R"X(
SecRule ARGS "@rx union select" "id:81,phase:1,pass,t:none,t:lowercase,setvar:tx.lower=1"
SecRule ARGS "@rx c:windowssystem32/c dir" "id:82,phase:1,pass,t:none,t:cmdLine,setvar:tx.cmd=1"
SecRule ARGS "@rx <script" "id:83,phase:1,pass,t:none,t:urlDecodeUni,setvar:tx.decoded=1"
SecRule ARGS "@rx (?-i:abc)def" "id:84,phase:1,pass,t:none,t:lowercase,setvar:tx.caseoff=1"
SecRule ARGS "@rx ^Abc$" "id:85,phase:1,pass,t:none,t:lowercase,t:jsDecode,setvar:tx.js=1"
SecRule ARGS "@rx ^x$" "id:86,phase:1,pass,t:none,t:urlDecodeUni,t:lowercase,multiMatch,setvar:tx.multi=+1")X");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->scanStats().links, 6u);
  EXPECT_EQ(e->scanStats().databases, 2u);  // one group: its patterns with and without line anchors
  Request req;
  req.uri = "/?a=1%20UNION%20SeLeCt&b=C%5E:%5CWiNdOwS%5CsYsTem32%20,%20/c%20%20%22DIR%22&c=%253Cscript&d=ABCDEF&"
            "e=%5CU0041BC&f=%2558";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("lower"), "1");
  EXPECT_EQ(r.tx_("cmd"), "1");
  EXPECT_EQ(r.tx_("decoded"), "1");
  EXPECT_EQ(r.tx_("caseoff"), "1");
  EXPECT_EQ(r.tx_("js"), "1");
  EXPECT_EQ(r.tx_("multi"), "1");  // "%58" -> "X" -> "x"
  Request benign;
  benign.uri = "/?a=UNION&b=select&c=%3Cscrip&d=ABC&e=abc&f=y";
  r = run(e, benign);
  for (const char* v : {"lower", "cmd", "decoded", "caseoff", "js", "multi"}) EXPECT_EQ(r.tx_(v), "") << v;
}

// A group's patterns with line anchors scan values separated by '\n'; the
// others values separated by another byte, so that one that may begin at a
// line break does not start at every value. Both hold at every value.
TEST(RuleFlow, PrefilterAnchorsAndLineBreaksHoldInBothDatabases) {
  auto e = compileRules(R"X(
SecRule ARGS "@rx ^ls$" "id:91,phase:1,pass,setvar:tx.anchored=1"
SecRule ARGS "@rx [\n\r;]\s*cat\b" "id:92,phase:1,pass,setvar:tx.separated=1"
SecRule ARGS "@rx ^x" "id:93,phase:1,pass,setvar:tx.start=1")X");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->scanStats().links, 3u);
  EXPECT_EQ(e->scanStats().databases, 2u);  // one group, both kinds
  Request req;
  req.uri = "/?a=1&b=ls&c=y%0Acat%20x&d=xyz";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("anchored"), "1");
  EXPECT_EQ(r.tx_("separated"), "1");
  EXPECT_EQ(r.tx_("start"), "1");
  Request benign;
  benign.uri = "/?a=cat&b=als&c=yx";  // "cat" only after a value break; "ls" and "x" not at a value's start
  r = run(e, benign);
  for (const char* v : {"anchored", "separated", "start"}) EXPECT_EQ(r.tx_(v), "") << v;
}

// Small groups whose variables differ by single values (a request line part,
// a named header) share one scan: one Hyperscan call where there were two. A
// link is still matched only in the values it reads: reported for the extra
// value, it is evaluated in full. A group that would add a whole collection
// (every header) stays apart.
TEST(RuleFlow, PrefilterJoinsSmallGroupsThatDifferBySingleValues) {
  const char* rules = R"X(
SecRule ARGS|REQUEST_FILENAME "@rx wide1" "id:121,phase:2,pass,setvar:tx.wide=1"
SecRule ARGS "@rx narrow2" "id:122,phase:2,pass,setvar:tx.narrow=1"
SecRule ARGS|REQUEST_HEADERS:User-Agent "@rx agent3" "id:123,phase:2,pass,setvar:tx.agent=1"
SecRule ARGS|REQUEST_HEADERS "@rx header4" "id:124,phase:2,pass,setvar:tx.header=1")X";
  auto joined = compileRules(rules);
  auto apart = compileRulesWith("RAMPART_WAF_JOIN_GROUPS", "0", rules);
  ASSERT_TRUE(joined && apart);
  EXPECT_EQ(joined->scanStats().links, 4u);
  EXPECT_EQ(joined->scanStats().databases, 3u);  // ARGS joins ARGS|REQUEST_FILENAME; the others apart
  EXPECT_EQ(apart->scanStats().databases, 4u);
  for (const auto& e : {joined, apart}) {
    Request in_path;
    in_path.uri = "/narrow2/header4?a=1";  // in REQUEST_FILENAME, which 122 and 124 do not read
    in_path.headers.push_back({"X-Other", "agent3"});  // a header 123 does not read
    auto r = run(e, in_path);
    for (const char* v : {"wide", "narrow", "agent", "header"}) EXPECT_EQ(r.tx_(v), "") << v;
    Request hits;
    hits.uri = "/wide1?a=narrow2&b=agent3";
    hits.headers.push_back({"User-Agent", "x"});
    hits.headers.push_back({"X-Other", "header4"});
    r = run(e, hits);
    for (const char* v : {"wide", "narrow", "agent", "header"}) EXPECT_EQ(r.tx_(v), "1") << v;
  }
}

// Links no database decides that read untransformed values share a RegexSet:
// the same matches, variables and captures as without the prefilter.
TEST(RuleFlow, RegexSetKeepsResults) {
  const char* rules = R"X(
SecRule ARGS "@rx ^(?:x*|abc)$" "id:101,phase:1,pass,log,setvar:tx.r101=+1"
SecRule ARGS_NAMES|ARGS "@rx (?:z*|def)$" "id:102,phase:1,pass,log,setvar:tx.r102=+1"
SecRule ARGS "@rx ^(q*)(ghi)?$" "id:103,phase:1,pass,log,capture,setvar:tx.r103=%{tx.2}"
SecRule ARGS "@rx a(?<=a)b" "id:104,phase:1,pass,log,setvar:tx.r104=1")X";
  auto with = compileRules(rules);
  auto without = compileRulesWith("RAMPART_WAF_PREFILTER", "0", rules);
  ASSERT_TRUE(with && without);
  for (const char* uri : {"/?a=abc&b=def&c=ghi&d=ab", "/?a=&zz=1", "/?a=abcd&b=xdefx&c=qqghi", "/?x=1"}) {
    Request req;
    req.uri = uri;
    auto w = run(with, req);
    auto o = run(without, req);
    EXPECT_EQ(w.ids(), o.ids()) << uri;
    ASSERT_EQ(w.tx->matches().size(), o.tx->matches().size()) << uri;
    for (size_t i = 0; i < w.tx->matches().size(); ++i)
      EXPECT_EQ(w.tx->matches()[i].matched_var_name, o.tx->matches()[i].matched_var_name) << uri;
    for (const char* v : {"r101", "r102", "r103", "r104"}) EXPECT_EQ(w.tx_(v), o.tx_(v)) << uri << " " << v;
  }
  Request req;
  req.uri = "/?a=abc&b=def&c=ghi";
  auto w = run(with, req);
  EXPECT_EQ(w.tx_("r101"), "1");
  EXPECT_EQ(w.tx_("r103"), "ghi");
}

// A TX variable's name is kept as first written; a name written in lower case
// is the key itself (no copy of it is kept), and reads back the same.
TEST(RuleFlow, TxNamesReadBackAsWritten) {
  auto e = compileRules(R"X(
SecRule ARGS:a "@rx ." "id:111,phase:1,pass,nolog,setvar:tx.header_name_Mixed_Case_long=x,setvar:tx.header_name_lower_case_long=y"
SecRule TX:/^header_name_/ "@rx ^x$" "id:112,phase:1,pass,nolog,setvar:tx.first=%{matched_var_name}"
SecRule TX:/^header_name_/ "@rx ^y$" "id:113,phase:1,pass,nolog,setvar:tx.second=%{matched_var_name}"
SecRule TX:header_name_lower_case_long "@rx ^y$" "id:114,phase:1,pass,nolog,setvar:tx.third=%{matched_var_name}"
SecAction "id:115,phase:1,pass,nolog,setvar:tx.HEADER_NAME_lower_case_long=z"
SecRule TX:/^header_name_lower/ "@rx ^z$" "id:116,phase:1,pass,nolog,setvar:tx.fourth=%{matched_var_name}")X");
  ASSERT_TRUE(e);
  Request req;
  req.uri = "/?a=1";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("first"), "TX:header_name_Mixed_Case_long");
  EXPECT_EQ(r.tx_("second"), "TX:header_name_lower_case_long");
  EXPECT_EQ(r.tx_("third"), "TX:header_name_lower_case_long");
  EXPECT_EQ(r.tx_("fourth"), "TX:header_name_lower_case_long");  // a later spelling does not rename it
}

// matches() lists every rule that fired, nolog ones with their id, phase and
// severity only, in firing order, and follows later phases after it was
// read; loggedMatches() lists the logged ones with their details.
TEST(RuleFlow, MatchesInOrderNologOnesBrief) {
  auto e = compileRules(R"X(
SecAction "id:141,phase:1,pass,nolog,severity:2,setvar:tx.a=1"
SecRule REQUEST_HEADERS:X-Tag "@rx evil" "id:142,phase:1,pass,log,msg:'tag %{matched_var}',tag:'t1',severity:2"
SecAction "id:143,phase:1,pass,nolog"
SecRule REQUEST_HEADERS:X-Tag "@rx evil" "id:144,phase:2,pass,log,msg:'again',logdata:'%{matched_var_name}'"
SecAction "id:145,phase:2,pass,nolog")X");
  ASSERT_TRUE(e);
  Transaction tx(e, "t");
  tx.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
  tx.processUri("GET", "/", "HTTP/1.1");
  tx.addRequestHeader("X-Tag", "evil");
  tx.processRequestHeaders();
  auto ids = [&] {
    std::vector<int64_t> v;
    for (const auto& m : tx.matches()) v.push_back(m.id);
    return v;
  };
  EXPECT_EQ(ids(), (std::vector<int64_t>{141, 142, 143}));
  tx.processRequestBody();
  EXPECT_EQ(ids(), (std::vector<int64_t>{141, 142, 143, 144, 145}));
  const auto& all = tx.matches();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_FALSE(all[0].logged);
  EXPECT_EQ(all[0].severity, 2);
  EXPECT_EQ(all[0].phase, 1);
  EXPECT_TRUE(all[0].msg.empty());
  EXPECT_TRUE(all[1].logged);
  EXPECT_EQ(all[1].msg, "tag evil");
  EXPECT_EQ(all[1].tags, (std::vector<std::string>{"t1"}));
  EXPECT_EQ(all[4].phase, 2);
  const auto& logged = tx.loggedMatches();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].id, 142);
  EXPECT_EQ(logged[1].id, 144);
  EXPECT_EQ(logged[1].logdata, "REQUEST_HEADERS:X-Tag");
  EXPECT_EQ(logged[1].matched_data, "evil");
}

// Requests in flight on one thread take turns (a worker runs one's phase 1,
// then another's, then the first one's later phases): the transformation
// cache is the thread's, and each transaction sees only its own values in it,
// in every phase, whoever ran in between.
TEST(RuleFlow, InterleavedTransactionsEachSeeTheirOwnTransformations) {
  auto e = compileRules(R"X(
SecRule REQUEST_HEADERS:X-Tag "@rx ^evil-[a-z]+$" "id:131,phase:1,pass,nolog,t:lowercase,t:removeWhitespace,setvar:tx.p1=%{matched_var}"
SecRule REQUEST_HEADERS:X-Tag "@rx ^evil-[a-z]+$" "id:132,phase:2,pass,nolog,t:lowercase,t:removeWhitespace,setvar:tx.p2=%{matched_var}"
SecRule REQUEST_HEADERS:X-Tag "@rx ^good-[a-z]+$" "id:133,phase:3,pass,nolog,t:lowercase,t:removeWhitespace,setvar:tx.p3=%{matched_var}"
SecRule REQUEST_HEADERS:X-Tag "@rx ^evil-[a-z]+$" "id:134,phase:5,pass,nolog,t:lowercase,t:removeWhitespace,setvar:tx.p5=%{matched_var}")X");
  ASSERT_TRUE(e);
  const std::string evil = "EVIL - ONE", good = "GOOD - TWO";  // as long as each other
  std::vector<std::unique_ptr<Transaction>> txs;
  for (const std::string* v : {&evil, &good, &evil, &good}) {
    auto& tx = *txs.emplace_back(std::make_unique<Transaction>(e, "t"));
    tx.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
    tx.processUri("GET", "/", "HTTP/1.1");
    tx.addRequestHeader("X-Tag", *v);
  }
  for (auto& tx : txs) tx->processRequestHeaders();
  for (auto it = txs.rbegin(); it != txs.rend(); ++it) (*it)->processRequestBody();
  for (auto& tx : txs) {
    tx->setResponseStatus(200, "HTTP/1.1");
    tx->processResponseHeaders();
  }
  for (auto it = txs.rbegin(); it != txs.rend(); ++it) (*it)->processLogging();
  for (size_t i = 0; i < txs.size(); ++i) {
    const bool is_evil = i % 2 == 0;
    EXPECT_EQ(txs[i]->txValue("p1"), is_evil ? "evil-one" : "") << i;
    EXPECT_EQ(txs[i]->txValue("p2"), is_evil ? "evil-one" : "") << i;
    EXPECT_EQ(txs[i]->txValue("p3"), is_evil ? "" : "good-two") << i;
    EXPECT_EQ(txs[i]->txValue("p5"), is_evil ? "evil-one" : "") << i;
  }
}

// A form's arguments view the body as it was buffered when phase 2 ran:
// body bytes handed over after that are not buffered (and so cannot move
// what the arguments view), and the phase-5 rules see the arguments of the
// body that was inspected.
TEST(RuleFlow, BodyAppendedAfterProcessingIsNotBuffered) {
  auto e = compileRules(R"X(
SecRequestBodyAccess On
SecRule ARGS_POST:message "@rx ^[a-z ]+$" "id:141,phase:2,pass,nolog,setvar:tx.p2=%{matched_var}"
SecRule ARGS_POST:message "@rx ^[a-z ]+$" "id:142,phase:5,pass,nolog,setvar:tx.p5=%{matched_var}"
SecRule &ARGS_POST "@eq 2" "id:143,phase:5,pass,nolog,setvar:tx.count=2"
SecRule REQUEST_BODY "@rx later" "id:144,phase:5,pass,nolog,setvar:tx.later=1")X");
  Transaction tx(e, "t");
  tx.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
  tx.processUri("POST", "/contact", "HTTP/1.1");
  tx.addRequestHeader("Content-Type", "application/x-www-form-urlencoded");
  tx.processRequestHeaders();
  ASSERT_TRUE(tx.appendRequestBody("email=a%40b.example&message=a+longer+message+than+a+short+string"));
  tx.processRequestBody();
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(tx.appendRequestBody("&later=" + std::string(1000, 'x')));
  tx.processResponseHeaders();
  tx.processLogging();
  EXPECT_EQ(tx.txValue("p2"), "a longer message than a short string");
  EXPECT_EQ(tx.txValue("p5"), "a longer message than a short string");
  EXPECT_EQ(tx.txValue("count"), "2");
  EXPECT_EQ(tx.txValue("later"), "");
}

// A transaction made from a reference to the engine (the gateway's: its
// connection keeps the engine alive) does not copy the engine's shared_ptr,
// and runs the rules as one made from the shared_ptr does.
TEST(RuleFlow, TransactionBorrowingTheEngineLeavesItsCountAlone) {
  auto e = compileRules(R"(SecRule ARGS:q "@contains evil" "id:1,phase:1,deny")");
  ASSERT_TRUE(e);
  const long before = e.use_count();
  {
    Transaction tx(*e, "borrowed");
    EXPECT_EQ(e.use_count(), before);
    tx.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
    tx.processUri("GET", "/s?q=very+evil", "HTTP/1.1");
    const Verdict v = tx.processRequestHeaders();
    EXPECT_EQ(v.action, Verdict::Action::Deny);
    EXPECT_EQ(v.rule_id, 1);
  }
  {
    Transaction tx(e, "owning");
    EXPECT_EQ(e.use_count(), before + 1);
  }
  EXPECT_EQ(e.use_count(), before);
}

// A transaction works in buffers the previous one on its thread used (the
// transformation cache, MATCHED_VAR, the collections' arena): none of the
// first request's values shows in the second, even where its memory is reused.
TEST(RuleFlow, NothingOfOneRequestShowsInTheNext) {
  auto e = compileRules(R"X(
SecAction "id:119,phase:1,pass,nolog,setvar:tx.from_init=1"
SecRule MATCHED_VAR "@rx ." "id:120,phase:1,pass,nolog,setvar:tx.saw_var=%{matched_var}"
SecRule MATCHED_VAR_NAME "@rx ." "id:121,phase:1,pass,nolog,setvar:tx.saw_name=%{matched_var_name}"
SecRule MATCHED_VARS "@rx ." "id:122,phase:1,pass,nolog,setvar:tx.saw_vars=1"
SecRule REQUEST_HEADERS:X-First|REQUEST_COOKIES:first|QUERY_STRING|REQUEST_LINE "@rx first" "id:126,phase:1,pass,nolog,setvar:tx.saw_first=%{matched_var_name}"
SecRule ARGS:a "@rx ^secret_(\w+)$" "id:123,phase:1,pass,nolog,capture,t:lowercase,setvar:tx.written_by_the_first_request=%{tx.1}%{tx.1}"
SecRule REQUEST_METHOD "@rx ." "id:125,phase:1,pass,nolog,setvar:tx.from_init=+1"
SecRule ARGS:a "@rx ^secret_value_of_the_first_request$" "id:124,phase:1,deny,t:lowercase")X");
  ASSERT_TRUE(e);
  // Each transaction ends before the next begins (a Run keeps its own alive).
  for (int round = 0; round < 3; ++round) {
    {
      Request req;
      req.uri = "/?a=SECRET_VALUE_OF_THE_FIRST_REQUEST";
      req.headers.push_back({"X-First", "first"});
      req.headers.push_back({"Cookie", "first=first"});
      auto r = run(e, req);
      EXPECT_TRUE(r.fired(124));
      EXPECT_EQ(r.tx_("saw_first"), "REQUEST_COOKIES:first");  // (the last of its matches)
      EXPECT_EQ(r.tx_("written_by_the_first_request"), "value_of_the_first_requestvalue_of_the_first_request");
      EXPECT_EQ(r.tx_("from_init"), "2");  // the engine's folded value, not one a request changed
    }
    {
      Request req;
      req.uri = "/?a=SECRET_VALUE_OF_THE_OTHER_REQUEST";  // as long: a reused address may hold it
      auto r = run(e, req);
      EXPECT_FALSE(r.fired(124)) << "round " << round;
      EXPECT_TRUE(r.fired(123));
      EXPECT_EQ(r.tx_("saw_var"), "");
      EXPECT_EQ(r.tx_("saw_name"), "");
      EXPECT_EQ(r.tx_("saw_vars"), "");
      EXPECT_EQ(r.tx_("saw_first"), "");
      EXPECT_EQ(r.tx_("1"), "value_of_the_other_request");
      EXPECT_EQ(r.tx_("written_by_the_first_request"), "value_of_the_other_requestvalue_of_the_other_request");
    }
    {
      Request req;
      req.uri = "/?b=1";
      auto r = run(e, req);
      EXPECT_FALSE(r.fired(123));
      EXPECT_FALSE(r.fired(124));
      EXPECT_EQ(r.tx_("1"), "");
      EXPECT_EQ(r.tx_("written_by_the_first_request"), "");
      EXPECT_EQ(r.tx_("saw_var"), "");
      EXPECT_EQ(r.tx_("from_init"), "2");
      EXPECT_EQ(r.tx_("saw_first"), "");  // the first request's headers, cookies, query, request line
    }
  }
}

TEST(RuleFlow, CaptureFillsTxDigits) {
  auto e = compileRules(R"X(SecRule ARGS:a "@rx (\d+)-(\d+)" "id:80,phase:1,pass,capture,setvar:tx.sum=%{tx.1}%{tx.2}")X");
  Request req;
  req.uri = "/?a=12-34";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("0"), "12-34");
  EXPECT_EQ(r.tx_("1"), "12");
  EXPECT_EQ(r.tx_("2"), "34");
  EXPECT_EQ(r.tx_("sum"), "1234");
}

// A later capture with fewer groups removes the digits it did not set, and
// only them: longer keys that start with a digit stay.
TEST(RuleFlow, FewerCapturesRemoveTheRestOfTheDigits) {
  auto e = compileRules(R"X(SecRule ARGS:a "@rx (\d+)-(\d+)" "id:82,phase:1,pass,capture,setvar:tx.10=ten,setvar:tx.1x=keep"
SecRule ARGS:b "@rx \d+" "id:83,phase:1,pass,capture")X");
  Request req;
  req.uri = "/?a=12-34&b=56";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("0"), "56");
  EXPECT_EQ(r.tx_("1"), "");
  EXPECT_EQ(r.tx_("2"), "");
  EXPECT_EQ(r.tx_("10"), "ten");
  EXPECT_EQ(r.tx_("1x"), "keep");
}

// A link that reads TX:0 and captures (CRS 932207's chain) replaces TX:0 while
// its target still views the old value: MATCHED_VAR is the value it read.
TEST(RuleFlow, CaptureOverTxZeroKeepsTheValueItRead) {
  auto e = compileRules(R"X(SecRule ARGS:a "@rx ^.*$" "id:84,phase:1,pass,capture,chain"
  SecRule TX:0 "@rx c(d)" "capture,chain"
    SecRule MATCHED_VAR "@streq abcde" "setvar:tx.read=%{MATCHED_VAR}")X");
  Request req;
  req.uri = "/?a=abcde";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("read"), "abcde");
  EXPECT_EQ(r.tx_("0"), "cd");
  EXPECT_EQ(r.tx_("1"), "d");
}

TEST(RuleFlow, WithoutCaptureTxDigitsUntouched) {
  auto e = compileRules(R"X(SecRule ARGS:a "@rx (\d+)" "id:81,phase:1,pass")X");
  Request req;
  req.uri = "/?a=12";
  EXPECT_EQ(run(e, req).tx_("1"), "");
}

TEST(RuleFlow, NegatedOperator) {
  auto e = compileRules(R"(SecRule REQUEST_METHOD "!@within GET HEAD" "id:90,phase:1,deny")");
  Request a;
  EXPECT_EQ(run(e, a).first.action, Verdict::Action::None);
  Request b;
  b.method = "PUT";
  EXPECT_EQ(run(e, b).first.action, Verdict::Action::Deny);
}

TEST(RuleFlow, NegatedOperatorWithNoTargetDoesNotMatch) {
  auto e = compileRules(R"(SecRule ARGS:missing "!@streq x" "id:91,phase:1,deny")");
  EXPECT_EQ(run(e, Request{}).first.action, Verdict::Action::None);
}

TEST(RuleFlow, CtlRuleRemoveByIdAffectsLaterRules) {
  auto e = compileRules(R"(
SecAction "id:100,phase:1,pass,ctl:ruleRemoveById=102"
SecAction "id:101,phase:1,pass,ctl:ruleRemoveById=200-299"
SecRule ARGS "@contains x" "id:102,phase:2,deny"
SecRule ARGS "@contains x" "id:250,phase:2,deny"
SecRule ARGS "@contains x" "id:300,phase:2,pass")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::None);
  EXPECT_TRUE(r.fired(300));
}

TEST(RuleFlow, CtlRuleRemoveByTag) {
  auto e = compileRules(R"(
SecAction "id:110,phase:1,pass,ctl:ruleRemoveByTag=attack-sqli"
SecRule ARGS "@contains x" "id:111,phase:1,deny,tag:'attack-sqli'"
SecRule ARGS "@contains x" "id:112,phase:1,pass,tag:'attack-xss'")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(111));
  EXPECT_TRUE(r.fired(112));
}

// A tag with a macro is expanded when the rule is reached (CRS tags rules
// 'platform-%{tx.platform}'-style); literal tags were matched at compile time.
TEST(RuleFlow, CtlRuleRemoveByTagExpandsMacroTags) {
  auto e = compileRules(R"(
SecAction "id:113,phase:1,pass,setvar:tx.lang=sqli,ctl:ruleRemoveByTag=attack-sqli"
SecRule ARGS "@contains x" "id:114,phase:1,pass,tag:'attack-%{tx.lang}'"
SecRule ARGS "@contains x" "id:115,phase:1,pass,tag:'attack-%{tx.other}'"
SecRule ARGS "@contains x" "id:116,phase:1,pass,tag:'attack-xss',tag:'attack-sqli'")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(114));
  EXPECT_TRUE(r.fired(115));
  EXPECT_FALSE(r.fired(116));  // its second tag
}

TEST(RuleFlow, CtlRuleRemoveByMsg) {
  auto e = compileRules(R"(
SecAction "id:117,phase:1,pass,ctl:ruleRemoveByMsg=^Legacy"
SecRule ARGS "@contains x" "id:118,phase:1,pass,msg:'Legacy check'"
SecRule ARGS "@contains x" "id:119,phase:1,pass,msg:'Current check'")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(118));
  EXPECT_TRUE(r.fired(119));
}

TEST(RuleFlow, CtlRuleRemoveTargetById) {
  auto e = compileRules(R"(
SecAction "id:120,phase:1,pass,ctl:ruleRemoveTargetById=121;ARGS:password"
SecRule ARGS "@contains '" "id:121,phase:1,deny")");
  Request a;
  a.uri = "/?password=o'brien";
  EXPECT_EQ(run(e, a).first.action, Verdict::Action::None);
  Request b;
  b.uri = "/?user=o'brien";
  EXPECT_EQ(run(e, b).first.action, Verdict::Action::Deny);
}

TEST(RuleFlow, CtlRuleRemoveTargetByTagWithRegexSelector) {
  auto e = compileRules(R"(
SecAction "id:122,phase:1,pass,ctl:ruleRemoveTargetByTag=sqli;ARGS:/^pw_/"
SecRule ARGS "@contains '" "id:123,phase:1,deny,tag:sqli")");
  Request a;
  a.uri = "/?PW_1=o'brien";
  EXPECT_EQ(run(e, a).first.action, Verdict::Action::None);
}

TEST(RuleFlow, CtlRuleEngineOffStopsEvaluation) {
  auto e = compileRules(R"(
SecAction "id:130,phase:1,pass,ctl:ruleEngine=Off"
SecRule ARGS "@contains x" "id:131,phase:1,deny")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(131));
}

TEST(RuleFlow, CtlRuleEngineDetectionOnly) {
  auto e = compileRules(R"(
SecAction "id:132,phase:1,pass,ctl:ruleEngine=DetectionOnly"
SecRule ARGS "@contains x" "id:133,phase:1,deny")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_TRUE(r.fired(133));
  EXPECT_EQ(r.first.action, Verdict::Action::None);
}

TEST(RuleFlow, RedirectVerdict) {
  auto e = compileRules(R"(SecRule ARGS "@contains x" "id:140,phase:1,redirect:'https://example.com/%{tx.none}blocked'")");
  Request req;
  req.uri = "/?a=x";
  auto r = run(e, req);
  EXPECT_EQ(r.first.action, Verdict::Action::Redirect);
  EXPECT_EQ(r.first.status, 302);
  EXPECT_EQ(r.first.redirect_url, "https://example.com/blocked");
}

TEST(RuleFlow, DropVerdict) {
  auto e = compileRules(R"(SecRule ARGS "@contains x" "id:141,phase:1,drop")");
  Request req;
  req.uri = "/?a=x";
  EXPECT_EQ(run(e, req).first.action, Verdict::Action::Drop);
}

TEST(RuleFlow, MatchedRuleCarriesExpandedMessageAndLogdata) {
  auto e = compileRules(
      R"(SecRule ARGS "@rx evil" "id:150,phase:1,pass,severity:CRITICAL,tag:t1,msg:'Bad %{MATCHED_VAR_NAME}',logdata:'Data: %{MATCHED_VAR}'")");
  Request req;
  req.uri = "/?q=evil";
  auto r = run(e, req);
  ASSERT_EQ(r.tx->matches().size(), 1u);
  const auto& m = r.tx->matches()[0];
  EXPECT_EQ(m.msg, "Bad ARGS:q");
  EXPECT_EQ(m.logdata, "Data: evil");
  EXPECT_EQ(m.severity, 2);
  EXPECT_EQ(m.tags, std::vector<std::string>{"t1"});
  EXPECT_EQ(m.phase, 1);
}

TEST(RuleFlow, NologRuleListedButNotLogged) {
  auto e = compileRules(R"(SecAction "id:151,phase:1,pass,nolog")");
  auto r = run(e, Request{});
  ASSERT_EQ(r.tx->matches().size(), 1u);
  EXPECT_FALSE(r.tx->matches()[0].logged);
}

TEST(RuleFlow, AnomalyScoringLikeCrs) {
  auto e = compileRules(R"(
SecDefaultAction "phase:2,log,auditlog,pass"
SecAction "id:900,phase:1,pass,nolog,setvar:tx.critical=5,setvar:tx.threshold=5,setvar:tx.score=0"
SecRule ARGS "@rx select" "id:901,phase:2,block,setvar:'tx.score=+%{tx.critical}'"
SecRule TX:SCORE "@ge %{tx.threshold}" "id:949,phase:2,deny,msg:'score %{tx.score}'")");
  Request a;
  a.uri = "/?q=select";
  auto r = run(e, a);
  EXPECT_EQ(r.first.rule_id, 949);
  EXPECT_EQ(r.tx->matches().back().msg, "score 5");
  Request b;
  b.uri = "/?q=ok";
  EXPECT_EQ(run(e, b).first.action, Verdict::Action::None);
}

TEST(RuleFlow, AuditRelevance) {
  auto e = compileRules("SecAuditEngine RelevantOnly\nSecRule ARGS \"@contains x\" \"id:160,phase:1,pass,log\"\n"
                        "SecRule ARGS \"@contains y\" \"id:161,phase:1,pass,noauditlog\"");
  Request a;
  a.uri = "/?a=x";
  EXPECT_TRUE(run(e, a).tx->isAuditRelevant());
  Request b;
  b.uri = "/?a=y";
  EXPECT_FALSE(run(e, b).tx->isAuditRelevant());
}

TEST(RuleFlow, CompileErrorsAreReported) {
  std::vector<rules::Diagnostic> errors;
  rules::ParseOptions opts;
  auto loaded = rules::loadString("SecRule ARGS \"@rx (unclosed\" \"id:1,phase:1,deny\"", "<t>", opts);
  ASSERT_TRUE(loaded.ok());
  auto c = Engine::compile(loaded.ruleset);
  EXPECT_FALSE(c.ok());
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_NE(c.errors[0].message.find("rule 1"), std::string::npos);
}

TEST(RuleFlow, UnsupportedOperatorIsCompileError) {
  rules::ParseOptions opts;
  auto loaded = rules::loadString("SecRule REMOTE_ADDR \"@rbl sbl.example\" \"id:2,phase:1,deny\"", "<t>", opts);
  if (!loaded.ok()) GTEST_SKIP() << "parser rejects @rbl itself";
  auto c = Engine::compile(loaded.ruleset);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.errors[0].message.find("not supported"), std::string::npos);
}

}  // namespace
}  // namespace rampart::waf::testing

namespace rampart::waf::testing {
namespace {

// With the experimental prefilter on, results are the same as without it
// (including negated operators, whose raw result the prefilter decides).
TEST(RuleFlow, PrefilterKeepsResults) {
  auto e = compileRulesWith("RAMPART_WAF_PREFILTER", "1", R"(
SecRule ARGS "@rx (?i)union\s+select" "id:1,phase:1,pass,t:lowercase,setvar:tx.sqli=+1"
SecRule ARGS "!@rx ^[a-z0-9]+$" "id:2,phase:1,pass,t:lowercase,setvar:tx.odd=+1"
SecRule ARGS "@rx ^abc" "id:3,phase:1,pass,t:none,setvar:tx.abc=+1")");
  Request req;
  req.uri = "/?a=1%20UNION%20SELECT%202&b=ABC&c=x";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("sqli"), "1");
  EXPECT_EQ(r.tx_("odd"), "1");
  EXPECT_EQ(r.tx_("abc"), "");  // t:none: "ABC" is not "abc"
}

}  // namespace
}  // namespace rampart::waf::testing

namespace rampart::waf::testing {
namespace {

// Phase-1 rules that read and write only TX (CRS's initialisation) are run
// once when the rules compile; each transaction starts from their TX. What
// reads anything else ends the folded run; rules that leave TX alone (a
// Content-Type ctl) may sit between folded ones.
const char* kInitRules = R"(
SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:10,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecAction "id:11,phase:1,pass,nolog,setvar:tx.base=5,setvar:tx.Mixed_Case=x"
SecRule &TX:limit "@eq 0" "id:12,phase:1,pass,nolog,setvar:tx.limit=%{tx.base}"
SecRule TX:limit "@lt 3" "id:13,phase:1,deny,status:403,log"
SecRule REQUEST_HEADERS:X-Bump "@rx ." "id:14,phase:1,pass,nolog,setvar:tx.limit=+10"
SecRule TX:limit "@eq 15" "id:15,phase:1,deny,status:406,log"
SecRule TX:limit "@eq 5" "id:16,phase:1,pass,log,setvar:tx.base=+1"
)";

TEST(RuleFlow, FoldedInitialisationKeepsPerRequestSemantics) {
  auto engine = compileRules(kInitRules);
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->foldedRules(), 3u);  // 11, 12, 13; 14 reads a header
  Request plain;
  for (int i = 0; i < 2; ++i) {  // a write of a folded value is the transaction's own
    auto r = run(engine, plain);
    EXPECT_EQ(r.first.action, Verdict::Action::None);
    EXPECT_TRUE(r.fired(16));
    EXPECT_FALSE(r.fired(13));
    EXPECT_EQ(r.tx_("limit"), "5");
    EXPECT_EQ(r.tx_("base"), "6");
    EXPECT_EQ(r.tx_("mixed_case"), "x");
  }
  Request bump;
  bump.headers.push_back({"X-Bump", "1"});
  auto b = run(engine, bump);
  EXPECT_EQ(b.first.status, 406);
  EXPECT_TRUE(b.fired(15));
}

// A TX-only rule that would log (or block) when it matches is not folded: its
// record and verdict stay per request, and so does everything after it.
TEST(RuleFlow, InitialisationThatLogsIsNotFolded) {
  auto engine = compileRules(R"(
SecAction "id:21,phase:1,pass,nolog,setvar:tx.a=1"
SecRule TX:a "@eq 1" "id:22,phase:1,pass,log,msg:'seen',setvar:tx.b=2"
SecRule TX:b "@eq 2" "id:23,phase:1,deny,status:403,log"
)");
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->foldedRules(), 1u);
  Request plain;
  auto r = run(engine, plain);
  EXPECT_TRUE(r.fired(22));
  EXPECT_EQ(r.first.status, 403);
  EXPECT_EQ(r.first.rule_id, 23);
}

// A nolog rule that only moves the flow and reads TX no rule writes at run time
// (CRS's paranoia-level skips) is decided once, on the folded TX; each request
// records its match, takes its skipAfter and sees its MATCHED_VAR as if it ran.
// A TX variable a setvar names (also by a macro key's literal start, or TX:0-9
// with a capture) keeps its rules evaluated per request.
const char* kConstantRules = R"(
SecAction "id:31,phase:1,pass,nolog,setvar:tx.detection_paranoia_level=1,setvar:tx.header_level=2,setvar:tx.fixed=7"
SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 1" "id:32,phase:1,pass,nolog,skipAfter:END-P1"
SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "id:33,phase:2,pass,nolog,skipAfter:END-P2"
SecRule ARGS "@rx attack" "id:34,phase:2,deny,status:403,log"
SecMarker END-P2
SecRule MATCHED_VAR_NAME "@rx (?i)^TX:DETECTION_PARANOIA_LEVEL$" "id:35,phase:2,pass,log,setvar:tx.seen=%{matched_var}"
SecRule ARGS "@rx x" "id:36,phase:2,pass,log,setvar:tx.score=+1"
SecRule TX:score "@ge 1" "id:37,phase:2,pass,nolog,skipAfter:END-P2B"
SecRule ARGS "@rx xx" "id:38,phase:2,pass,log"
SecMarker END-P2B
SecRule REQUEST_HEADERS_NAMES "@rx ^.*$" "id:39,phase:2,pass,nolog,capture,setvar:'tx.header_%{tx.0}=1'"
SecRule TX:header_level "@eq 2" "id:40,phase:2,pass,nolog,skip:1"
SecRule ARGS "@rx x" "id:41,phase:2,pass,log"
SecRule TX:fixed "@eq %{tx.fixed}" "id:42,phase:2,pass,nolog,skip:1"
SecRule ARGS "@rx x" "id:43,phase:2,pass,log"
SecRule MATCHED_VAR "@rx ^7$" "id:48,phase:2,pass,nolog,setvar:tx.mv=%{matched_var}"
SecRule TX:0 "@rx ." "id:44,phase:2,pass,nolog,skip:1"
SecRule ARGS "@rx x" "id:45,phase:2,pass,log"
SecRule TX:DETECTION_PARANOIA_LEVEL "@eq 9" "id:46,phase:2,pass,nolog,skip:1"
SecRule ARGS "@rx x" "id:47,phase:2,pass,log"
SecMarker END-P1
)";

TEST(RuleFlow, RulesDecidedByUnwrittenTxRunAsIfEvaluated) {
  auto decided = compileRules(kConstantRules);
  ASSERT_TRUE(decided);
  EXPECT_EQ(decided->foldedRules(), 2u);    // 31, 32
  EXPECT_EQ(decided->constantRules(), 3u);  // 33, 42, 46; not 37 (score), 40 (header_), 44 (TX:0)
  auto evaluated = compileRulesWith("RAMPART_WAF_FOLD_INIT", "0", kConstantRules);
  ASSERT_TRUE(evaluated);
  EXPECT_EQ(evaluated->constantRules(), 0u);
  for (const char* uri : {"/?a=attack", "/?a=xx", "/?a=y"}) {
    Request req;
    req.uri = uri;
    auto d = run(decided, req);
    auto e = run(evaluated, req);
    auto ids = e.ids();  // less 31, whose nolog match a folded run does not record
    ids.erase(std::remove(ids.begin(), ids.end(), 31), ids.end());
    EXPECT_EQ(d.ids(), ids) << uri;
    EXPECT_EQ(d.first.action, Verdict::Action::None) << uri;  // 34 skipped
    EXPECT_TRUE(d.fired(33) && d.fired(42) && !d.fired(32) && !d.fired(46)) << uri;
    EXPECT_EQ(d.tx_("seen"), "TX:detection_paranoia_level") << uri;  // MATCHED_VAR_NAME as 33 left it
    EXPECT_EQ(d.fired(37), std::string(uri) == "/?a=xx") << uri;  // 37 reads a score set per request
    for (const char* v : {"seen", "score", "header_host"}) EXPECT_EQ(d.tx_(v), e.tx_(v)) << uri << " " << v;
    // MATCHED_VAR as 42 (decided at compile time) left it: TX:fixed's 7.
    EXPECT_EQ(d.tx_("mv"), "7") << uri;
    EXPECT_EQ(e.tx_("mv"), "7") << uri;
    auto named = [](const testing::Run& r) {  // (less 31, as above)
      std::vector<std::string> out;
      for (const auto& m : r.tx->matches())
        if (m.id != 31) out.push_back(std::to_string(m.id) + " " + m.matched_var_name + "=" + m.matched_data);
      return out;
    };
    EXPECT_EQ(named(d), named(e)) << uri;
  }
}

// The TX path (Engine::simulateTxPath): rules that read and write only TX are
// replayed from a compile-time run while a request leaves what they read
// alone, and leave TX, the matches and MATCHED_VAR(_NAME) as evaluating them
// would. Off the path by: a write to a variable they read (102), a rule taken
// as not matching that skips (103), a ctl removing a replayed rule (104).
TEST(RuleFlow, ReplayedTxRulesLeaveWhatEvaluatingThemWould) {
  const char* rules = R"(
SecAction "id:101,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1,setvar:tx.threshold=5,setvar:tx.score_pl1=0,setvar:tx.crit=5"
SecRule ARGS:a "@rx attack" "id:102,phase:1,pass,log,setvar:tx.score_pl1=+%{tx.crit}"
SecRule ARGS:skip "@streq 1" "id:103,phase:1,pass,nolog,skipAfter:END-SUM"
SecRule ARGS:ctl "@streq rm" "id:104,phase:1,pass,nolog,ctl:ruleRemoveById=106"
SecRule ARGS:set "@streq 1" "id:113,phase:1,pass,nolog,setvar:tx.Total=40"
SecRule ARGS:max "@streq 1" "id:118,phase:1,pass,nolog,setvar:tx.max_args=1"
SecRule TX:BLOCKING_PARANOIA_LEVEL "@ge 1" "id:105,phase:1,pass,nolog,setvar:tx.total=+%{tx.score_pl1}"
SecRule TX:BLOCKING_PARANOIA_LEVEL "@ge 1" "id:106,phase:1,pass,nolog,setvar:tx.sums=+1,setvar:tx.Named=%{tx.sums}"
SecMarker END-SUM
SecRule TX:TOTAL "@ge %{tx.threshold}" "id:107,phase:2,deny,status:403,log,msg:'score %{tx.total}'"
SecRule TX:SUMS "@eq 1" "id:108,phase:2,pass,nolog,setvar:tx.mv=%{matched_var_name}"
SecRule TX:SUMS "@eq 1" "id:109,phase:2,pass,nolog,chain"
  SecRule TX:TOTAL "@eq 0" "setvar:tx.chain=1,setvar:!tx.named"
SecRule MATCHED_VAR_NAME "@rx ." "id:110,phase:2,pass,nolog,setvar:tx.last=%{matched_var}"
SecRule TX:THRESHOLD "@eq 5" "id:114,phase:2,pass,nolog,chain"
  SecRule TX:SUMS "@eq 2" "setvar:tx.never=1"
SecRule MATCHED_VAR "@rx ." "id:115,phase:2,pass,nolog,setvar:tx.mv2=%{matched_var}"
SecRule &TX:MAX_ARGS "@eq 1" "id:116,phase:2,pass,nolog,chain"
  SecRule ARGS "@rx ." "setvar:tx.chained=1"
SecRule TX:THRESHOLD "@eq 5" "id:117,phase:2,pass,nolog,setvar:tx.head=1,chain"
  SecRule ARGS:a "@streq fine" "setvar:tx.tail=1"
SecRule TX:TOTAL "@lt 100" "id:111,phase:3,pass,nolog,setvar:tx.out=+1"
SecRule TX:TOTAL "@lt 100" "id:119,phase:4,pass,nolog,setvar:tx.out=+10"
SecRule TX:OUT "@eq 1" "id:112,phase:5,pass,nolog,setvar:tx.logged=1"
)";
  auto replayed = compileRules(rules);
  ASSERT_TRUE(replayed);
  // 105 106 107 109 114 111 119 112, and 116 whose first link reads only TX
  // and does not match; not 108 (a macro of another kind) or 117 (its first
  // link matches).
  EXPECT_EQ(replayed->replayedRules(), 9u);
  auto evaluated = compileRulesWith("RAMPART_WAF_TX_PATH", "0", rules);
  ASSERT_TRUE(evaluated);
  EXPECT_EQ(evaluated->replayedRules(), 0u);
  for (const char* uri : {"/?a=fine", "/?a=attack", "/?skip=1", "/?ctl=rm", "/?set=1", "/?max=1"}) {
    Request req;
    req.uri = uri;
    auto r = run(replayed, req);
    auto e = run(evaluated, req);
    EXPECT_EQ(r.ids(), e.ids()) << uri;
    EXPECT_EQ(r.first.action, e.first.action) << uri;
    EXPECT_EQ(r.first.rule_id, e.first.rule_id) << uri;
    for (const char* v : {"total", "sums", "named", "mv", "chain", "last", "never", "mv2", "out", "logged", "chained",
                          "head", "tail"})
      EXPECT_EQ(r.tx_(v), e.tx_(v)) << uri << " " << v;
    auto named = [](const testing::Run& run) {
      std::vector<std::string> out;
      for (const auto& m : run.tx->matches())
        out.push_back(std::to_string(m.id) + " " + m.matched_var_name + "=" + m.matched_data + " " + m.msg);
      return out;
    };
    EXPECT_EQ(named(r), named(e)) << uri;
  }
  // What the path gave: the sums as simulated, and the request that scores blocked.
  Request fine;
  fine.uri = "/?a=fine";
  auto r = run(replayed, fine);
  EXPECT_EQ(r.tx_("sums"), "1");
  EXPECT_EQ(r.tx_("chain"), "1");
  EXPECT_EQ(r.tx_("named"), "");
  EXPECT_EQ(r.tx_("last"), "TX:total");  // as 109's chain left MATCHED_VAR_NAME
  EXPECT_EQ(r.tx_("mv2"), "5");          // as 114's first link left MATCHED_VAR (its chain does not match)
  EXPECT_EQ(r.tx_("out"), "11");  // 111 and 119
  EXPECT_EQ(r.tx_("logged"), "");
  EXPECT_EQ(r.tx_("chained"), "");
  EXPECT_EQ(r.tx_("tail"), "1");
  Request max;
  max.uri = "/?max=1";
  EXPECT_EQ(run(replayed, max).tx_("chained"), "1");  // 118 wrote what 116 reads: 116 evaluated
  Request attack;
  attack.uri = "/?a=attack";
  EXPECT_EQ(run(replayed, attack).first.rule_id, 107);
  // Without phase 4 (a response body not inspected), or 3 and 4 (`waf
  // inspect`), phase 5 replays the path those phases left.
  for (bool response_headers : {true, false}) {
    Request partial = fine;
    partial.response_body_phase = false;
    partial.response_phases = response_headers;
    auto p = run(replayed, partial);
    auto q = run(evaluated, partial);
    EXPECT_EQ(p.ids(), q.ids()) << response_headers;
    for (const char* v : {"total", "sums", "out", "logged"})
      EXPECT_EQ(p.tx_(v), q.tx_(v)) << response_headers << " " << v;
    EXPECT_EQ(p.tx_("out"), response_headers ? "1" : "");
    EXPECT_EQ(p.tx_("logged"), response_headers ? "1" : "");
  }
}

// A ctl that removes a TX target leaves the TX path: the replayed rule's
// outcome on tx_init no longer holds once its variable is taken from it.
TEST(RuleFlow, RemovingATxTargetEndsTheReplay) {
  const char* rules = R"(
SecAction "id:141,phase:1,pass,nolog,setvar:tx.level=1"
SecRule ARGS:rt "@streq 1" "id:142,phase:1,pass,nolog,ctl:ruleRemoveTargetById=143;TX:LEVEL"
SecRule TX:LEVEL "@eq 1" "id:143,phase:2,pass,nolog,setvar:tx.seen=1"
)";
  auto replayed = compileRules(rules);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->replayedRules(), 1u);  // 143
  auto evaluated = compileRulesWith("RAMPART_WAF_TX_PATH", "0", rules);
  ASSERT_TRUE(evaluated);
  for (const char* uri : {"/", "/?rt=1"}) {
    Request req;
    req.uri = uri;
    EXPECT_EQ(run(replayed, req).tx_("seen"), run(evaluated, req).tx_("seen")) << uri;
    EXPECT_EQ(run(replayed, req).tx_("seen"), std::string_view(uri) == "/" ? "1" : "") << uri;
  }
}

// A request that begins from tx_init walks the phase's short plan (markers,
// folded and constant non-matching rules left out, skipAfter targets moved):
// the rules that run, and where skipAfter lands, are those of the whole plan,
// also when a ctl removes a rule halfway (from there on the whole plan).
TEST(RuleFlow, ShortPlansRunWhatTheWholePlanRuns) {
  const std::string rules =
      "SecAction \"id:1,phase:1,pass,nolog,setvar:tx.pl=1\"\n"
      "SecRule TX:PL \"@lt 2\" \"id:2,phase:1,pass,nolog,skipAfter:END-PL2\"\n"
      "SecRule ARGS \"@rx a\" \"id:3,phase:1,pass,log\"\n"
      "SecMarker END-PL2\n"
      "SecRule TX:PL \"@gt 5\" \"id:4,phase:1,pass,nolog,skipAfter:END-X\"\n"
      "SecRule ARGS:rm \"@streq 1\" \"id:5,phase:1,pass,nolog,ctl:ruleRemoveById=7\"\n"
      "SecRule ARGS \"@rx b\" \"id:6,phase:1,pass,log\"\n"
      "SecMarker END-X\n"
      "SecRule ARGS \"@rx c\" \"id:7,phase:1,pass,log\"\n"
      "SecRule ARGS \"@rx d\" \"id:8,phase:1,pass,log,skipAfter:END-Y\"\n"
      "SecRule TX:PL \"@eq 3\" \"id:9,phase:1,pass,nolog,skipAfter:END-Y\"\n"
      "SecRule ARGS \"@rx e\" \"id:10,phase:1,pass,log\"\n"
      "SecMarker END-Y\n"
      "SecRule ARGS \"@rx f\" \"id:11,phase:1,pass,log\"\n"
      "SecRule TX:PL \"@eq 1\" \"id:12,phase:2,pass,nolog,skipAfter:END-2\"\n"
      "SecRule ARGS \"@rx a\" \"id:13,phase:2,pass,log\"\n"
      "SecMarker END-2\n"
      "SecRule ARGS \"@rx a\" \"id:14,phase:2,pass,log\"\n";
  auto short_plans = compileRules(rules);
  // No tx_init: every request walks the whole plan.
  auto whole = compileRulesWith("RAMPART_WAF_FOLD_INIT", "0", rules);
  ASSERT_TRUE(short_plans && whole);
  auto fired = [](const std::shared_ptr<const Engine>& e, const std::string& uri) {
    Request req;
    req.uri = uri;
    auto ids = run(e, req).ids();
    ids.erase(std::remove_if(ids.begin(), ids.end(), [](int64_t id) { return id == 1; }), ids.end());
    return ids;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(fired(short_plans, "/?x=abcdef"), V({2, 6, 7, 8, 11, 12, 14}));
  EXPECT_EQ(fired(short_plans, "/?x=abcdef&rm=1"), V({2, 5, 6, 8, 11, 12, 14}));
  for (const char* uri : {"/?x=abcdef", "/?x=abcdef&rm=1", "/?x=bce", "/?x=e&rm=1", "/"})
    EXPECT_EQ(fired(short_plans, uri), fired(whole, uri)) << uri;
}

// An operator argument made of %{tx...} that only the compile-time
// initialisation sets is expanded once, when the rules compile; one that a
// rule may write at run time, literally or through a macro key sharing its
// start, stays a macro and reads what the request left there.
TEST(RuleFlow, FixedMacroArgumentsReadWhatRunTimeWrites) {
  auto e = compileRules(
      "SecAction \"id:1,phase:1,pass,nolog,setvar:tx.fixed=/a/ /b/,setvar:tx.moved=evil,setvar:tx.h_x=/x/\"\n"
      "SecRule ARGS:m \"@streq 1\" \"id:2,phase:1,pass,nolog,setvar:tx.moved=good\"\n"
      "SecRule ARGS:k \"@rx ^(.+)$\" \"id:3,phase:1,pass,nolog,capture,setvar:tx.h_%{tx.1}=/y/\"\n"
      "SecRule ARGS:v \"@within %{tx.fixed}\" \"id:10,phase:2,pass,log\"\n"
      "SecRule ARGS:v \"@contains %{tx.moved}\" \"id:11,phase:2,pass,log\"\n"
      "SecRule ARGS:v \"@within %{tx.h_x}\" \"id:12,phase:2,pass,log\"\n"
      "SecRule ARGS:v \"@rx ^%{tx.moved}$\" \"id:13,phase:2,pass,log\"");
  ASSERT_TRUE(e);
  auto fired = [&](const std::string& uri) {
    Request req;
    req.uri = uri;
    auto ids = run(e, req).ids();
    ids.erase(std::remove_if(ids.begin(), ids.end(), [](int64_t id) { return id < 10; }), ids.end());
    return ids;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(fired("/?v=/b/"), V({10}));
  EXPECT_EQ(fired("/?v=evil"), V({11, 13}));
  EXPECT_EQ(fired("/?v=good&m=1"), V({11, 13}));  // tx.moved as id 2 left it
  EXPECT_EQ(fired("/?v=evil&m=1"), V{});
  EXPECT_EQ(fired("/?v=/x/"), V({12}));
  EXPECT_EQ(fired("/?v=/y/&k=x"), V({12}));  // tx.h_x as id 3 left it
}

// A count reads the length of the list its variable shares with the rules
// that read the values (Engine::prepareTargets): a number, not the values, per
// phase (phase 2's ARGS holds the body's too), with a selector, and beside a
// rule that reads the same list's values.
TEST(RuleFlow, CountsReadTheSharedListsLength) {
  auto e = compileRules(R"(
SecRule &ARGS "@eq 1" "id:121,phase:1,pass,nolog,setvar:tx.args1=%{matched_var}"
SecRule ARGS "@rx ." "id:122,phase:1,pass,nolog,setvar:tx.seen=1"
SecRule &ARGS "@eq 2" "id:123,phase:2,pass,nolog,setvar:tx.args2=%{matched_var}"
SecRule &REQUEST_HEADERS:X-A "@eq 1" "id:124,phase:1,pass,nolog,setvar:tx.xa=%{matched_var_name}"
SecRule REQUEST_HEADERS:X-A "@rx ^a, b$" "id:125,phase:1,pass,nolog,setvar:tx.xb=1"
SecRule &REQUEST_HEADERS:X-None "@eq 0" "id:126,phase:1,pass,nolog,setvar:tx.none=1"
)");
  ASSERT_TRUE(e);
  Request req = formPost("/?q=x", "b=y");
  req.headers.push_back({"X-A", "a"});
  req.headers.push_back({"X-A", "b"});  // one header, "a, b", as Apache merges them
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("args1"), "1");
  EXPECT_EQ(r.tx_("seen"), "1");
  EXPECT_EQ(r.tx_("args2"), "2");
  EXPECT_EQ(r.tx_("xa"), "REQUEST_HEADERS");  // v2 names a count after the bare variable
  EXPECT_EQ(r.tx_("xb"), "1");
  EXPECT_EQ(r.tx_("none"), "1");
}

// A TX regex selector's matches among tx_init's variables are found at
// compile time (CompiledVar::tx_init_hits); a request tests only the variables
// it added. Unset, set again with another spelling, added, or watched and only
// set at run time: the same names, in the same order, as a walk of them all.
TEST(RuleFlow, TxSelectorsOverTxInitMatchAsAWalkOfAll) {
  const char* rules = R"(
SecAction "id:131,phase:1,pass,nolog,setvar:tx.pre_a=1,setvar:tx.pre_b=2,setvar:tx.other=3,setvar:tx.xre_z=4"
SecRule ARGS:u "@streq 1" "id:132,phase:1,pass,nolog,setvar:!tx.pre_b,setvar:tx.PRE_A=5,setvar:tx.pre_c=6,setvar:tx.pre_d=1"
SecRule TX:PRE_D "@eq 1" "id:133,phase:2,pass,nolog,setvar:tx.d_seen=1"
SecRule TX:/^pre_/ "@rx ." "id:134,phase:2,pass,nolog,setvar:'tx.names=%{tx.names} %{matched_var_name}=%{matched_var}'"
SecRule TX:/RE_/ "@rx ." "id:135,phase:2,pass,nolog,setvar:'tx.unanchored=%{tx.unanchored} %{matched_var_name}'"
SecRule &TX:/^pre_/ "@ge 0" "id:136,phase:2,pass,nolog,setvar:tx.count=%{matched_var}"
)";
  auto known = compileRules(rules);
  ASSERT_TRUE(known);
  EXPECT_GE(known->replayedRules(), 1u);  // 133: tx.pre_d is watched, an unset item of tx_init
  auto walked = compileRulesWith("RAMPART_WAF_FOLD_INIT", "0", rules);
  ASSERT_TRUE(walked);
  for (const char* uri : {"/", "/?u=1"}) {
    Request req;
    req.uri = uri;
    auto k = run(known, req);
    auto w = run(walked, req);
    for (const char* v : {"names", "unanchored", "count", "d_seen"}) EXPECT_EQ(k.tx_(v), w.tx_(v)) << uri << " " << v;
  }
  Request req;
  req.uri = "/?u=1";
  auto k = run(known, req);
  EXPECT_EQ(k.tx_("names"), " TX:pre_a=5 TX:pre_c=6 TX:pre_d=1");
  EXPECT_EQ(k.tx_("unanchored"), " TX:pre_a TX:pre_c TX:pre_d TX:xre_z");
  EXPECT_EQ(k.tx_("count"), "3");
}

// A constant rule reads only TX: a ctl removing another variable from it
// (CRS 941010 takes REQUEST_FILENAME from the XSS rules on most requests)
// leaves it decided; removing its TX variable makes it run, and not match.
TEST(RuleFlow, ConstantRulesRunWhenTheirTxTargetIsRemoved) {
  auto e = compileRules(R"(
SecAction "id:51,phase:1,pass,nolog,setvar:tx.detection_paranoia_level=1"
SecRule ARGS:rm "@streq fn" "id:52,phase:1,pass,nolog,ctl:ruleRemoveTargetById=53;REQUEST_FILENAME"
SecRule ARGS:rm "@streq tx" "id:54,phase:1,pass,nolog,ctl:ruleRemoveTargetById=53;TX:detection_paranoia_level"
SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "id:53,phase:2,pass,nolog,skipAfter:END-53"
SecAction "id:55,phase:2,pass,nolog,setvar:tx.ran=1"
SecMarker END-53
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->constantRules(), 1u);  // 53
  for (const char* uri : {"/", "/?rm=fn", "/?rm=tx"}) {
    Request req;
    req.uri = uri;
    auto r = run(e, req);
    const bool removed = std::string_view(uri) == "/?rm=tx";
    EXPECT_EQ(r.fired(53), !removed) << uri;
    EXPECT_EQ(r.tx_("ran"), removed ? "1" : "") << uri;
  }
}

// A variable's values are resolved once a phase for every rule that reads it
// (Engine::prepareTargets): phase 2's ARGS holds the body's arguments that
// phase 1's did not, for rules decided by a scan (@rx) and rules evaluated in
// full (@contains) alike, and exclusions take from the shared values without
// changing them for the next rule.
TEST(RuleFlow, VariablesAreReadAgainEachPhase) {
  auto e = compileRules(R"(
SecRule ARGS "@rx nothing" "id:61,phase:1,pass,nolog"
SecRule ARGS "@contains nothing" "id:62,phase:1,pass,nolog"
SecRule ARGS|!ARGS:b "@rx evil" "id:63,phase:2,pass,log"
SecRule ARGS "@rx evil" "id:64,phase:2,pass,log"
SecRule ARGS "@contains evil" "id:65,phase:2,pass,log"
)");
  ASSERT_TRUE(e);
  const Request req = formPost("/?a=fine", "b=evil");
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(61));
  EXPECT_FALSE(r.fired(62));
  EXPECT_FALSE(r.fired(63));  // b excluded
  EXPECT_TRUE(r.fired(64));
  EXPECT_TRUE(r.fired(65));
}

// Entries one scan group decides, markers among them, are passed at once
// when the group found none of its patterns (RunStep::run); a rule of
// another group after them, a hit of the group and a skipAfter landing
// inside the run still take their course.
TEST(RuleFlow, ARunOfRulesOneScanDecidesIsPassedOnlyWhenItsScanFoundNothing) {
  auto e = compileRules(R"(
SecRule REQUEST_HEADERS:X-Skip "@streq yes" "id:70,phase:2,pass,nolog,skipAfter:MID"
SecRule ARGS "@rx aaa1" "id:71,phase:2,pass,log"
SecRule ARGS "@rx bbb2" "id:72,phase:2,pass,log"
SecMarker MID
SecRule ARGS "@rx ccc3" "id:73,phase:2,pass,log"
SecRule REQUEST_HEADERS:X-T "@rx zzz9" "id:74,phase:2,pass,log"
SecRule ARGS "@rx ddd4" "id:75,phase:2,pass,log"
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->scanStats().links, 5u);  // every @rx decided by a scan: 71-73 and 75 by one group
  const std::vector<int64_t> all = {71, 72, 73, 74, 75};
  auto only = [&](const Request& req, std::vector<int64_t> want) {
    auto r = run(e, req);
    for (int64_t id : all)
      EXPECT_EQ(r.fired(id), std::find(want.begin(), want.end(), id) != want.end()) << "rule " << id;
  };
  Request clean;
  clean.uri = "/?q=fine";
  only(clean, {});
  Request other = clean;  // ARGS's group found nothing: 71-73 passed at once, 74 still runs
  other.headers.push_back({"X-T", "zzz9"});
  only(other, {74});
  Request third;
  third.uri = "/?q=ccc3";
  only(third, {73});
  Request last;
  last.uri = "/?q=ddd4&r=bbb2";
  last.headers.push_back({"X-T", "zzz9"});
  only(last, {72, 74, 75});
  Request skipped = last;  // on after MID: 72 skipped, 74 and 75 as before
  skipped.headers.push_back({"X-Skip", "yes"});
  only(skipped, {74, 75});
}

// The request line's and headers' values are read once a request
// (variables::fixedByHead); the path is read again in phase 2, decoded, and a
// pooled workspace's next request reads its own headers.
TEST(RuleFlow, HeadValuesAreReadOnceARequestAndThePathAgainDecoded) {
  auto e = compileRules(R"(
SecRule REQUEST_FILENAME "@rx ^(.*)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.f1=%{tx.1}"
SecRule REQUEST_HEADERS:X-A "@rx ^(.*)$" "id:2,phase:1,pass,nolog,capture,setvar:tx.h1=%{tx.1}"
SecRule REQUEST_URI "@rx ^(.*)$" "id:3,phase:1,pass,nolog,capture,setvar:tx.u1=%{tx.1}"
SecRule REQUEST_FILENAME "@rx ^(.*)$" "id:4,phase:2,pass,nolog,capture,setvar:tx.f2=%{tx.1}"
SecRule REQUEST_HEADERS:X-A "@rx ^(.*)$" "id:5,phase:2,pass,nolog,capture,setvar:tx.h2=%{tx.1}"
SecRule REQUEST_URI "@rx ^(.*)$" "id:6,phase:2,pass,nolog,capture,setvar:tx.u2=%{tx.1}"
)");
  ASSERT_TRUE(e);
  Request req;
  req.uri = "/a/./b%20c?q=1";
  req.headers.push_back({"X-A", "first"});
  {
    auto r = run(e, req);
    EXPECT_EQ(r.tx_("f1"), "/a/./b%20c");
    EXPECT_EQ(r.tx_("u1"), "/a/./b%20c?q=1");
    EXPECT_EQ(r.tx_("f2"), "/a/b c");
    EXPECT_EQ(r.tx_("u2"), "/a/b c?q=1");
    EXPECT_EQ(r.tx_("h1"), "first");
    EXPECT_EQ(r.tx_("h2"), "first");
  }  // (its workspace goes back to the pool for the next)
  req.headers.back().second = "second";
  auto r2 = run(e, req);
  EXPECT_EQ(r2.tx_("h1"), "second");
  EXPECT_EQ(r2.tx_("h2"), "second");
}

// A ctl may change what a variable holds (REQUEST_BODY once forced): the
// rules after it read it again, in the same phase.
TEST(RuleFlow, VariablesAreReadAgainAfterACtl) {
  auto e = compileRules(R"(
SecRule REQUEST_BODY "@contains evil" "id:71,phase:2,pass,log"
SecAction "id:72,phase:2,pass,nolog,ctl:forceRequestBodyVariable=On"
SecRule REQUEST_BODY "@contains evil" "id:73,phase:2,pass,log"
)");
  ASSERT_TRUE(e);
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "text/plain"});
  req.body = "evil";
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(71));  // no body processor: not defined yet
  EXPECT_TRUE(r.fired(73));
}

// A link that sets a TX key its own targets read walks the values it
// collected, not the ones it writes on the way (the values are pinned); one
// that writes other keys reads as well.
TEST(RuleFlow, SetvarOfAKeyBeingReadLeavesTheWalkAsCollected) {
  auto e = compileRules(R"(
SecRule REQUEST_METHOD "@streq GET" "id:81,phase:1,pass,nolog,setvar:tx.a_1=first-value-long-enough-for-the-heap,setvar:tx.a_2=second-value-long-enough-for-the-heap"
SecRule TX:/^a_/ "@rx value" "id:82,phase:1,pass,nolog,setvar:tx.a_2=overwritten-while-walking-the-collection,setvar:'tx.walk_82=%{tx.walk_82}|%{MATCHED_VAR}'"
SecRule TX:/^a_/ "@rx value" "id:83,phase:1,pass,nolog,setvar:'tx.walk_83=%{tx.walk_83}|%{MATCHED_VAR}'"
)");
  ASSERT_TRUE(e);
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("walk_82"), "|first-value-long-enough-for-the-heap|second-value-long-enough-for-the-heap");
  EXPECT_EQ(r.tx_("walk_83"), "|first-value-long-enough-for-the-heap");  // a_2 no longer holds "value"
  EXPECT_EQ(r.tx_("a_2"), "overwritten-while-walking-the-collection");
}

}  // namespace
}  // namespace rampart::waf::testing
