// t:hexDecode: decodes pairs of hex digits into bytes, as ModSecurity v2's
// hex2bytes_inplace: no validation (a non-hex pair decodes to whatever v2's
// x2c arithmetic yields, "zz" -> "S") and an odd last digit is dropped.
// Example: "41424" -> "AB"; "" -> "" (unchanged).
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool hexDecode(std::string_view in, std::string& out) {
  if (in.empty()) return false;
  const std::size_t pairs = in.size() / 2;
  out.resize(pairs);
  for (std::size_t k = 0; k < pairs; ++k) {
    out[k] = static_cast<char>(detail::x2c(in.data() + 2 * k));
  }
  return true;
}

}  // namespace rampart::waf::transformations
