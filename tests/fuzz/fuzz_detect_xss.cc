// libFuzzer: @detectXSS on arbitrary bytes (no crash, no overread; the unit tests
// check linear time on long inputs).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "waf/detect/xss.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rampart::waf::detect::detectXss(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
