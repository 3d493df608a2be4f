// t:escapeSeqDecode: decodes ANSI C escapes, as ModSecurity v2's
// ansi_c_sequences_decode_inplace: \a \b \f \n \r \t \v \\ \? \' \" ; \xHH
// (x or X, exactly two hex digits); \O, \OO, \OOO octal (value taken modulo
// 256: "\777" -> 0xff). Any other escape drops the backslash and keeps the byte
// ("\z" -> "z", "\x4g" -> "x4g"); a trailing backslash is kept.
// Example: "\x41\102\n" -> "AB" + newline.
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool escapeSeqDecode(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = detail::findByte(in, '\\');
  if (i + 1 >= n) return false;  // none, or only a trailing one (kept)
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  while (i < n) {
    if (!(in[i] == '\\' && i + 1 < n)) {
      o.put(in[i]);
      ++i;
      continue;
    }
    int c = -1;
    switch (in[i + 1]) {
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
      case '\\':
        c = '\\';
        break;
      case '?':
        c = '?';
        break;
      case '\'':
        c = '\'';
        break;
      case '"':
        c = '"';
        break;
      default:
        break;
    }
    if (c != -1) {
      i += 2;
    } else if (in[i + 1] == 'x' || in[i + 1] == 'X') {
      if (i + 3 < n && detail::isHex(in[i + 2]) && detail::isHex(in[i + 3])) {
        c = detail::x2c(in.data() + i + 2);
        i += 4;
      }
    } else if (detail::isOctal(in[i + 1])) {
      std::size_t j = 1;
      while (j < 3 && i + 1 + j < n && detail::isOctal(in[i + 1 + j])) ++j;
      unsigned v = 0;
      for (std::size_t k = 0; k < j; ++k) v = v * 8 + static_cast<unsigned>(in[i + 1 + k] - '0');
      c = static_cast<int>(v & 0xff);
      i += 1 + j;
    }
    if (c == -1) {
      o.put(in[i + 1]);
      i += 2;
    } else {
      o.put(static_cast<unsigned char>(c));
    }
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
