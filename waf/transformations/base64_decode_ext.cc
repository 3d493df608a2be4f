// t:base64DecodeExt: forgiving base64 decoding, as ModSecurity v2's
// decode_base64_ext: every byte outside A-Z a-z 0-9 + / = is skipped (spaces,
// line breaks, '-', '_', '.'...), '=' padding is skipped, incomplete trailing
// bits are dropped, and decoding stops at a NUL byte. One quirk kept: an '='
// that follows a single sixtet of a quantum and is not itself followed by '='
// makes the whole result empty ("QQ=x" decodes, "Q=" gives "").
// Example: "SGVs\nbG8" -> "Hello"; "S-G-V-s" -> "Hel".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool base64DecodeExt(std::string_view in, std::string& out) {
  if (in.empty()) return false;
  const auto& v = detail::kBase64Value;
  out.resize(in.size());  // 4 sixtets give 3 bytes: never more than the input
  char* w = out.data();
  unsigned i = 0;    // sixtets consumed
  unsigned acc = 0;  // partial byte
  for (std::size_t k = 0; k < in.size(); ++k) {
    const unsigned char ch = detail::u8(in[k]);
    if (ch == 0) break;
    if (ch == '=') {
      const bool nextIsPad = k + 1 < in.size() && in[k + 1] == '=';
      if (!nextIsPad && i % 4 == 1) {
        out.clear();
        return true;
      }
      continue;
    }
    const unsigned s = v[ch];
    if (s >= 64) continue;
    switch (i % 4) {
      case 0:
        acc = (s << 2) & 0xff;
        break;
      case 1:
        *w++ = static_cast<char>(acc | (s >> 4));
        acc = (s & 0x0f) << 4;
        break;
      case 2:
        *w++ = static_cast<char>(acc | (s >> 2));
        acc = (s & 0x03) << 6;
        break;
      case 3:
        *w++ = static_cast<char>(acc | s);
        break;
    }
    ++i;
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return true;  // shorter than a non-empty input, so always different
}

}  // namespace rampart::waf::transformations
