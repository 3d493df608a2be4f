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

#include "waf/body/body.h"
#include "waf/body/internal.h"
#include "waf/transformations/internal.h"

namespace rampart::waf::body {
namespace {

// urldecode_nonstrict: t:urlDecode's decoding (invalid escapes copied through
// unchanged), and whether any '%' did not start a valid escape.
std::string urlDecodeNonStrict(std::string_view in, bool& invalid) {
  std::string out;
  if (!transformations::urlDecode(in, out, &invalid)) return std::string(in);  // (unchanged: out left empty)
  return out;
}

}  // namespace

Result parseUrlEncoded(std::string_view body, const Limits& limits, char separator) {
  Result result;
  // One allocation for the arguments, not one per doubling (a query string's few).
  if (!body.empty()) {
    size_t pieces = 1;
    for (size_t at = body.find(separator); at != std::string_view::npos && pieces < 64;
         at = body.find(separator, at + 1))
      ++pieces;
    result.args.reserve(pieces);
  }
  size_t i = 0;
  const size_t n = body.size();
  while (i < n) {
    // A piece ends at the separator; its name at the first '=' in it.
    const size_t end = std::min(body.find(separator, i), n);
    const std::string_view piece = body.substr(i, end - i);
    const size_t eq = piece.find('=');
    std::string name = urlDecodeNonStrict(piece.substr(0, eq), result.urlencoded_error);
    // No '=': an empty value (also for an empty piece between separators).
    std::string value =
        eq == std::string_view::npos ? std::string() : urlDecodeNonStrict(piece.substr(eq + 1), result.urlencoded_error);
    detail::addArg(result, limits, std::move(name), std::move(value));
    i = end + 1;
  }
  return result;
}

}  // namespace rampart::waf::body
