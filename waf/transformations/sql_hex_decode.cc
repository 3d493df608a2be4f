// t:sqlHexDecode: decodes SQL hex literals: "0x" (or "0X") followed by pairs of
// hex digits becomes the bytes. As ModSecurity v2's sql_hex2bytes_inplace:
// - a "0x" not followed by two hex digits is kept as it is;
// - an odd trailing digit of a literal is kept ("0x414" -> "A4");
// - the byte right after a literal is copied without being looked at, so a
//   literal directly after another one is not decoded ("0x410x42" -> "A0x42");
// - v2 works on a C string: the value ends at the first NUL byte, in the input
//   or decoded ("0x610062" -> "a").
// Example: "SELECT 0x616263" -> "SELECT abc".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool sqlHexDecode(std::string_view in, std::string& out) {
  using detail::isHex;
  if (in.empty()) return false;
  const char* nul = static_cast<const char*>(std::memchr(in.data(), 0, in.size()));
  const std::size_t m = nul ? static_cast<std::size_t>(nul - in.data()) : in.size();
  auto literalAt = [&](std::size_t i) {
    return in[i] == '0' && i + 3 < m && (in[i + 1] | 0x20) == 'x' && isHex(in[i + 2]) &&
           isHex(in[i + 3]);
  };
  std::size_t i = detail::findByte(in.substr(0, m), '0');
  while (i < m && !literalAt(i)) i = detail::findByte(in.substr(0, m), '0', i + 1);
  if (i == m) {
    if (m == in.size()) return false;
    out.assign(in.data(), m);
    return true;
  }
  detail::LazyOut o(in, out, i);
  while (i < m) {
    if (!literalAt(i)) {
      o.put(in[i]);
      ++i;
      continue;
    }
    i += 2;
    while (i + 1 < m && isHex(in[i]) && isHex(in[i + 1])) {
      const unsigned char b = detail::x2c(in.data() + i);
      if (b == 0) return o.finish();  // v2's strlen() ends the value here
      o.put(b);
      i += 2;
    }
    if (i >= m) break;
    o.put(in[i]);  // copied unexamined
    ++i;
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
