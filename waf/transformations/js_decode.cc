// t:jsDecode: decodes JavaScript escapes, as ModSecurity v2's
// js_decode_nonstrict_inplace:
// - \uHHHH keeps only the low byte, except full-width ASCII: \uFF01-\uFF5E
//   (high byte FF in either case) gives low byte + 0x20 ("\uff1c" -> '<');
// - \xHH is one byte; 'u' and 'x' must be lower case;
// - \OOO octal, at most three digits, and only two when the first is 4-7 so
//   the value fits in a byte ("\101" -> 'A', "\477" -> "'7");
// - \a \b \f \n \r \t \v are the control characters; any other escaped byte is
//   itself ("\'" -> "'", "\z" -> "z", "\u12" -> "u12");
// - a backslash at the very end is kept.
// Example: "\x3cscript\x3e\u0028\61\)" -> "<script>(1)".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool jsDecode(std::string_view in, std::string& out) {
  using detail::isHex;
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
    if (i + 5 < n && in[i + 1] == 'u' && isHex(in[i + 2]) && isHex(in[i + 3]) && isHex(in[i + 4]) &&
        isHex(in[i + 5])) {
      unsigned char d = detail::x2c(in.data() + i + 4);
      if (d > 0x00 && d < 0x5f && (in[i + 2] | 0x20) == 'f' && (in[i + 3] | 0x20) == 'f')
        d = static_cast<unsigned char>(d + 0x20);
      o.put(d);
      i += 6;
    } else if (i + 3 < n && in[i + 1] == 'x' && isHex(in[i + 2]) && isHex(in[i + 3])) {
      o.put(detail::x2c(in.data() + i + 2));
      i += 4;
    } else if (i + 1 < n && detail::isOctal(in[i + 1])) {
      std::size_t j = 1;  // digits taken
      while (j < 3 && i + 1 + j < n && detail::isOctal(in[i + 1 + j])) ++j;
      if (j == 3 && in[i + 1] > '3') j = 2;
      unsigned v = 0;
      for (std::size_t k = 0; k < j; ++k) v = v * 8 + static_cast<unsigned>(in[i + 1 + k] - '0');
      o.put(static_cast<unsigned char>(v));
      i += 1 + j;
    } else if (i + 1 < n) {
      char c = in[i + 1];
      switch (c) {
        case 'a':
          c = '\a';
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'v':
          c = '\v';
          break;
        default:
          break;
      }
      o.put(c);
      i += 2;
    } else {
      o.put('\\');
      ++i;
    }
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
