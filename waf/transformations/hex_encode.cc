// t:hexEncode: every byte as two lower-case hex digits.
// Example: "Az\0" -> "417a00".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool hexEncode(std::string_view in, std::string& out) {
  if (in.empty()) return false;
  out.resize(in.size() * 2);
  char* d = out.data();
  for (const char ch : in) {
    const unsigned char c = detail::u8(ch);
    *d++ = detail::kHexLower[c >> 4];
    *d++ = detail::kHexLower[c & 0x0f];
  }
  return true;
}

}  // namespace rampart::waf::transformations
