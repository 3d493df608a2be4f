// The body-processor switches of ModSecurity's recommended base configuration
// (modsecurity.conf-recommended), which CRS's test image and every CRS
// deployment run before CRS: XML and JSON request bodies get their processors.
// Shared by the offline tools and the gateway's generated settings.
#pragma once

namespace rampart::waf {

inline constexpr const char* kBodyProcessorRules =
    R"(SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\+|/)|text/)xml" \
    "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" \
    "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/[a-z0-9.-]+[+]json" \
    "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
)";

}  // namespace rampart::waf
