// URLENCODED body processor (application/x-www-form-urlencoded), also used by
// the engine for the query string (ARGS_GET).
//
// Behaviour follows ModSecurity v2's parse_arguments() (apache2/msc_parsers.c):
//   - the input is split on `separator` (SecArgumentSeparator, default '&');
//   - a piece's name ends at the first '=' (or the separator); everything after
//     that first '=' is the value, further '=' included: "a=b=c" -> a = "b=c";
//   - a piece without '=' is a name with an empty value: "a&b" -> a="", b="";
//   - empty pieces are kept as an empty name with an empty value:
//     "a=1&&b=2" -> a="1", ""="", b="2" (v2 adds them too); a trailing
//     separator adds nothing: "a=1&" -> a="1";
//   - "=v" gives an empty name with value "v";
//   - names and values are URL-decoded non-strictly: '+' -> ' ', %XX (two hex
//     digits, either case) -> the byte, anything else (a lone '%', "%G1",
//     "%4" at the end) is kept as it is: "a%2=%41%zz+b" -> "a%2" = "A%zz b";
//   - an invalid escape sets result.urlencoded_error (URLENCODED_ERROR), as
//     v2 does from urldecode's invalid count; it is not a body error;
//   - more than limits.max_args pieces: the first max_args are kept and the
//     result carries error "SecArgumentsLimit exceeded" (REQBODY_ERROR).
// Example: parseUrlEncoded("q=select+1&x=%3Cscript%3E", {}) ->
//   args {("q","select 1"), ("x","<script>")}.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waf/body/body.h"
#include "waf/body/internal.h"
#include "waf/transformations/internal.h"

namespace rampart::waf::body {

void parseUrlEncodedViews(std::string_view body, char separator, std::string& storage,
                          std::vector<std::pair<std::string_view, std::string_view>>& out, bool* invalid) {
  out.clear();
  storage.clear();
  storage.reserve(body.size());  // every decoded piece together is no longer than the body
  // urldecode_nonstrict: t:urlDecode's decoding, invalid escapes copied through.
  auto decoded = [&](std::string_view in) -> std::string_view {
    const size_t at = storage.size();
    storage.resize(at + in.size());  // (within the room reserved: nothing moves)
    const size_t n = transformations::urlDecodeInto(in, storage.data() + at, invalid);
    if (n == std::string_view::npos) {
      storage.resize(at);
      return in;
    }
    storage.resize(at + n);
    return {storage.data() + at, n};
  };
  size_t i = 0;
  const size_t n = body.size();
  while (i < n) {
    // A piece ends at the separator; its name at the first '=' in it.
    const size_t end = std::min(body.find(separator, i), n);
    const std::string_view piece = body.substr(i, end - i);
    const size_t eq = piece.find('=');
    const std::string_view name = decoded(piece.substr(0, eq));
    // No '=': an empty value (also for an empty piece between separators).
    out.emplace_back(name, eq == std::string_view::npos ? std::string_view() : decoded(piece.substr(eq + 1)));
    i = end + 1;
  }
}

Result parseUrlEncoded(std::string_view body, const Limits& limits, char separator) {
  Result result;
  std::string storage;
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  parseUrlEncodedViews(body, separator, storage, pairs, &result.urlencoded_error);
  result.args.reserve(std::min<size_t>(pairs.size(), limits.max_args));
  for (const auto& [name, value] : pairs)
    if (!detail::addArg(result, limits, std::string(name), std::string(value))) break;
  return result;
}

}  // namespace rampart::waf::body
