#include "waf/match/regex.h"

#include <emmintrin.h>

#include <cctype>
#include <cstring>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>

namespace rampart::waf::match {

namespace {

struct PcreThreadState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* jit = nullptr;
  PcreThreadState() {
    md = pcre2_match_data_create(32, nullptr);
    mctx = pcre2_match_context_create(nullptr);
    jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, nullptr);
    if (mctx && jit) pcre2_jit_stack_assign(mctx, nullptr, jit);
  }
  ~PcreThreadState() {
    if (md) pcre2_match_data_free(md);
    if (mctx) pcre2_match_context_free(mctx);
    if (jit) pcre2_jit_stack_free(jit);
  }
};

PcreThreadState& pcreState() {
  thread_local PcreThreadState s;
  return s;
}

int pcreRun(const void* code, std::string_view input, size_t at, uint32_t options, uint64_t match_limit,
            uint64_t depth_limit, const PCRE2_SIZE** ov);
void capsFrom(const PCRE2_SIZE* ov, int set, std::string_view input, std::string_view* caps, int n);

// Whether PCRE2 reads `pattern` (one RE2 compiled, Latin-1, dot matching
// newline, $ at the end only) as RE2 does: ASCII only (no byte >= 0x80, no
// \x80-\xff: the engines fold Latin-1 letters differently), and escapes the
// two mean alike (\d \w \s \b, their negations, \A \z, \n \r \t \f, \xHH,
// punctuation); no {,n} (a quantifier in newer PCRE2s). *space: it has \s or
// \S, which hold \x0b for PCRE2 and not for RE2 (an input with one is then
// RE2's). For any such input the two find the same matches, the first of
// them the same (leftmost, the same alternative and repeat priorities).
bool pcreReadsAsRe2(std::string_view pattern, bool* space) {
  *space = false;
  if (pattern.find("{,") != std::string_view::npos) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const auto c = static_cast<unsigned char>(pattern[i]);
    if (c >= 0x80) return false;
    if (c != '\\') continue;
    if (++i == pattern.size()) return false;
    const char e = pattern[i];
    if (e == 's' || e == 'S') *space = true;
    if (e == 'x') {
      if (i + 2 >= pattern.size() || pattern[i + 1] < '0' || pattern[i + 1] > '7' ||
          !std::isxdigit(static_cast<unsigned char>(pattern[i + 2])))
        return false;
      i += 2;
      continue;
    }
    if (std::isalnum(static_cast<unsigned char>(e)) && !std::strchr("dDwWsSbBAznrtf", e)) return false;
  }
  return true;
}

// How ModSecurity v2 compiles a rule's pattern (PCRE_DOTALL | PCRE_DOLLAR_ENDONLY,
// no UTF: byte semantics), JIT when it can; null when PCRE2 refuses it
// (*error says why, when asked).
pcre2_code* compilePcre(const std::string& pattern, bool caseless, std::string* error) {
  int errcode = 0;
  PCRE2_SIZE erroff = 0;
  uint32_t flags = PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
  if (caseless) flags |= PCRE2_CASELESS;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), flags, &errcode, &erroff, nullptr);
  if (!code) {
    if (error) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(errcode, buf, sizeof(buf));
      *error = "invalid regular expression at offset " + std::to_string(erroff) + ": " +
               reinterpret_cast<const char*>(buf);
    }
    return nullptr;
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // best effort: the interpreter still works
  return code;
}

}  // namespace

Regex::~Regex() {
  if (pcre_) pcre2_code_free(static_cast<pcre2_code*>(pcre_));
  if (pcre_twin_) pcre2_code_free(static_cast<pcre2_code*>(pcre_twin_));
}

std::unique_ptr<re2::RE2> compileRe2(std::string_view pattern, bool caseless) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_dot_nl(true);
  o.set_log_errors(false);
  o.set_case_sensitive(!caseless);
  o.set_max_mem(64 << 20);
  return std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), o);
}

std::unique_ptr<Regex> Regex::compile(std::string_view pattern, const RegexOptions& opts, std::string* error) {
  std::unique_ptr<Regex> r(new Regex());
  r->pattern_ = std::string(pattern);
  if (pattern == "^.*$" || pattern == ".*" || pattern == "^.*" || pattern == ".*$") r->literal_ = Literal::All;
  if (r->literal_ == Literal::None) {
    // The literal the pattern starts with (escapes of punctuation and \xHH
    // allowed), after an optional '^' and an optional first atom ("\x22?" in
    // 921250's REQUEST_COOKIES:/\x22?\x24Version/), up to its first
    // metacharacter. The whole pattern: bytes are compared instead of running
    // a regex engine. Only its start, without an alternation anywhere: every
    // match holds it, so an input without it is rejected first
    // (TX:/MULTIPART_HEADERS_CONTENT_TYPES_*/ over every TX variable; a regex
    // engine's call costs ~1,500 instructions on the shortest key). A
    // quantified last character is not required. Caseless patterns stop at
    // bytes >= 0x80 (the engines fold Latin-1 letters, the comparison here
    // ASCII only).
    std::string_view p = pattern;
    bool anchored = !p.empty() && p[0] == '^';
    if (anchored) p.remove_prefix(1);
    auto literalByte = [&](char c) { return !(opts.caseless && static_cast<unsigned char>(c) >= 0x80); };
    auto hexValue = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
    // The literal byte the atom at p[i] stands for, and how long it is written (0: not one).
    auto atom = [&](size_t i, char* byte) -> size_t {
      const char c = p[i];
      if (c == '\\' && i + 3 < p.size() && p[i + 1] == 'x' && std::isxdigit(static_cast<unsigned char>(p[i + 2])) &&
          std::isxdigit(static_cast<unsigned char>(p[i + 3]))) {
        *byte = static_cast<char>(hexValue(p[i + 2]) * 16 + hexValue(p[i + 3]));
        return literalByte(*byte) ? 4 : 0;
      }
      if (c == '\\' && i + 1 < p.size() && !std::isalnum(static_cast<unsigned char>(p[i + 1])) &&
          literalByte(p[i + 1])) {
        *byte = p[i + 1];
        return 2;
      }
      if (c == '\\' || c == '\0' || std::strchr(".[]{}()*+?|^$", c) || !literalByte(c)) return 0;
      *byte = c;
      return 1;
    };
    std::string lit;
    size_t i = 0;
    char byte = 0;
    bool skipped = false;  // an optional first atom: the literal is after it, or at the start
    if (size_t k = p.empty() ? 0 : atom(0, &byte);
        k > 0 && k < p.size() && p[k] == '?' && (k + 1 == p.size() || !std::strchr("?+*{", p[k + 1]))) {
      i = k + 1;
      skipped = true;
      anchored = false;
    }
    while (i < p.size()) {
      const size_t k = atom(i, &byte);
      if (k == 0) break;
      lit += byte;
      i += k;
    }
    bool whole = !skipped && !p.empty() && i == p.size();
    // The literal's last atom repeated or made optional, and nothing after it
    // (TX:/MULTIPART_HEADERS_CONTENT_TYPES_*/, 922100's and 922110's
    // selector, asked of every TX key): the pattern is found where the
    // literal (without that atom when it may be absent) is, so it is one too
    // for matches(); match() still runs an engine for the match's span.
    if (!whole && !skipped && !lit.empty() && i < p.size() && (p[i] == '*' || p[i] == '?' || p[i] == '+')) {
      const size_t end = i + 1 < p.size() && p[i + 1] == '?' ? i + 2 : i + 1;  // (lazy)
      whole = end == p.size();
    }
    if (!lit.empty() && i < p.size() && (p[i] == '*' || p[i] == '?' || p[i] == '{')) lit.pop_back();
    if (!lit.empty() && (whole || pattern.find('|') == std::string_view::npos)) {
      r->caseless_ = opts.caseless;
      if (opts.caseless)
        for (auto& c : lit) c = char(std::tolower(static_cast<unsigned char>(c)));
      r->literal_text_ = std::move(lit);
      r->literal_anchored_ = anchored;
      r->literal_ = whole ? Literal::Whole : Literal::Guard;
    }
  }
  if (r->literal_ == Literal::None || r->literal_ == Literal::Guard)
    if (const auto need = neededClasses(r->pattern_); need && *need) r->need_ = *need;
  r->match_limit_ = opts.match_limit;
  r->depth_limit_ = opts.depth_limit;
  auto re = compileRe2(r->pattern_, opts.caseless);
  if (re->ok()) {
    r->groups_ = re->NumberOfCapturingGroups();
    r->re2_ = std::move(re);
    const bool alike = r->literal_ != Literal::Whole && r->pattern_.size() <= kFirstPatternMax &&
                       pcreReadsAsRe2(r->pattern_, &r->space_class_);
    if (r->groups_ > 0 || alike) r->pcre_twin_ = compilePcre(r->pattern_, opts.caseless, nullptr);
    size_t jit = 0;  // (not JIT-compiled: RE2's DFA is the faster)
    r->pcre_first_ = alike && r->pcre_twin_ &&
                     pcre2_pattern_info(static_cast<pcre2_code*>(r->pcre_twin_), PCRE2_INFO_JITSIZE, &jit) == 0 &&
                     jit > 0;
    if (r->literal_ == Literal::None) r->buildAtomGuard();
    return r;
  }
  pcre2_code* code = compilePcre(r->pattern_, opts.caseless, error);
  if (!code) return nullptr;
  uint32_t cap = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
  r->groups_ = static_cast<int>(cap);
  r->pcre_ = code;
  return r;
}

// RE2's prefilter (FilteredRE2) reduces a pattern to an AND-OR tree of
// literals of at least kMinAtom bytes, lower case. When the tree is not
// "anything" (AllPotentials with no literal found leaves the pattern out), a
// match holds at least one of them, so an input without any cannot match:
// the automaton over them decides first. Atoms with a byte >= 0x80 make no
// guard (RE2 folds Latin-1 letters, the automaton ASCII only).
void Regex::buildAtomGuard() {
  constexpr int kMinAtom = 3;
  re2::FilteredRE2 f(kMinAtom);
  int id = 0;
  if (f.Add(pattern_, re2_->options(), &id) != RE2::NoError) return;
  std::vector<std::string> atoms;
  f.Compile(&atoms);
  if (atoms.empty() || atoms.size() > 2048) return;
  std::vector<int> potential;
  f.AllPotentials({}, &potential);
  if (!potential.empty()) return;  // some match needs no atom
  for (const auto& a : atoms)
    for (unsigned char c : a)
      if (c >= 0x80) return;
  atoms_ = std::make_unique<AhoCorasick>();
  for (const auto& a : atoms) atoms_->add(a);
  atoms_->build();
}

bool Regex::holdsLiteral(std::string_view input) const {
  const std::string& lit = literal_text_;
  const size_t n = lit.size();
  if (input.size() < n) return false;
  if (n == 0) return true;  // (never made: a literal is a byte at least)
  const char* s = input.data();
  auto eq = [&](size_t at) {
    for (size_t k = 0; k < n; ++k) {
      char c = s[at + k];
      if (caseless_ && c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      if (c != lit[k]) return false;
    }
    return true;
  };
  if (literal_anchored_) return eq(0);
  // The places that hold the literal's first byte (either case of a letter
  // when caseless: the literal is lower case then), 16 at a time, and the
  // literal compared there; a short or clean value costs a few instructions
  // a block instead of a comparison at every place.
  const size_t last = input.size() - n;  // the last place the literal can start
  const char f = lit[0];
  const char g = caseless_ && f >= 'a' && f <= 'z' ? char(f - 'a' + 'A') : f;
  size_t at = 0;
  const __m128i vf = _mm_set1_epi8(f), vg = _mm_set1_epi8(g);
  for (; at + 16 <= last + 1; at += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + at));
    for (auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, vf), _mm_cmpeq_epi8(b, vg))));
         m; m &= m - 1)
      if (eq(at + size_t(__builtin_ctz(m)))) return true;
  }
  for (; at <= last; ++at)
    if ((s[at] == f || s[at] == g) && eq(at)) return true;
  return false;
}

bool Regex::matches(std::string_view input) const {
  if (literal_ == Literal::All) return true;
  if (literal_ == Literal::Whole) return holdsLiteral(input);
  if (literal_ == Literal::Guard && !holdsLiteral(input)) return false;
  if (!mayMatch(input)) return false;
  const void* ov = nullptr;
  if (const int rc = pcre_first_ ? pcreFirst(input, &ov) : 0; rc != 0) return rc > 0;
  // RE2::Match without submatches: PartialMatch's argument handling costs ~10% of a short value's call.
  if (re2_) return re2_->Match(input, 0, input.size(), RE2::UNANCHORED, nullptr, 0);
  std::string_view cap;
  return pcreMatch(input, &cap, 1) > 0;  // (the literal was tested above)
}

int Regex::match(std::string_view input, std::string_view* caps, int max_caps) const {
  if (max_caps < 1) return matches(input) ? 1 : 0;
  if (literal_ == Literal::All) {  // no groups: the whole input is the match
    caps[0] = input;
    return 1;
  }
  if (literal_ != Literal::None && !holdsLiteral(input)) return 0;
  if (!mayMatch(input)) return 0;
  if (const void* ov = nullptr; const int rc = pcre_first_ ? pcreFirst(input, &ov) : 0) {
    if (rc < 0) return 0;
    const int n = std::min({max_caps, groups_ + 1, 10});
    capsFrom(static_cast<const PCRE2_SIZE*>(ov), rc, input, caps, n);
    return n;
  }
  if (re2_) {
    // The DFA answers "no match" (the common case) much faster than a
    // submatch search: only a value that matches pays for the captures.
    const int n = std::min({max_caps, groups_ + 1, 10});
    re2::StringPiece sp[10];
    if (n > 1 && pcre_twin_) {
      // Where the match is (RE2's DFA, forward then backward), then its groups.
      if (!re2_->Match(input, 0, input.size(), RE2::UNANCHORED, sp, 1)) return 0;
      if (groupsByPcre(input, size_t(sp[0].data() - input.data()), sp[0].size(), caps, n)) return n;
    } else if (!re2_->Match(input, 0, input.size(), RE2::UNANCHORED, nullptr, 0)) {
      return 0;
    }
    if (!re2_->Match(input, 0, input.size(), RE2::UNANCHORED, sp, n)) return 0;
    for (int i = 0; i < n; ++i) caps[i] = sp[i].data() ? std::string_view(sp[i].data(), sp[i].size()) : std::string_view();
    return n;
  }
  return pcreMatch(input, caps, max_caps);
}

namespace {

// One PCRE2 match from `at` in the thread's match data: the number of pairs
// set (<= 0: no match, or an error such as a limit), their offsets in *ov.
int pcreRun(const void* code, std::string_view input, size_t at, uint32_t options, uint64_t match_limit,
            uint64_t depth_limit, const PCRE2_SIZE** ov) {
  auto& st = pcreState();
  if (!code || !st.md || !st.mctx) return 0;
  pcre2_set_match_limit(st.mctx, static_cast<uint32_t>(std::min<uint64_t>(match_limit, UINT32_MAX)));
  pcre2_set_depth_limit(st.mctx, static_cast<uint32_t>(std::min<uint64_t>(depth_limit, UINT32_MAX)));
  const int rc = pcre2_match(static_cast<const pcre2_code*>(code), reinterpret_cast<PCRE2_SPTR>(input.data()),
                             input.size(), at, options, st.md, st.mctx);
  *ov = pcre2_get_ovector_pointer(st.md);
  return rc;
}

// caps[0..n) from PCRE2's offsets, `set` pairs of them set (the others, and
// unset groups, empty).
void capsFrom(const PCRE2_SIZE* ov, int set, std::string_view input, std::string_view* caps, int n) {
  for (int i = 0; i < n; ++i) {
    if (i >= set || ov[2 * i] == PCRE2_UNSET) caps[i] = {};
    else caps[i] = input.substr(ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
  }
}

}  // namespace

bool Regex::groupsByPcre(std::string_view input, size_t at, size_t size, std::string_view* caps, int n) const {
  // A match is known to start here, so PCRE2 finds it without much
  // backtracking, but a pattern can be made to backtrack on the way to it:
  // past a small budget RE2's own search (linear) takes over. The whole
  // input from `at` (what is before it still seen by \b and the like),
  // anchored there: RE2's leftmost-first match is PCRE2's first match from its start.
  const PCRE2_SIZE* ov = nullptr;
  const int rc = pcreRun(pcre_twin_, input, at, PCRE2_ANCHORED, std::min(match_limit_, kBudget),
                         std::min(depth_limit_, kBudget), &ov);
  // (Not that very match: a case folding RE2 does and PCRE2 does not, a limit: RE2's groups.)
  if (rc <= 0 || ov[0] != at || ov[1] != at + size) return false;
  capsFrom(ov, rc, input, caps, n);
  return true;
}

int Regex::pcreFirst(std::string_view input, const void** ov) const {
  if (input.size() > kFirstInputMax || (space_class_ && std::memchr(input.data(), '\x0b', input.size()))) return 0;
  const PCRE2_SIZE* offsets = nullptr;
  const int rc = pcreRun(pcre_twin_, input, 0, 0, std::min(match_limit_, kBudget), std::min(depth_limit_, kBudget),
                         &offsets);
  *ov = offsets;
  return rc > 0 || rc == PCRE2_ERROR_NOMATCH ? rc : 0;  // (a limit, a short ovector: RE2's answer)
}

int Regex::pcreMatch(std::string_view input, std::string_view* caps, int max_caps) const {
  const PCRE2_SIZE* ov = nullptr;
  const int rc = pcreRun(pcre_, input, 0, 0, match_limit_, depth_limit_, &ov);
  if (rc <= 0) return 0;  // no match, or a limit error: v2 treats an error as "no match" (and logs it)
  const int n = std::min({rc, max_caps, groups_ + 1});
  capsFrom(ov, rc, input, caps, n);
  return std::max(n, 1);
}

struct RegexSet::Impl {
  explicit Impl(const RE2::Options& o)
      : set(o, RE2::UNANCHORED), joined(o, RE2::UNANCHORED), case_sensitive(o.case_sensitive()) {}
  RE2::Set set;
  RE2::Set joined;  // the members in multi-line mode (noneMatchJoined)
  bool can_join = false;
  bool case_sensitive;
};

RegexSet::~RegexSet() = default;

std::unique_ptr<RegexSet> RegexSet::build(const std::vector<const Regex*>& members) {
  if (members.empty() || members.size() > 64) return nullptr;
  std::unique_ptr<RegexSet> s(new RegexSet());
  for (const Regex* r : members) {
    if (!r->plainRe2()) return nullptr;
    // Members keep their own options: one set holds one kind.
    if (!s->impl_) s->impl_ = std::make_unique<Impl>(r->re2_->options());
    if (r->re2_->options().case_sensitive() != s->impl_->case_sensitive) return nullptr;
    if (s->impl_->set.Add(r->re2_->pattern(), nullptr) < 0) return nullptr;
    s->need_ |= r->need_;
  }
  if (!s->impl_->set.Compile()) return nullptr;
  // The joined form: (?m) before each member, unless one asserts the text's
  // own ends (\A, \z) or turns the mode off ((?-m), (?i-sm:...)).
  auto turnsMultiLineOff = [](std::string_view p) {
    for (size_t at = p.find("(?"); at != std::string_view::npos; at = p.find("(?", at + 2)) {
      bool off = false;
      for (size_t i = at + 2; i < p.size() && p[i] != ')' && p[i] != ':'; ++i) {
        if (p[i] == '-') off = true;
        else if (p[i] == 'm' && off) return true;
      }
    }
    return false;
  };
  bool join = true;
  for (const Regex* r : members) {
    const std::string& p = r->re2_->pattern();
    join = join && p.find("\\A") == std::string::npos && p.find("\\z") == std::string::npos &&
           !turnsMultiLineOff(p) && s->impl_->joined.Add("(?m)" + p, nullptr) >= 0;
  }
  s->impl_->can_join = join && s->impl_->joined.Compile();
  return s;
}

bool RegexSet::canJoin() const { return impl_->can_join; }

bool RegexSet::noneMatchJoined(std::string_view joined) const {
  if (!impl_->can_join) return false;
  RE2::Set::ErrorInfo err;
  return !impl_->joined.Match(re2::StringPiece(joined.data(), joined.size()), nullptr, &err) &&
         err.kind == RE2::Set::kNoError;
}

bool RegexSet::match(std::string_view input, uint64_t* bits) const {
  if (!mayMatch(input)) {
    *bits = 0;
    return true;
  }
  const re2::StringPiece text(input.data(), input.size());
  RE2::Set::ErrorInfo err;
  // Whether any member matches first: asked for which ones, RE2 allocates a
  // set of indices per call; most values match none.
  if (!impl_->set.Match(text, nullptr, &err)) {
    if (err.kind != RE2::Set::kNoError) return false;
    *bits = 0;
    return true;
  }
  thread_local std::vector<int> which;  // kept: no allocation per call once grown
  which.clear();
  if (!impl_->set.Match(text, &which, &err)) {
    if (err.kind != RE2::Set::kNoError) return false;
  }
  uint64_t b = 0;
  for (int i : which) b |= uint64_t(1) << i;
  *bits = b;
  return true;
}

}  // namespace rampart::waf::match
