// rampart: one binary. `rampart waf ...` runs the offline WAF tools; every
// other command (run, check, version, --help) belongs to the server.
#include <cstring>

#include "gateway/cli/cli.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "waf") == 0) return rampart::cli::wafMain(argc - 1, argv + 1);
  return rampart::cli::serverMain(argc, argv);
}
