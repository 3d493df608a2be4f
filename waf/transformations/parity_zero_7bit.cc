// t:parityZero7bit: clears bit 7 of every byte.
// Example: "\xc1\xe2" -> "Ab".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool parityZero7bit(std::string_view in, std::string& out) {
  return detail::mapBytes(in, out, [](unsigned char x) -> unsigned char { return x & 0x7f; });
}

}  // namespace rampart::waf::transformations
