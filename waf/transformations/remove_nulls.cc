// t:removeNulls: deletes every NUL (0x00) byte.
// Example: "a\0b\0" -> "ab".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool removeNulls(std::string_view in, std::string& out) {
  if (in.empty()) return false;  // (an empty view may have no data pointer: not for memchr)
  const char* p = static_cast<const char*>(std::memchr(in.data(), 0, in.size()));
  if (p == nullptr) return false;
  const std::size_t first = static_cast<std::size_t>(p - in.data());
  out.resize(in.size());
  char* d = out.data();
  std::memcpy(d, in.data(), first);
  d += first;
  for (std::size_t i = first + 1; i < in.size(); ++i) {
    *d = in[i];
    d += in[i] != '\0';
  }
  out.resize(static_cast<std::size_t>(d - out.data()));
  return true;
}

}  // namespace rampart::waf::transformations
