// t:removeComments: deletes comments, as ModSecurity v2:
// - "/* ... */" and "<!-- ... -->" are removed; an unterminated one runs to the
//   end and leaves one space;
// - "--" and "#" start a comment to the end of the value: the value ends there
//   ("1 OR 1-- x" -> "1 OR 1");
// - v2 quirk kept: the byte right after "*/" or "-->" is copied without being
//   looked at, and when the comment closes at the very end v2 copies the C
//   string's terminating NUL ("a/*b*/" -> "a" followed by a NUL byte).
// Example: "SEL/*x*/ECT 1 # y" -> "SELECT 1 ".
// Not used by CRS (which uses replaceComments and removeCommentsChar).
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool removeComments(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  auto opens = [&](std::size_t i) -> std::size_t {  // comment opener length at i
    if (in[i] == '#') return 1;
    if (i + 1 >= n) return 0;
    if (in[i] == '/' && in[i + 1] == '*') return 2;
    if (in[i] == '<' && in[i + 1] == '!' && i + 3 < n && in[i + 2] == '-' && in[i + 3] == '-')
      return 4;
    if (in[i] == '-' && in[i + 1] == '-') return 2;
    return 0;
  };
  static constexpr detail::ByteSet kFirst("/<-#");  // bytes an opener starts with
  std::size_t i = detail::findFirst(in, kFirst);
  while (i < n && opens(i) == 0) i = detail::findFirst(in, kFirst, i + 1);
  if (i == n) return false;
  out.clear();
  out.reserve(n + 1);
  out.append(in.data(), i);
  bool inComment = false;
  while (i < n) {
    if (!inComment) {
      const std::size_t m = opens(i);
      if (m == 0) {
        out.push_back(in[i]);
        ++i;
      } else if (in[i] == '#' || in[i] == '-') {  // "--" or "#": the rest is a comment
        break;
      } else {
        inComment = true;
        i += m;
      }
    } else {
      std::size_t close = 0;
      if (in[i] == '*' && i + 1 < n && in[i + 1] == '/')
        close = 2;
      else if (in[i] == '-' && i + 2 < n && in[i + 1] == '-' && in[i + 2] == '>')
        close = 3;
      if (close == 0) {
        ++i;
        continue;
      }
      inComment = false;
      i += close;
      out.push_back(i < n ? in[i] : '\0');
      ++i;
    }
  }
  if (inComment) out.push_back(' ');
  return true;
}

}  // namespace rampart::waf::transformations
