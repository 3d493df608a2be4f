// t:removeCommentsChar: deletes comment markers, not the comments: "/*", "*/",
// "<!--", "-->", "--" and "#".
// Example: "1/*x*/OR--#1" -> "1xOR1".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {
// Length of the comment marker at in[i], 0 if none.
inline std::size_t markerAt(std::string_view in, std::size_t i) {
  const std::size_t n = in.size();
  const char c = in[i];
  if (c == '#') return 1;
  if (i + 1 >= n) return 0;
  const char c1 = in[i + 1];
  if ((c == '/' && c1 == '*') || (c == '*' && c1 == '/')) return 2;
  if (c == '<' && c1 == '!' && i + 3 < n && in[i + 2] == '-' && in[i + 3] == '-') return 4;
  if (c == '-' && c1 == '-') return (i + 2 < n && in[i + 2] == '>') ? 3 : 2;
  return 0;
}
}  // namespace

bool removeCommentsChar(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  static constexpr detail::ByteSet kFirst("/*<-#");  // bytes a marker starts with
  std::size_t i = detail::findFirst(in, kFirst);
  while (i < n && markerAt(in, i) == 0) i = detail::findFirst(in, kFirst, i + 1);
  if (i == n) return false;
  out.resize(n);
  char* d = out.data();
  std::memcpy(d, in.data(), i);
  d += i;
  while (i < n) {
    const std::size_t m = markerAt(in, i);
    if (m != 0) {
      i += m;
    } else {  // a run up to the next possible marker
      const std::size_t j = detail::findFirst(in, kFirst, i + 1);
      std::memcpy(d, in.data() + i, j - i);
      d += j - i;
      i = j;
    }
  }
  out.resize(static_cast<std::size_t>(d - out.data()));
  return true;
}

}  // namespace rampart::waf::transformations
