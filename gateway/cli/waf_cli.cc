// Placeholder until the WAF tools land.
#include <cstdio>

#include "gateway/cli/cli.h"

namespace rampart::cli {
int wafMain(int argc, char** argv) {
  std::fputs("rampart waf: not built yet\n", stderr);
  return 2;
}
}  // namespace rampart::cli
