// libFuzzer target: match::Regex, whose leading-literal guard, atom guard (RE2
// prefilter's literals) and whole-literal shortcut answer without running RE2. The first byte picks caseless or not;
// the rest is a pattern, a NUL, and inputs separated by NULs. Checks: no crash
// or UB (the guard's parse of escapes, anchors and a first optional atom), and
// for every pattern RE2 compiles, Regex::matches and Regex::match answer what
// RE2 itself answers with the same options (Latin-1, dot matches newline).
#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
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
  std::string_view inputs = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  for (;;) {
    const size_t end = inputs.find('\0');
    const std::string_view input = inputs.substr(0, end);
    const bool want = RE2::PartialMatch(re2::StringPiece(input.data(), input.size()), reference);
    if (re->matches(input) != want) abort();
    std::string_view cap;
    if ((re->match(input, &cap, 1) > 0) != want) abort();
    if (end == std::string_view::npos) break;
    inputs.remove_prefix(end + 1);
  }
  return 0;
}
