// libFuzzer target for the SecLang front end: any bytes given to loadString
// must produce a LoadResult (errors are fine), never a crash, hang or leak;
// every rule that loads must print to text that loads again to an equal rule.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rules/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  rampart::rules::ParseOptions opts;
  opts.base_dir = "/nonexistent-rampart-fuzz";  // Include must not reach real files
  auto result = rampart::rules::loadString(text, "<fuzz>", opts);
  for (const auto& d : result.diagnostics) (void)rampart::rules::format(d);
  if (!result.ok()) return 0;
  for (const auto& rule : result.ruleset.rules) {
    std::string printed = rampart::rules::print(rule);
    auto again = rampart::rules::loadString(printed, "<printed>", opts);
    if (!again.ok() || again.ruleset.rules.size() != 1) abort();
    auto a = rule;
    a.default_actions.clear();
    for (auto& c : a.chain) c.default_actions.clear();
    if (!rampart::rules::equalIgnoringLocation(a, again.ruleset.rules[0])) abort();
  }
  return 0;
}
