// One regular expression as ModSecurity v2 compiles it (PCRE_DOTALL |
// PCRE_DOLLAR_ENDONLY, byte semantics): RE2 first (linear time, Latin-1 so that
// every byte is a character, dot_nl for DOTALL; RE2's `$` outside multi-line
// mode already means "end of text only"), PCRE2 with JIT and a match limit for
// the patterns RE2 rejects (lookarounds, backreferences...) and for the groups
// of a match RE2 found (groupsByPcre).
//
//   auto re = rampart::waf::match::Regex::compile("^(?i)select\\b", {}, &err);
//   std::string_view caps[10]; int n = re->match(input, caps, 10);
//
// A compiled Regex is immutable and safe to share between threads; PCRE2 match
// data is per thread (thread_local), never allocated per request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "waf/match/aho_corasick.h"
#include "waf/match/needed_bytes.h"

namespace re2 {
class RE2;
}

namespace rampart::waf::match {

struct RegexOptions {
  bool caseless = false;           // selector regexes (ARGS:/^id/) are case-insensitive
  uint64_t match_limit = 1000000;  // PCRE2 only (SecPcreMatchLimit)
  uint64_t depth_limit = 1000000;  // PCRE2 only (SecPcreMatchLimitRecursion)
};

// RE2 compiled as a rule's pattern is (Latin-1, dot matches newline, no
// logging, a 64 MiB budget): Regex's own, and the prefilter's calibration
// (HsPrefilter) that weighs Hyperscan against it. Check ok() before use.
std::unique_ptr<re2::RE2> compileRe2(std::string_view pattern, bool caseless);

class Regex {
 public:
  static constexpr uint64_t kNoNeed = ~uint64_t(0);
  static std::unique_ptr<Regex> compile(std::string_view pattern, const RegexOptions& opts, std::string* error);
  ~Regex();

  // True when the pattern matches anywhere in `input`.
  bool matches(std::string_view input) const;
  // Fills caps[0..n) with the whole match and groups (empty views for unset
  // groups); returns the number filled (0 when no match). max_caps >= 1.
  int match(std::string_view input, std::string_view* caps, int max_caps) const;
  // False on a PCRE2 resource-limit error for the last call on this thread.
  bool usesPcre() const { return pcre_ != nullptr; }
  const std::string& pattern() const { return pattern_; }
  // The literal every input the pattern matches begins with ('^' then a literal:
  // TX:/^header_name_920450_/), in lower case when the pattern is caseless;
  // empty when there is none. The keys of a sorted map that it can match lie
  // in one range.
  std::string_view anchoredLiteral() const {
    return literal_anchored_ && literal_ != Literal::None ? std::string_view(literal_text_) : std::string_view();
  }

  // The pattern is '^' and that literal alone, caseless: a lower-case key that
  // begins with anchoredLiteral() is a match, and nothing else is.
  bool onlyAnchoredLiteral() const { return literal_anchored_ && literal_ == Literal::Whole && caseless_; }

  // ^.*$ and its unanchored forms: every input matches (Literal::All).
  bool matchesAnything() const { return literal_ == Literal::All; }

  // Run by RE2 with nothing cheaper first (no literal test): worth joining a RegexSet.
  bool plainRe2() const { return re2_ && literal_ == Literal::None; }

  // The literals ("atoms") RE2's prefilter says every match holds one of
  // (an AND-OR tree of them: a match needs at least one), lower case; empty
  // when there is no such guard. An input holding none is not matched.
  size_t atomCount() const { return atoms_ ? atoms_->size() : 0; }

  // The byte classes (match::byteClasses) every match holds one of; kNoNeed
  // when none are known. An input holding none is not matched.
  uint64_t need() const { return need_; }

 private:
  friend class RegexSet;
  Regex() = default;
  bool holdsLiteral(std::string_view input) const;  // literal_text_ in input (at its start when anchored)
  void buildAtomGuard();  // atoms_, from re2_
  // Whether `input` holds a byte of `need` (kNoNeed: nothing known, always).
  static bool holdsNeed(uint64_t need, std::string_view input) {
    return need == kNoNeed || (byteClasses(input) & need);
  }
  bool mayMatch(std::string_view input) const {  // false: a needed byte or an atom missing, so no match
    return holdsNeed(need_, input) && (!atoms_ || atoms_->findFirst(input).has_value());
  }
  int pcreMatch(std::string_view input, std::string_view* caps, int max_caps) const;  // match() by PCRE2
  // The groups of RE2's match [at, at + size) by PCRE2 (pcre_twin_), into
  // caps[0..n): false when PCRE2 does not give that very match.
  bool groupsByPcre(std::string_view input, size_t at, size_t size, std::string_view* caps, int n) const;
  // PCRE2's JIT over a short input (asked when pcre_first_): its return (> 0:
  // a match, its offsets in *ov; PCRE2_ERROR_NOMATCH: none), 0 when not run
  // or past its budget (then RE2 answers).
  int pcreFirst(std::string_view input, const void** ov) const;
  std::string pattern_;
  std::unique_ptr<re2::RE2> re2_;
  void* pcre_ = nullptr;  // pcre2_code*
  int groups_ = 0;
  // A pattern RE2 runs, compiled by PCRE2 too (JIT), when it has groups or
  // both engines read it alike; null when PCRE2 refuses it (CRS 4.28: ~2 ms,
  // ~2 MB). Its groups: RE2's search for them allocates its state at each
  // call, PCRE2's JIT runs in the thread's match data, so RE2 finds the match
  // (its DFA, both ways) and PCRE2 its groups, anchored there.
  void* pcre_twin_ = nullptr;  // pcre2_code*
  // A short input's match by the twin (JIT-compiled) rather than RE2's DFA,
  // for a pattern both read alike (pcreReadsAsRe2): a DFA's states for a
  // value it has not seen are built or fetched from memory byte by byte (CRS
  // 920100's request line: ~1,500 cycles a call warm, ~12,900 in a fresh
  // DFA, against PCRE2's ~900), where PCRE2 runs compiled code over it.
  // Within kBudget: past it, or for a longer input, RE2's linear search.
  bool pcre_first_ = false;
  bool space_class_ = false;  // \s or \S: an input holding \x0b is RE2's
  static constexpr size_t kFirstPatternMax = 2048;
  static constexpr size_t kFirstInputMax = 1024;
  // PCRE2's match and depth limit where RE2 stands behind it (the first run,
  // the groups of a match RE2 found: a CRS pattern's take tens of calls).
  static constexpr uint64_t kBudget = 10000;
  // Whole: the pattern is a plain literal, optionally anchored with '^' (TX:/^header_name_/,
  // ARGS:/^id_/): matches() compares bytes instead of running a regex engine. Guard: the
  // pattern starts with that literal, which an input must hold before an engine runs.
  // All: ^.*$ and its unanchored forms (CRS 920450 captures every header name with it),
  // which match any input whole (dot matches newline, $ only at the end).
  enum class Literal : uint8_t { None, Whole, Guard, All } literal_ = Literal::None;
  std::string literal_text_;  // lower case when caseless
  // Patterns without a literal guard whose every match holds one of a few
  // literals (CRS 934100's node.js names, 941160's tag names...): those,
  // case-insensitively. A benign value holds none of them: one pass of an
  // automaton instead of RE2's call (~1,000 instructions on a short value,
  // per stage of a multiMatch pipeline). Null: no guard.
  std::unique_ptr<AhoCorasick> atoms_;
  // The byte classes every match holds one of (match::neededClasses: the
  // scan groups' sieve, for the patterns an engine runs): an input holding
  // none is not matched, for a pass over its bytes instead of an engine's
  // call (the corpus at PL1: ~1.8 calls a request, REQBODY_PROCESSOR's
  // `(?:URLENCODED|...)` on a GET, the path traversal's `\.{2,3}[/;\x5c]` on a word).
  // kNoNeed: none known.
  uint64_t need_ = kNoNeed;
  bool literal_anchored_ = false;
  bool caseless_ = false;
  uint64_t match_limit_ = 0;
  uint64_t depth_limit_ = 0;
};

// Up to 64 RE2 regexes (plainRe2()) matched in one pass over an input
// (RE2::Set, one DFA): what five separate searches of CRS's RCE command lists
// cost a value, for a fifth of it.
class RegexSet {
 public:
  // Null when a member is not plainRe2(), there are more than 64, or the set does not compile.
  static std::unique_ptr<RegexSet> build(const std::vector<const Regex*>& members);
  ~RegexSet();
  // Bit i: member i matches somewhere in `input` (as Regex::matches). False
  // when the set could not run (its DFA out of memory): ask the members.
  bool match(std::string_view input, uint64_t* bits) const;
  // Values joined by '\n' (between them): true when no member matches any of
  // them, asked once of them all (one DFA pass, where match() costs a call a
  // value: ~30 a form POST). The members are run in multi-line mode there, so
  // that ^ and $ hold at each value's ends: whatever matches in a value alone
  // matches in the join too (a match across the '\n's is only a false alarm).
  // False when one matched, the set could not run, or canJoin() is false.
  bool noneMatchJoined(std::string_view joined) const;
  // Whether noneMatchJoined can answer: no member asserts the text's own ends
  // (\A, \z) or turns multi-line mode off.
  bool canJoin() const;
  // False when `input` holds none of the bytes every member's matches need
  // (Regex's need): no member matches it, asked of no DFA.
  bool mayMatch(std::string_view input) const { return Regex::holdsNeed(need_, input); }

 private:
  RegexSet() = default;
  uint64_t need_ = 0;  // the members' needs together
  struct Impl;  // the RE2::Set
  std::unique_ptr<Impl> impl_;
};

}  // namespace rampart::waf::match
