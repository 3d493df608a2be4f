// rampart run | check | version, and --help for each.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <string>

#include "gateway/cli/cli.h"
#include "gateway/config/config.h"
#include "gateway/core/runtime.h"
#include "gateway/core/server.h"
#include "gateway/filters/waf_policy.h"

namespace rampart::cli {

namespace {

constexpr const char* kUsage =
    "usage: rampart <command> [options]\n"
    "\n"
    "commands:\n"
    "  run -c FILE      run the gateway in the foreground (logs to stderr)\n"
    "  check -c FILE    validate FILE and everything it references; exit 1 on errors\n"
    "  version          print the version\n"
    "  waf ...          offline WAF tools (rampart waf --help)\n"
    "\n"
    "signals (run): SIGHUP reloads the configuration (a bad one is refused and the\n"
    "running one stays), SIGTERM/SIGINT drain in-flight requests and exit 0.\n";

constexpr const char* kRunUsage =
    "usage: rampart run -c FILE\n"
    "  Runs the gateway in the foreground with the configuration in FILE\n"
    "  (YAML; see docs/config.md). Logs go to stderr.\n";

constexpr const char* kCheckUsage =
    "usage: rampart check -c FILE [-v]\n"
    "  Validates FILE and everything it references (pools' endpoint names are resolved,\n"
    "  WAF rule sets compiled, TLS certificates and keys loaded) and prints every error as\n"
    "  file:line:column: message. Exit 0 when valid, 1 otherwise. With -v, also prints the\n"
    "  WAF each listener and route gets and the SecLang rampart generates around its files.\n";

bool wantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  return false;
}

// Finds -c FILE / --config FILE / --config=FILE; returns "" and prints why when absent.
std::string configArg(int argc, char** argv, const char* usage, bool* verbose = nullptr) {
  std::string path;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-c" || a == "--config") && i + 1 < argc) path = argv[++i];
    else if (a.rfind("--config=", 0) == 0) path = a.substr(9);
    else if (verbose && (a == "-v" || a == "--verbose")) *verbose = true;
    else {
      fmt::print(stderr, "rampart: unexpected argument '{}'\n{}", a, usage);
      return "";
    }
  }
  if (path.empty()) fmt::print(stderr, "rampart: missing -c FILE\n{}", usage);
  return path;
}

const char* modeName(gateway::config::WafMode m) {
  switch (m) {
    case gateway::config::WafMode::Off: return "off";
    case gateway::config::WafMode::Detect: return "detect";
    case gateway::config::WafMode::Block: return "block";
  }
  return "?";
}

// `check -v`: the WAF per listener and route, and the generated SecLang of each rule set.
void printWaf(const gateway::config::Config& cfg, const gateway::core::Runtime& rt) {
  const auto& w = rt.waf;
  fmt::print("\nWAF: {} distinct compiled rule set(s), {:.0f} ms\n", w.distinct_engines, w.compile_ms);
  for (size_t l = 0; l < cfg.listeners.size(); ++l) {
    const auto& lp = w.listener[l];
    fmt::print("listener '{}': {}\n", cfg.listeners[l].name,
               lp.active() ? fmt::format("{} ({})", w.engine_names[size_t(lp.engine_index)], modeName(lp.mode))
                           : std::string("off"));
    for (size_t r = 0; r < cfg.routes.size(); ++r) {
      const auto& rp = w.forRoute(l, r);
      std::string shadow = rp.shadow ? fmt::format(", shadow {}", w.engine_names[size_t(rp.shadow_index)]) : "";
      fmt::print("  route '{}': {}{}\n", cfg.routes[r].name,
                 rp.active() ? fmt::format("{} ({}{})", w.engine_names[size_t(rp.engine_index)], modeName(rp.mode),
                                           shadow)
                             : std::string("off"),
                 rp.active() && rp.fail_open ? ", on_error open" : "");
    }
  }
  for (const auto& rs : cfg.waf.rule_sets) {
    auto gen = gateway::filters::generateRules(rs, {});
    fmt::print("\n# --- rule set '{}': generated before its files ---\n{}", rs.name, gen.before);
  }
  for (const auto& r : cfg.routes) {
    if (r.waf.exclusions.empty()) continue;
    gateway::config::WafRuleSet empty;
    auto gen = gateway::filters::generateRules(empty, r.waf.exclusions);
    std::string before = gen.before.substr(gen.before.find("SecRule REQUEST_FILENAME") == std::string::npos
                                               ? gen.before.size()
                                               : gen.before.find("SecRule REQUEST_FILENAME"));
    fmt::print("\n# --- route '{}': exclusions (path-prefixed ones before the files, the others after) ---\n{}{}",
               r.name, before, gen.after);
  }
}

}  // namespace

int serverMain(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    fmt::print(argc < 2 ? stderr : stdout, "{}", kUsage);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "version" || cmd == "--version") {
    if (wantsHelp(argc, argv)) {
      fmt::print("usage: rampart version\n  Prints the version and how the binary was built.\n");
      return 0;
    }
    fmt::print("rampart {} ({})\n", RAMPART_VERSION, RAMPART_BUILD);
    return 0;
  }
  if (cmd == "run") {
    if (wantsHelp(argc, argv)) return fmt::print("{}", kRunUsage), 0;
    std::string path = configArg(argc, argv, kRunUsage);
    if (path.empty()) return 2;
    gateway::core::Server server(path);
    return server.run();
  }
  if (cmd == "check") {
    if (wantsHelp(argc, argv)) return fmt::print("{}", kCheckUsage), 0;
    bool verbose = false;
    std::string path = configArg(argc, argv, kCheckUsage, &verbose);
    if (path.empty()) return 2;
    auto loaded = gateway::config::loadFile(path);
    if (!loaded.config) {
      for (auto& e : loaded.errors) fmt::print(stderr, "{}\n", gateway::config::format(e));
      fmt::print(stderr, "{}: {} error(s)\n", path, loaded.errors.size());
      return 1;
    }
    std::vector<std::string> errors;
    auto rt = gateway::core::Runtime::build(loaded.config, nullptr, &errors);
    if (!rt) {
      for (auto& e : errors) fmt::print(stderr, "{}\n", e);
      return 1;
    }
    fmt::print("{}: ok ({} listener(s), {} route(s), {} pool(s))\n", path, loaded.config->listeners.size(),
               loaded.config->routes.size(), loaded.config->pools.size());
    if (verbose) printWaf(*loaded.config, *rt);
    return 0;
  }
  fmt::print(stderr, "rampart: unknown command '{}'\n{}", cmd, kUsage);
  return 2;
}

}  // namespace rampart::cli
