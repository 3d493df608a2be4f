// The body-processor switches of ModSecurity's recommended base configuration
// (modsecurity.conf-recommended), which CRS's test image and every CRS
// deployment run before CRS: XML and JSON request bodies get their processors.
// Shared by the offline tools (ids 200000, 200001, 200006 as in the recommended
// file) and the gateway's generated settings (ids of its own, so that a user's
// modsecurity.conf can be included beside them).
#pragma once

#include <cstdint>
#include <string>

namespace rampart::waf {

inline std::string bodyProcessorRules(int64_t xml_id = 200000, int64_t json_id = 200001, int64_t json_plus_id = 200006) {
  std::string s;
  s += "SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:application(?:/soap\\+|/)|text/)xml\" \\\n    \"id:" +
       std::to_string(xml_id) + ",phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n";
  s += "SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" \\\n    \"id:" + std::to_string(json_id) +
       ",phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n";
  s += "SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/[a-z0-9.-]+[+]json\" \\\n    \"id:" +
       std::to_string(json_plus_id) + ",phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n";
  return s;
}

}  // namespace rampart::waf
