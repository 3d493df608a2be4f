// t:md5: the raw 16-byte MD5 digest of the value (binary, not hex; chain
// t:hexEncode to read it).
// Example: "" -> d41d8cd98f00b204e9800998ecf8427e (as bytes).
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool md5(std::string_view in, std::string& out) {
  return detail::digest(detail::Digest::kMd5, in, out);
}

}  // namespace rampart::waf::transformations
