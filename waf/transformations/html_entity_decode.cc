// t:htmlEntityDecode: decodes HTML entities, as ModSecurity v2's
// html_entities_decode_inplace:
// - &#DDD; and &#xHHH; (x or X), the ';' optional: the digits run as far as
//   they go and the value is truncated to a byte ("&#x41" -> 'A', "&#321;" ->
//   'A'); a value beyond a signed 64-bit long saturates to 0xff (strtol);
// - named entities, only the five v2 knows, names case-insensitive and ';'
//   optional: &quot; &amp; &lt; &gt; &nbsp; (the last as byte 0xa0);
// - anything else is kept as it is ("&copy;", "&#;", "&#xg").
// Example: "&lt;script&GT;&#x28;&#49&#x29" -> "<script>(1)".
// v3 matches the five names as prefixes of the alphanumeric run ("&ltx" gives
// "<", v2 keeps "&ltx"); we follow v2.
#include <cstdint>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {

bool nameIs(std::string_view name, std::string_view lowerRef) {
  if (name.size() != lowerRef.size()) return false;
  for (std::size_t k = 0; k < name.size(); ++k) {
    if ((name[k] | 0x20) != lowerRef[k]) return false;  // name is alphanumeric
  }
  return true;
}

// strtol(digits, base) cast to unsigned char; digits are all valid.
unsigned char numericValue(std::string_view digits, unsigned base) {
  constexpr std::uint64_t kLongMax = 0x7fffffffffffffffULL;
  std::uint64_t v = 0;
  for (const char c : digits) {
    const unsigned d = detail::isDigit(c) ? static_cast<unsigned>(c - '0')
                                          : static_cast<unsigned>((c | 0x20) - 'a' + 10);
    if (v > (kLongMax - d) / base) return 0xff;  // strtol saturates to LONG_MAX
    v = v * base + d;
  }
  return static_cast<unsigned char>(v & 0xff);
}

}  // namespace

bool htmlEntityDecode(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = detail::findByte(in, '&');
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  while (i < n) {
    if (in[i] != '&') {  // a run of plain bytes
      const std::size_t j = detail::findByte(in, '&', i + 1);
      o.copy(i, j - i);
      i = j;
      continue;
    }
    if (i + 1 >= n) {
      o.put('&');
      ++i;
      continue;
    }
    std::size_t copy = 1;  // bytes copied raw when nothing decodes
    std::size_t j = i + 1;
    if (in[j] == '#') {
      copy = 2;
      if (j + 1 < n) {
        ++j;
        const bool hex = in[j] == 'x' || in[j] == 'X';
        bool enough = true;
        if (hex) {
          copy = 3;
          enough = j + 1 < n;
          ++j;
        }
        if (enough) {
          const std::size_t k = j;
          while (j < n && (hex ? detail::isHex(in[j]) : detail::isDigit(in[j]))) ++j;
          if (j > k) {
            o.put(numericValue(in.substr(k, j - k), hex ? 16 : 10));
            i = (j < n && in[j] == ';') ? j + 1 : j;
            continue;
          }
        }
      }
    } else {
      const std::size_t k = j;
      while (j < n && detail::isAlnum(in[j])) ++j;
      if (j > k) {
        const std::string_view name = in.substr(k, j - k);
        int c = -1;
        if (nameIs(name, "quot"))
          c = '"';
        else if (nameIs(name, "amp"))
          c = '&';
        else if (nameIs(name, "lt"))
          c = '<';
        else if (nameIs(name, "gt"))
          c = '>';
        else if (nameIs(name, "nbsp"))
          c = 0xa0;
        if (c != -1) {
          o.put(static_cast<unsigned char>(c));
          i = (j < n && in[j] == ';') ? j + 1 : j;
          continue;
        }
        copy = j - k + 1;
      }
    }
    o.copy(i, copy);
    i += copy;
  }
  return o.finish();
}

}  // namespace rampart::waf::transformations
