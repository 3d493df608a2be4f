// t:parityOdd7bit: makes bit 7 an odd-parity bit, as ModSecurity v2, with its
// quirk: the parity is counted over all eight bits, so bit 7 is cleared when the
// input byte has an odd number of one bits and set otherwise.
// Example: "A" (0x41, two bits) -> 0xc1; "C" (0x43) -> "C".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool parityOdd7bit(std::string_view in, std::string& out) {
  return detail::mapBytes(in, out, [](unsigned char x) -> unsigned char {
    return detail::oddBits(x) ? (x & 0x7f) : (x | 0x80);
  });
}

}  // namespace rampart::waf::transformations
