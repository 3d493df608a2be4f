// t:uppercase: ASCII a-z to A-Z; other bytes are kept. Not in ModSecurity v2
// (libmodsecurity v3 has it); same rules as lowercase in the other direction.
// Example: "select" -> "SELECT".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool uppercase(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n && !(in[i] >= 'a' && in[i] <= 'z')) ++i;
  if (i == n) return false;
  out.assign(in.data(), n);
  for (; i < n; ++i) {
    const char c = out[i];
    if (c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 32);
  }
  return true;
}

}  // namespace rampart::waf::transformations
