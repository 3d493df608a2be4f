// libFuzzer target: URLENCODED body processor. The first byte picks the
// argument separator and a small argument limit; the rest is the body.
// Checks: no crash / UB, the limit is honoured, values never grow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "waf/body/body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace rampart::waf::body;
  Limits limits;
  limits.max_args = 1 + (data[0] & 0x3f);
  const char separator = (data[0] & 0x40) ? ';' : '&';
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  Result r = parseUrlEncoded(body, limits, separator);
  if (r.args.size() > limits.max_args) abort();
  size_t total = 0;
  for (const auto& f : r.args) total += f.name.size() + f.value.size();
  if (total > body.size()) abort();  // decoding only shrinks
  return 0;
}
