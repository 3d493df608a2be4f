// t:urlEncode: keeps A-Z a-z 0-9 and '*', turns space into '+', and encodes
// every other byte as %xx with lower-case hex (ModSecurity v2's url_encode).
// Example: "a b/c*" -> "a+b%2fc*".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {
inline bool keep(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}
}  // namespace

bool urlEncode(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n && keep(in[i])) ++i;
  if (i == n) return false;
  out.resize(i + (n - i) * 3);
  char* d = out.data();
  std::memcpy(d, in.data(), i);
  d += i;
  for (; i < n; ++i) {
    const unsigned char c = detail::u8(in[i]);
    if (c == ' ') {
      *d++ = '+';
    } else if (keep(in[i])) {
      *d++ = in[i];
    } else {
      *d++ = '%';
      *d++ = detail::kHexLower[c >> 4];
      *d++ = detail::kHexLower[c & 0x0f];
    }
  }
  out.resize(static_cast<std::size_t>(d - out.data()));
  return true;
}

}  // namespace rampart::waf::transformations
