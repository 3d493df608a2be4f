// libFuzzer target: JSON body processor, both namings. The first byte picks
// the naming, a depth limit and an argument limit; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "waf/body/body.h"
#include "same_result.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace rampart::waf::body;
  Limits limits;
  limits.json_v3_naming = (data[0] & 1) != 0;
  limits.json_depth = (data[0] & 2) ? 3 : 10000;
  limits.max_args = (data[0] & 4) ? 5 : 1000;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  Result r = parseJson(body, limits);
  // Parsed again into the Result every input is parsed into: the same.
  static Result reused;
  parseJson(body, limits, reused);
  if (!rampart::fuzz::sameResult(r, reused)) abort();
  if (r.args.size() > limits.max_args) abort();
  if (r.error && r.error_msg.empty()) abort();
  return 0;
}
