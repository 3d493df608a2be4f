// t:normalizePathWin (alias normalisePathWin): normalizePath with backslashes
// read as forward slashes and written as '/'. v2 quirk kept: in a run of two or
// more separators the last one is copied as it is, so "/\\\\a" gives "\\a".
// Example: "C:\\a\\.\\..\\b\\" -> "C:/b/".
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool normalizePathWin(std::string_view in, std::string& out) {
  return detail::normalizePathImpl(in, out, true);
}

}  // namespace rampart::waf::transformations
