// t:base64Encode: standard base64 (RFC 4648 alphabet, '=' padding, no line
// breaks), as APR's apr_base64_encode.
// Example: "Hello" -> "SGVsbG8=".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool base64Encode(std::string_view in, std::string& out) {
  if (in.empty()) return false;
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.resize((in.size() + 2) / 3 * 4);
  char* d = out.data();
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t left = in.size();
  for (; left >= 3; left -= 3, p += 3) {
    *d++ = kAlphabet[p[0] >> 2];
    *d++ = kAlphabet[((p[0] & 0x03) << 4) | (p[1] >> 4)];
    *d++ = kAlphabet[((p[1] & 0x0f) << 2) | (p[2] >> 6)];
    *d++ = kAlphabet[p[2] & 0x3f];
  }
  if (left > 0) {
    *d++ = kAlphabet[p[0] >> 2];
    if (left == 1) {
      *d++ = kAlphabet[(p[0] & 0x03) << 4];
      *d++ = '=';
    } else {
      *d++ = kAlphabet[((p[0] & 0x03) << 4) | (p[1] >> 4)];
      *d++ = kAlphabet[(p[1] & 0x0f) << 2];
    }
    *d++ = '=';
  }
  return true;
}

}  // namespace rampart::waf::transformations
