// t:utf8toUnicode: writes every multi-byte UTF-8 character as %uXXXX (lower-case
// hex, at least four digits: U+1F600 is "%u1f600"), as ModSecurity v2's
// utf8_unicode_inplace_ex, quirks included:
// - ASCII is kept, but NUL bytes are dropped (v2 never advances over them);
// - an invalid or truncated sequence drops its lead byte and goes on with the
//   next byte; stray continuation bytes (80-BF) and F8-FF are kept raw;
// - lead bytes F5-F7 are written raw and then decoded like F0-F4;
// - a surrogate (ED A0 80 - ED BF BF) or an overlong form is written as %uXXXX
//   followed by its raw lead byte ("\xc0\xaf" -> "%u002f\xc0").
// Example: "caf\xc3\xa9 \xe2\x82\xac" -> "caf%u00e9 %u20ac".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {

inline bool cont(std::string_view in, std::size_t k) {
  return k < in.size() && (detail::u8(in[k]) & 0xC0) == 0x80;
}

void putCode(detail::LazyOut& o, std::uint32_t d) {
  char digits[8];
  int len = 0;
  do {
    digits[len++] = detail::kHexLower[d & 0xf];
    d >>= 4;
  } while (d != 0);
  o.put('%');
  o.put('u');
  for (int pad = len; pad < 4; ++pad) o.put('0');
  while (len > 0) o.put(digits[--len]);
}

}  // namespace

bool utf8toUnicode(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n && in[i] != '\0' && detail::u8(in[i]) < 0x80) ++i;
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  while (i < n) {
    const unsigned char c = detail::u8(in[i]);
    if (c < 0x80) {
      if (c != 0) o.put(in[i]);
      ++i;
      continue;
    }
    int len = 0;  // length of a valid sequence, 0 if none
    std::uint32_t d = 0;
    if ((c & 0xE0) == 0xC0) {
      if (cont(in, i + 1)) {
        len = 2;
        d = ((c & 0x1Fu) << 6) | (detail::u8(in[i + 1]) & 0x3Fu);
      }
    } else if ((c & 0xF0) == 0xE0) {
      if (cont(in, i + 1) && cont(in, i + 2)) {
        len = 3;
        d = ((c & 0x0Fu) << 12) | ((detail::u8(in[i + 1]) & 0x3Fu) << 6) |
            (detail::u8(in[i + 2]) & 0x3Fu);
      }
    } else if ((c & 0xF8) == 0xF0) {
      if (c >= 0xF5) o.put(c);
      if (cont(in, i + 1) && cont(in, i + 2) && cont(in, i + 3)) {
        len = 4;
        d = ((c & 0x07u) << 18) | ((detail::u8(in[i + 1]) & 0x3Fu) << 12) |
            ((detail::u8(in[i + 2]) & 0x3Fu) << 6) | (detail::u8(in[i + 3]) & 0x3Fu);
      }
    } else {
      o.put(c);
    }
    if (len > 0) {
      putCode(o, d);
      if (d >= 0xD800 && d <= 0xDFFF) o.put(c);
      if ((len == 4 && d < 0x10000) || (len == 3 && d < 0x800) || (len == 2 && d < 0x80)) o.put(c);
      i += static_cast<std::size_t>(len);
    } else {
      ++i;
    }
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
