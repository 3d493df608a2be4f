// t:base64Decode: decodes the leading run of base64 characters (A-Z a-z 0-9 +
// /), as APR's apr_base64_decode used by ModSecurity v2: decoding stops at the
// first other byte ('=', whitespace, '-', NUL...), whatever follows is
// ignored, and a lone trailing sixtet is dropped. A value that does not start
// with base64 decodes to "".
// Example: "SGVsbG8=" -> "Hello"; "SGVs bG8=" -> "Hel".
// v3 decodes with mbedTLS, which gives "" for the whole value as soon as it
// holds a non-base64 byte; we follow v2.
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool base64Decode(std::string_view in, std::string& out) {
  if (in.empty()) return false;  // "" decodes to ""
  const auto& v = detail::kBase64Value;
  std::size_t run = 0;
  while (run < in.size() && v[detail::u8(in[run])] < 64) ++run;
  out.resize(run / 4 * 3 + 2);
  char* w = out.data();
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t left = run;
  while (left >= 4) {
    const unsigned a = v[p[0]], b = v[p[1]], c = v[p[2]], d = v[p[3]];
    *w++ = static_cast<char>((a << 2 | b >> 4) & 0xff);
    *w++ = static_cast<char>((b << 4 | c >> 2) & 0xff);
    *w++ = static_cast<char>((c << 6 | d) & 0xff);
    p += 4;
    left -= 4;
  }
  if (left > 1) *w++ = static_cast<char>((v[p[0]] << 2 | v[p[1]] >> 4) & 0xff);
  if (left > 2) *w++ = static_cast<char>((v[p[1]] << 4 | v[p[2]] >> 2) & 0xff);
  out.resize(static_cast<std::size_t>(w - out.data()));
  return true;  // shorter than a non-empty input, so always different
}

}  // namespace rampart::waf::transformations
