// crs_runner: `rampart waf ...` without the server, for engine work.
//
//   crs_runner test --rules ../shared/crs/crs-setup.conf.example '../shared/crs/rules/*.conf'
//                   --tests ../shared/crs/tests [--only 942101] [-v]
//
// Links only rampart_cli (engine, rule loader, HTTP parser), so the WAF can be
// tested while the rest of the gateway is being built. A first argument "waf"
// is accepted too, so that command lines can be pasted from `rampart waf ...`.
#include <cstring>

#include "gateway/cli/cli.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "waf") == 0) return rampart::cli::wafMain(argc - 1, argv + 1);
  // wafMain expects argv[0] to be "waf"
  argv[0] = const_cast<char*>("waf");
  return rampart::cli::wafMain(argc, argv);
}
