// libFuzzer target: match::Regex, whose leading-literal guard, atom guard (RE2
// prefilter's literals) and whole-literal shortcut answer without running RE2. The first byte picks caseless or not;
// the rest is a pattern, a NUL, and inputs separated by NULs. Checks: no crash
// or UB (the guard's parse of escapes, anchors and a first optional atom), and
// for every pattern RE2 compiles, Regex::matches and Regex::match answer what
// RE2 itself answers with the same options (Latin-1, dot matches newline);
// a match's whole is RE2's, and each group RE2's or, where PCRE2 (compiled
// here as ModSecurity does) gives that very match, PCRE2's (Regex takes the
// groups from PCRE2: they differ for a group that can match nothing inside a
// repeat).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "waf/match/regex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  using rampart::waf::match::Regex;
  using rampart::waf::match::RegexOptions;
  RegexOptions opts;
  opts.caseless = data[0] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view pattern = rest.substr(0, nul);
  if (pattern.size() > 200) return 0;
  std::string error;
  auto re = Regex::compile(pattern, opts, &error);
  if (!re) return 0;
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_dot_nl(true);
  o.set_log_errors(false);
  o.set_case_sensitive(!opts.caseless);
  RE2 reference(std::string(pattern), o);
  if (!reference.ok()) return 0;  // (PCRE2 answers those: not compared here)
  const int n = std::min(10, reference.NumberOfCapturingGroups() + 1);
  int errcode = 0;
  PCRE2_SIZE erroff = 0;
  pcre2_code* pcre = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | (opts.caseless ? PCRE2_CASELESS : 0u),
                                   &errcode, &erroff, nullptr);
  pcre2_match_data* md = pcre2_match_data_create(32, nullptr);
  std::string_view inputs = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  for (;;) {
    const size_t end = inputs.find('\0');
    const std::string_view input = inputs.substr(0, end);
    const bool want = RE2::PartialMatch(re2::StringPiece(input.data(), input.size()), reference);
    if (re->matches(input) != want) abort();
    std::string_view cap;
    if ((re->match(input, &cap, 1) > 0) != want) abort();
    re2::StringPiece groups[10];
    std::string_view caps[10];
    const int got = re->match(input, caps, 10);
    if (want != (got > 0)) abort();
    if (want) {
      if (got != n || !reference.Match(re2::StringPiece(input.data(), input.size()), 0, input.size(), RE2::UNANCHORED,
                                       groups, n))
        abort();
      if (caps[0].data() != groups[0].data() || caps[0].size() != groups[0].size()) abort();
      const size_t at = size_t(groups[0].data() - input.data());
      const int rc = pcre && md ? pcre2_match(pcre, reinterpret_cast<PCRE2_SPTR>(input.data()), input.size(), at,
                                              PCRE2_ANCHORED, md, nullptr)
                                : 0;
      const bool pcre_same = rc > 0 && pcre2_get_ovector_pointer(md)[0] == at &&
                             pcre2_get_ovector_pointer(md)[1] == at + groups[0].size();
      const PCRE2_SIZE* ov = pcre_same ? pcre2_get_ovector_pointer(md) : nullptr;
      const uint32_t set = pcre_same ? uint32_t(rc) : 0;  // groups below it may be set
      for (int i = 1; i < n; ++i) {
        auto same = [&](const char* p, size_t len) {
          return (caps[i].empty() && len == 0) || (caps[i].data() == p && caps[i].size() == len);
        };
        if (same(groups[i].data(), groups[i].size())) continue;
        if (pcre_same && uint32_t(i) < set && ov[2 * i] != PCRE2_UNSET &&
            same(input.data() + ov[2 * i], ov[2 * i + 1] - ov[2 * i]))
          continue;
        if (pcre_same && (uint32_t(i) >= set || ov[2 * i] == PCRE2_UNSET) && caps[i].empty()) continue;
        abort();
      }
    }
    if (end == std::string_view::npos) break;
    inputs.remove_prefix(end + 1);
  }
  pcre2_match_data_free(md);
  pcre2_code_free(pcre);
  return 0;
}
