// t:compressWhitespace: every run of whitespace (C isspace(): space, \t \n \v
// \f \r, and NBSP 0xa0) becomes one space, including leading and trailing runs.
// Example: "a \t\n b\xa0" -> "a b ".
// v2 reports "changed" only for runs of two or more, although it also turns a
// lone \t into a space; we return whether the bytes differ (the contract).
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool compressWhitespace(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  // First place where the output differs: a whitespace byte that is not a lone
  // ' ' (another whitespace follows, or it is not a space).
  static constexpr detail::ByteSet kSpace("", true);
  std::size_t i = detail::findFirst(in, kSpace);
  while (i < n && in[i] == ' ' && !(i + 1 < n && kSpace(in[i + 1])))
    i = detail::findFirst(in, kSpace, i + 1);
  if (i == n) return false;
  out.resize(n);
  char* d = out.data();
  std::memcpy(d, in.data(), i);
  d += i;
  bool inSpace = false;
  for (; i < n; ++i) {
    if (kSpace(in[i])) {
      if (!inSpace) *d++ = ' ';
      inSpace = true;
    } else {
      *d++ = in[i];
      inSpace = false;
    }
  }
  out.resize(static_cast<std::size_t>(d - out.data()));
  return true;
}

}  // namespace rampart::waf::transformations
