// t:trim: trimLeft then trimRight (C isspace(): space, \t \n \v \f \r).
// Example: "  a b  " -> "a b".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool trim(std::string_view in, std::string& out) {
  std::size_t b = 0;
  std::size_t e = in.size();
  while (b < e && detail::isSpace(in[b])) ++b;
  while (e > b && detail::isSpace(in[e - 1])) --e;
  if (b == 0 && e == in.size()) return false;
  out.assign(in.data() + b, e - b);
  return true;
}

}  // namespace rampart::waf::transformations
