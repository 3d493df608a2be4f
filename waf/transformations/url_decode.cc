// t:urlDecode: decodes %XX (either case) and '+' to space. An invalid or
// truncated %-sequence ("%zz", "%4", "%") is kept as it is.
// Example: "a%20b+c%2" -> "a b c%2".
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {

constexpr detail::ByteSet kStart("%+");

// in[i] is '%': whether two hex digits follow (*invalid set when not).
bool escapeAt(std::string_view in, std::size_t i, bool* invalid) {
  const bool ok = i + 2 < in.size() && detail::isHex(in[i + 1]) && detail::isHex(in[i + 2]);
  if (!ok && invalid) *invalid = true;
  return ok;
}

// The first byte decoding changes (in.size() when none: a '%' not followed
// by two hex digits stays).
std::size_t firstChange(std::string_view in, bool* invalid) {
  const std::size_t n = in.size();
  std::size_t i = detail::findFirst(in, kStart);
  while (i < n && in[i] == '%' && !escapeAt(in, i, invalid)) i = detail::findFirst(in, kStart, i + 1);
  return i;
}

// in decoded from its first change `i` on into out (room for in.size()
// bytes): its length. Byte by byte: a form's text has a '+' every few
// bytes, too often for a search per run to pay.
std::size_t decodeFrom(std::string_view in, std::size_t i, char* out, bool* invalid) {
  const std::size_t n = in.size();
  std::memcpy(out, in.data(), i);
  char* o = out + i;
  while (i < n) {
    const char c = in[i];
    if (c == '+') {
      *o++ = ' ';
      ++i;
    } else if (c == '%' && escapeAt(in, i, invalid)) {
      *o++ = static_cast<char>(detail::x2c(in.data() + i + 1));
      i += 3;
    } else {
      *o++ = c;
      ++i;
    }
  }
  return static_cast<std::size_t>(o - out);
}

}  // namespace

bool urlDecode(std::string_view in, std::string& out, bool* invalid) {
  const std::size_t i = firstChange(in, invalid);
  if (i == in.size()) return false;
  out.resize(in.size());  // (never longer than the input)
  out.resize(decodeFrom(in, i, out.data(), invalid));
  return true;
}

std::size_t urlDecodeInto(std::string_view in, char* out, bool* invalid) {
  const std::size_t i = firstChange(in, invalid);
  return i == in.size() ? std::string_view::npos : decodeFrom(in, i, out, invalid);
}

bool urlDecode(std::string_view in, std::string& out) { return urlDecode(in, out, nullptr); }

}  // namespace rampart::waf::transformations
