// t:trimRight: removes trailing whitespace, C isspace() only: space, \t \n \v
// \f \r (NBSP 0xa0 is kept, as in ModSecurity v2).
// Example: " abc \r\n" -> " abc".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool trimRight(std::string_view in, std::string& out) {
  std::size_t n = in.size();
  while (n > 0 && detail::isSpace(in[n - 1])) --n;
  if (n == in.size()) return false;
  out.assign(in.data(), n);
  return true;
}

}  // namespace rampart::waf::transformations
