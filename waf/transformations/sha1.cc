// t:sha1: the raw 20-byte SHA-1 digest of the value (binary, not hex; chain
// t:hexEncode to read it).
// Example: "abc" -> a9993e364706816aba3e25717850c26c9cd0d89d (as bytes).
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

bool sha1(std::string_view in, std::string& out) {
  return detail::digest(detail::Digest::kSha1, in, out);
}

}  // namespace rampart::waf::transformations
