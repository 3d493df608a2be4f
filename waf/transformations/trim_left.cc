// t:trimLeft: removes leading whitespace, C isspace() only: space, \t \n \v \f
// \r (NBSP 0xa0 is kept, as in ModSecurity v2).
// Example: " \t abc " -> "abc ".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool trimLeft(std::string_view in, std::string& out) {
  std::size_t i = 0;
  while (i < in.size() && detail::isSpace(in[i])) ++i;
  if (i == 0) return false;
  out.assign(in.data() + i, in.size() - i);
  return true;
}

}  // namespace rampart::waf::transformations
