// What `rampart waf test` and `rampart waf inspect` share: loading and
// compiling a rule set with generated settings in front of it, running one
// request (and an emulated backend response) through a fresh Transaction, and
// printing matches in ModSecurity's error-log shape.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "waf/transaction.h"

namespace rampart::cli::wafrun {

struct LoadedRules {
  std::shared_ptr<const waf::Engine> engine;  // null on error
  std::vector<std::string> errors;            // formatted diagnostics (errors only)
  std::vector<std::string> warnings;
  double load_ms = 0;     // SecLang parsing
  double compile_ms = 0;  // Engine::compile
};

// prefix: generated SecLang placed before the files (named "<rampart settings>").
LoadedRules loadRules(const std::string& prefix, const std::vector<std::string>& files_or_globs);

// SecLang for the engine settings CRS's own test setup uses (README of the
// CRS test folder): DetectionOnly, request/response body access, the JSON/XML
// body processor rules of modsecurity.conf-recommended, and the tx.* CRS
// variables (paranoia 4 and the argument/file size limits).
std::string crsTestSettings();

// SecLang for `waf inspect`: the engine on (blocking), body access, the
// JSON/XML body processor rules; with paranoia > 0 the CRS blocking and
// detection paranoia levels are set to it.
std::string inspectSettings(int paranoia);

// A backend response (the reflector's answer, or what the gateway sends back).
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The CRS reflector backend: POST /reflect with a JSON body {"status", "headers",
// "body", "encodedBody"} answers with that; anything else 200 with an empty body.
Response reflect(std::string_view method, std::string_view target, std::string_view body);

// ModSecurity-style error-log line for one match:
//   ModSecurity: Warning. Matched "DATA" at VAR. [id "..."] [msg "..."] [data "..."] [severity "..."] [tag "..."]...
std::string logLine(const waf::MatchedRule& m, std::string_view uri, std::string_view unique_id);

const char* severityName(int s);

}  // namespace rampart::cli::wafrun
