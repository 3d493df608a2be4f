// t:replaceNulls: replaces every NUL (0x00) byte with a space.
// Example: "a\0b" -> "a b".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool replaceNulls(std::string_view in, std::string& out) {
  if (in.empty()) return false;  // (an empty view may have no data pointer: not for memchr)
  const char* p = static_cast<const char*>(std::memchr(in.data(), 0, in.size()));
  if (p == nullptr) return false;
  out.assign(in.data(), in.size());
  for (std::size_t i = static_cast<std::size_t>(p - in.data()); i < out.size(); ++i) {
    if (out[i] == '\0') out[i] = ' ';
  }
  return true;
}

}  // namespace rampart::waf::transformations
