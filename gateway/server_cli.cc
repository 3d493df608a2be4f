// rampart run | check | version, and --help for each.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <string>

#include "gateway/cli/cli.h"
#include "gateway/config/config.h"
#include "gateway/core/runtime.h"
#include "gateway/core/server.h"

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
    "usage: rampart check -c FILE\n"
    "  Validates FILE and everything it references (pools' endpoint names are resolved)\n"
    "  and prints every error as file:line:column: message. Exit 0 when valid, 1 otherwise.\n";

bool wantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  return false;
}

// Finds -c FILE / --config FILE / --config=FILE; returns "" and prints why when absent.
std::string configArg(int argc, char** argv, const char* usage) {
  std::string path;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-c" || a == "--config") && i + 1 < argc) path = argv[++i];
    else if (a.rfind("--config=", 0) == 0) path = a.substr(9);
    else {
      fmt::print(stderr, "rampart: unexpected argument '{}'\n{}", a, usage);
      return "";
    }
  }
  if (path.empty()) fmt::print(stderr, "rampart: missing -c FILE\n{}", usage);
  return path;
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
      fmt::print("usage: rampart version\n  Prints the version.\n");
      return 0;
    }
    fmt::print("rampart {}\n", RAMPART_VERSION);
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
    std::string path = configArg(argc, argv, kCheckUsage);
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
    return 0;
  }
  fmt::print(stderr, "rampart: unknown command '{}'\n{}", cmd, kUsage);
  return 2;
}

}  // namespace rampart::cli
