// t:urlDecode: decodes %XX (either case) and '+' to space. An invalid or
// truncated %-sequence ("%zz", "%4", "%") is kept as it is.
// Example: "a%20b+c%2" -> "a b c%2".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool urlDecode(std::string_view in, std::string& out, bool* invalid) {
  const std::size_t n = in.size();
  static constexpr detail::ByteSet kStart("%+");
  auto escape = [&](std::size_t i) {  // in[i] is '%': two hex digits follow
    const bool ok = i + 2 < n && detail::isHex(in[i + 1]) && detail::isHex(in[i + 2]);
    if (!ok && invalid) *invalid = true;
    return ok;
  };
  // Up to the first byte that changes (a '%' not followed by two hex digits stays).
  std::size_t i = detail::findFirst(in, kStart);
  while (i < n && in[i] == '%' && !escape(i)) i = detail::findFirst(in, kStart, i + 1);
  if (i == n) return false;
  // Then byte by byte into an output never longer than the input: a form's
  // text has a '+' every few bytes, too often for a search per run to pay.
  out.resize(n);
  char* const begin = out.data();
  std::memcpy(begin, in.data(), i);
  char* o = begin + i;
  while (i < n) {
    const char c = in[i];
    if (c == '+') {
      *o++ = ' ';
      ++i;
    } else if (c == '%' && escape(i)) {
      *o++ = static_cast<char>(detail::x2c(in.data() + i + 1));
      i += 3;
    } else {
      *o++ = c;
      ++i;
    }
  }
  out.resize(static_cast<std::size_t>(o - begin));
  return true;
}

bool urlDecode(std::string_view in, std::string& out) { return urlDecode(in, out, nullptr); }

}  // namespace rampart::waf::transformations
