// libFuzzer target: XML body processor and XPath evaluation of the values
// the engine reads (XML:/* and XML://@*).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "waf/body/body.h"
#include "waf/body/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rampart::waf::body;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Result r = parseXml(body, Limits{});
  if (r.error && r.xml_doc) abort();
  if (!r.error && !r.xml_doc) abort();
  size_t total = 0;
  for (const auto& v : evaluateXPath(r, "/*")) total += v.size();
  for (const auto& v : evaluateXPath(r, "//@*")) total += v.size();
  if (total > 2 * kMaxXPathOutput) abort();
  return 0;
}
