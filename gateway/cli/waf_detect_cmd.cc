// `rampart waf detect sqli|xss STRING`: runs one of the detectors behind @detectXSS /
// @detectSQLi on a value, as the operator sees it (no transformation applied),
// so that an operator can try an input. Exit status like grep: 0 detected,
// 1 not detected, 2 usage error. STRING "-" reads the value from standard input.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "gateway/cli/waf_commands.h"
#include "waf/detect/sqli.h"
#include "waf/detect/xss.h"

namespace rampart::cli {

int wafDetectMain(int argc, char** argv) {
  auto usage = [](FILE* out) {
    std::fputs(
        "usage: rampart waf detect sqli|xss STRING|-\n"
        "  prints whether the detector behind @detectSQLi / @detectXSS flags the value (as the operator sees it,\n"
        "  after the rule's transformations); '-' reads the value from standard input.\n"
        "  exit status: 0 detected, 1 not detected, 2 usage error\n",
        out);
  };
  if (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc != 3) {
    usage(stderr);
    return 2;
  }
  std::string kind = argv[1];
  std::string value = argv[2];
  if (value == "-") value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  if (kind == "sqli") {
    std::string fp;
    bool hit = waf::detect::detectSqli(value, &fp);
    if (hit) std::printf("sqli: detected (fingerprint %s)\n", fp.c_str());
    else std::printf("sqli: not detected\n");
    return hit ? 0 : 1;
  }
  if (kind == "xss") {
    bool hit = waf::detect::detectXss(value);
    std::printf("xss: %s\n", hit ? "detected" : "not detected");
    return hit ? 0 : 1;
  }
  std::fprintf(stderr, "rampart waf detect: unknown detector '%s' (sqli or xss)\n", kind.c_str());
  usage(stderr);
  return 2;
}

}  // namespace rampart::cli
