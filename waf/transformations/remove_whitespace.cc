// t:removeWhitespace: deletes every whitespace byte: C isspace() (space, \t \n
// \v \f \r) and NBSP 0xa0, as ModSecurity v2 (and v3) do. Bytes of multi-byte
// UTF-8 characters other than a lone 0xa0 are kept.
// Example: "u n\ti\xa0on" -> "union".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool removeWhitespace(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  static constexpr detail::ByteSet kSpace("", true);
  std::size_t i = detail::findFirst(in, kSpace);
  if (i == n) return false;
  out.resize(n);
  char* d = out.data();
  std::memcpy(d, in.data(), i);
  d += i;
  for (++i; i < n; ++i) {
    *d = in[i];
    d += !kSpace(in[i]);
  }
  out.resize(static_cast<std::size_t>(d - out.data()));
  return true;
}

}  // namespace rampart::waf::transformations
