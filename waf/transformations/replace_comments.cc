// t:replaceComments: replaces every C comment "/* ... */" with one space; an
// unterminated comment runs to the end and also becomes one space. A lone "*/"
// is kept.
// Example: "UNION/**/SELECT/* x" -> "UNION SELECT ".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool replaceComments(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i + 1 < n && !(in[i] == '/' && in[i + 1] == '*')) ++i;
  if (i + 1 >= n) return false;
  out.resize(n);  // "/*" (two bytes) becomes at most one space
  char* d = out.data();
  std::memcpy(d, in.data(), i);
  d += i;
  bool inComment = false;
  while (i < n) {
    if (!inComment) {
      if (in[i] == '/' && i + 1 < n && in[i + 1] == '*') {
        inComment = true;
        i += 2;
      } else {
        *d++ = in[i];
        ++i;
      }
    } else if (in[i] == '*' && i + 1 < n && in[i + 1] == '/') {
      inComment = false;
      i += 2;
      *d++ = ' ';
    } else {
      ++i;
    }
  }
  if (inComment) *d++ = ' ';
  out.resize(static_cast<std::size_t>(d - out.data()));
  return true;
}

}  // namespace rampart::waf::transformations
