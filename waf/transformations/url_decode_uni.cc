// t:urlDecodeUni: urlDecode plus IIS %uXXXX, as ModSecurity v2 without a
// SecUnicodeMapFile: %uHHHH (or %UHHHH) keeps only its low byte, except the
// full-width ASCII block: %uFF01-%uFF5E (high byte FF in either case, low byte
// 01-5E) gives low byte + 0x20, i.e. the ASCII character ("%uff1c" -> '<').
// "%u0000" gives a NUL byte. An invalid or short %u sequence keeps "%u" and
// goes on after it; other invalid %-sequences are kept as they are.
// Example: "%u0041%uff0e%2f+" -> "A./ ".
// v2 and v3 agree when no SecUnicodeMapFile is loaded; we do not support one
// (the code-page mapping of %uXXXX), which is what CRS runs with.
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool urlDecodeUni(std::string_view in, std::string& out) {
  using detail::isHex;
  const std::size_t n = in.size();
  static constexpr detail::ByteSet kStart("%+");
  std::size_t i = detail::findFirst(in, kStart);
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  while (i < n) {
    const char c = in[i];
    if (c == '%') {
      if (i + 1 < n && (in[i + 1] == 'u' || in[i + 1] == 'U')) {
        if (i + 5 < n && isHex(in[i + 2]) && isHex(in[i + 3]) && isHex(in[i + 4]) &&
            isHex(in[i + 5])) {
          unsigned char d = detail::x2c(in.data() + i + 4);
          if (d > 0x00 && d < 0x5f && (in[i + 2] | 0x20) == 'f' && (in[i + 3] | 0x20) == 'f')
            d = static_cast<unsigned char>(d + 0x20);
          o.put(d);
          i += 6;
        } else {
          o.copy(i, 2);  // "%u": not decodable, kept
          i += 2;
        }
      } else if (i + 2 < n && isHex(in[i + 1]) && isHex(in[i + 2])) {
        o.put(detail::x2c(in.data() + i + 1));
        i += 3;
      } else {
        o.put('%');
        ++i;
      }
    } else if (c == '+') {
      o.put(' ');
      ++i;
    } else {  // a run of plain bytes
      const std::size_t j = detail::findFirst(in, kStart, i + 1);
      o.copy(i, j - i);
      i = j;
    }
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
