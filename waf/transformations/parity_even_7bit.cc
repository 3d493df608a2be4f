// t:parityEven7bit: makes bit 7 an even-parity bit, as ModSecurity v2, with
// its quirk: the parity is counted over all eight bits, so bit 7 is set when the
// input byte has an odd number of one bits and cleared otherwise.
// Example: "C" (0x43, three bits) -> 0xc3; "A" (0x41) -> "A"; 0xc1 stays 0xc1.
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool parityEven7bit(std::string_view in, std::string& out) {
  return detail::mapBytes(in, out, [](unsigned char x) -> unsigned char {
    return detail::oddBits(x) ? (x | 0x80) : (x & 0x7f);
  });
}

}  // namespace rampart::waf::transformations
