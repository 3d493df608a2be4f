// t:urlDecode: decodes %XX (either case) and '+' to space. An invalid or
// truncated %-sequence ("%zz", "%4", "%") is kept as it is.
// Example: "a%20b+c%2" -> "a b c%2".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool urlDecode(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  static constexpr detail::ByteSet kStart("%+");
  std::size_t i = detail::findFirst(in, kStart);
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  while (i < n) {
    const char c = in[i];
    if (c == '%' && i + 2 < n && detail::isHex(in[i + 1]) && detail::isHex(in[i + 2])) {
      o.put(detail::x2c(in.data() + i + 1));
      i += 3;
    } else if (c == '+' || c == '%') {
      o.put(c == '+' ? ' ' : c);
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
