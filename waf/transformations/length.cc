// t:length: the value's length in bytes, as a decimal string.
// Example: "hello" -> "5"; "" -> "0". (Returns false only when the value is
// its own length, e.g. "1".)
#include <charconv>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool length(std::string_view in, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, in.size());
  return detail::assignIfDifferent(in, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)),
                                   out);
}

}  // namespace rampart::waf::transformations
