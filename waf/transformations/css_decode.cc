// t:cssDecode: decodes CSS 2 escapes, as ModSecurity v2's css_decode_inplace:
// - a backslash with 1-6 hex digits is one byte: one digit gives its value,
//   more give the value of the last two digits ("\1234" -> 0x34); with 4 digits
//   (or 5-6 with leading zeros up to four significant digits) full-width ASCII
//   FF01-FF5E maps to ASCII ("\ff1c" -> '<'); one whitespace byte after the
//   digits is swallowed;
// - backslash + newline is removed (line continuation);
// - backslash + any other byte is that byte ("\;" -> ";"), a trailing
//   backslash is removed.
// Example: "\6a\61 vascript\:" -> "javascript:".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool cssDecode(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = detail::findByte(in, '\\');
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  while (i < n) {
    if (in[i] != '\\') {  // a run of plain bytes
      const std::size_t j = detail::findByte(in, '\\', i + 1);
      o.copy(i, j - i);
      i = j;
      continue;
    }
    if (i + 1 >= n) {  // trailing backslash: dropped
      ++i;
      continue;
    }
    ++i;  // past the backslash
    std::size_t j = 0;
    while (j < 6 && i + j < n && detail::isHex(in[i + j])) ++j;
    if (j > 0) {
      unsigned char d;
      bool fullCheck = false;
      if (j == 1) {
        d = detail::xsingle2c(in[i]);
      } else {
        d = detail::x2c(in.data() + i + j - 2);
        fullCheck =
            j == 4 || (j == 5 && in[i] == '0') || (j == 6 && in[i] == '0' && in[i + 1] == '0');
      }
      if (fullCheck && d > 0x00 && d < 0x5f && (in[i + j - 3] | 0x20) == 'f' &&
          (in[i + j - 4] | 0x20) == 'f')
        d = static_cast<unsigned char>(d + 0x20);
      o.put(d);
      if (i + j < n && detail::isSpace(in[i + j])) ++j;
      i += j;
    } else if (in[i] == '\n') {
      ++i;
    } else {
      o.put(in[i]);
      ++i;
    }
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
