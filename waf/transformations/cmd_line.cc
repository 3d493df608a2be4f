// t:cmdLine: normalises a command line against evasion, as ModSecurity v2:
// deletes \ " ' ^; turns space, tab, \r, \n, ',' and ';' into one space per
// run; deletes a space before '/' or '('; lower-cases A-Z.
// Example: "C^:\\WiNdOwS\\sYsTem32 , /c  \"dir\"" -> "c:windowssystem32/c dir".
// v2 walks the value as a C string, so it stops at the first NUL byte ("ls\0-la"
// gives "ls"); v3 walks the whole value. We follow v2.
#include <cstring>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {

template <bool Lower>
bool cmdLineImpl(std::string_view in, std::string& out) {
  const std::size_t n = in.size();
  // Up to the first byte with a rule, the output equals the input.
  static constexpr detail::ByteSet kStart(std::string_view(" \"'\\^,;\t\r\n/(\0", 13), false, Lower);
  std::size_t i = detail::findFirst(in, kStart);
  if (i == n) return false;
  detail::LazyOut o(in, out, i);
  bool space = false;
  for (; i < n; ++i) {
    const char c = in[i];
    switch (c) {
      case '\0':
        return o.finish();
      case '"':
      case '\'':
      case '\\':
      case '^':
        break;
      case ' ':
      case ',':
      case ';':
      case '\t':
      case '\r':
      case '\n':
        if (!space) {
          o.put(' ');
          space = true;
        }
        break;
      case '/':
      case '(':
        if (space) o.pop();
        space = false;
        o.put(c);
        break;
      default:
        o.put((Lower && c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
        space = false;
    }
  }
  return o.finish();
}

}  // namespace

bool cmdLine(std::string_view in, std::string& out) { return cmdLineImpl<true>(in, out); }
bool cmdLineKeepCase(std::string_view in, std::string& out) { return cmdLineImpl<false>(in, out); }

}  // namespace rampart::waf::transformations
