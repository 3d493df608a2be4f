// Placeholder until the server lands: replaced by the gateway core.
#include <cstdio>

#include "gateway/cli/cli.h"

namespace rampart::cli {
int serverMain(int argc, char** argv) {
  std::puts("rampart " RAMPART_VERSION);
  return 0;
}
}  // namespace rampart::cli
