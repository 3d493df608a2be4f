// Shared plumbing of the offline WAF tools (see waf_runner.h).
#include "gateway/cli/waf_runner.h"

#include <fmt/format.h>

#include "rules/parser.h"
#include "waf/base_rules.h"

namespace rampart::cli::wafrun {
namespace {

constexpr const char* kBodyLimits = R"(SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
)";

}  // namespace

LoadedRules loadRules(const std::string& prefix, const std::vector<std::string>& files_or_globs) {
  LoadedRules out;
  std::vector<rules::Source> sources;
  if (!prefix.empty()) {
    rules::Source s;
    s.kind = rules::Source::Kind::Text;
    s.path_or_name = "<rampart settings>";
    s.text = prefix;
    sources.push_back(std::move(s));
  }
  for (const auto& f : files_or_globs) {
    rules::Source s;
    s.kind = rules::Source::Kind::File;
    s.path_or_name = f;
    sources.push_back(std::move(s));
  }
  auto t0 = std::chrono::steady_clock::now();
  rules::LoadResult loaded = rules::loadSources(sources, {});
  auto t1 = std::chrono::steady_clock::now();
  out.load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  for (const auto& d : loaded.diagnostics) {
    (d.severity == rules::Diagnostic::Severity::Error ? out.errors : out.warnings).push_back(rules::format(d));
  }
  if (!loaded.ok()) return out;
  auto compiled = waf::Engine::compile(loaded.ruleset);
  auto t2 = std::chrono::steady_clock::now();
  out.compile_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  for (const auto& d : compiled.errors) out.errors.push_back(rules::format(d));
  if (compiled.ok()) out.engine = compiled.engine;
  return out;
}

std::string crsTestSettings() {
  std::string s = "# CRS regression-test engine settings (CRS tests/docker-compose)\n";
  s += "SecRuleEngine DetectionOnly\n";
  s += kBodyLimits;
  s += "SecResponseBodyAccess On\n";
  s += "SecResponseBodyMimeType text/plain text/html text/xml application/json\n";
  s += "SecResponseBodyLimit 1048576\n";
  s += "SecResponseBodyLimitAction ProcessPartial\n";
  s += waf::bodyProcessorRules();
  s += R"(SecAction "id:10001,phase:1,pass,nolog,t:none,)"
       R"(setvar:tx.blocking_paranoia_level=4,setvar:tx.detection_paranoia_level=4,)"
       R"(setvar:tx.arg_length=400,setvar:tx.total_arg_length=6400,)"
       R"(setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535")"
       "\n";
  return s;
}

std::string inspectSettings(int paranoia) {
  std::string s = "# rampart waf inspect engine settings\n";
  s += "SecRuleEngine On\n";
  s += kBodyLimits;
  s += "SecResponseBodyAccess Off\n";
  s += waf::bodyProcessorRules();
  if (paranoia > 0) {
    s += fmt::format(
        "SecAction \"id:10001,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level={0},"
        "setvar:tx.detection_paranoia_level={0}\"\n",
        paranoia);
  }
  return s;
}

}  // namespace rampart::cli::wafrun
