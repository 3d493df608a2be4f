// t:urlDecode: decodes %XX (either case) and '+' to space. An invalid or
// truncated %-sequence ("%zz", "%4", "%") is kept as it is.
// Example: "a%20b+c%2" -> "a b c%2".
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
// bytes): its length. Sixteen bytes at a time while they hold no '%' (their
// '+' become spaces in the same step: a form's text has one every few
// bytes), then byte by byte up to the next '%'.
std::size_t decodeFrom(std::string_view in, std::size_t i, char* out, bool* invalid) {
  const std::size_t n = in.size();
  const char* const s = in.data();
  std::memcpy(out, s, i);
  char* o = out + i;
  while (i < n) {
#ifdef __SSE2__
    const __m128i pct = _mm_set1_epi8('%'), plus = _mm_set1_epi8('+'), space = _mm_set1_epi8(' ');
    while (i + 16 <= n) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, pct))) break;
      const __m128i is_plus = _mm_cmpeq_epi8(v, plus);
      v = _mm_or_si128(_mm_andnot_si128(is_plus, v), _mm_and_si128(is_plus, space));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);  // (o + 16 <= out + n: never longer than in)
      i += 16;
      o += 16;
    }
#endif
    const void* p = std::memchr(s + i, '%', n - i);
    const std::size_t stop = p ? std::size_t(static_cast<const char*>(p) - s) : n;
    for (; i < stop; ++i) *o++ = s[i] == '+' ? ' ' : s[i];
    if (i == n) break;
    if (escapeAt(in, i, invalid)) {  // s[i] is '%'
      *o++ = static_cast<char>(detail::x2c(s + i + 1));
      i += 3;
    } else {
      *o++ = '%';
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
