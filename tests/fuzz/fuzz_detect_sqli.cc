// libFuzzer: @detectSQLi on arbitrary bytes, in every quoting context.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "waf/detect/sqli.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string fp;
  rampart::waf::detect::detectSqli(std::string_view(reinterpret_cast<const char*>(data), size), &fp);
  return 0;
}
