// t:lowercase: ASCII A-Z to a-z (C-locale tolower, as ModSecurity v2); other
// bytes, including UTF-8 and Latin-1 letters, are kept.
// Example: "SeLeCT" -> "select". An already lower-case value returns false.
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool lowercase(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n && !(in[i] >= 'A' && in[i] <= 'Z')) ++i;
  if (i == n) return false;
  out.assign(in.data(), n);
  for (; i < n; ++i) {
    const char c = out[i];
    if (c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c + 32);
  }
  return true;
}

}  // namespace rampart::waf::transformations
