// `rampart waf ...`: the offline WAF tools, dispatched by subcommand.
#include <cstdio>
#include <cstring>

#include "gateway/cli/cli.h"
#include "gateway/cli/waf_commands.h"

namespace rampart::cli {
namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: rampart waf <command> [options]\n"
      "\n"
      "commands:\n"
      "  test     run go-ftw regression tests (e.g. OWASP CRS tests/) against a rule set\n"
      "           --rules FILE_OR_GLOB... --tests DIR [--overrides FILE]\n"
      "           [--expected-failures FILE] [--only RULEID|RULEID-TESTID] [--gateway] [-v]\n"
      "  inspect  replay a JSONL corpus of requests through the WAF (verdicts or --bench)\n"
      "           --rules FILE_OR_GLOB... --corpus FILE.jsonl [--bench] [--paranoia N]\n"
      "           [--passes N] [--label TEXT] [--verdicts FILE] [--profile [N]]\n"
      "  detect   run the detector behind @detectSQLi or @detectXSS on a value: sqli|xss STRING|-\n"
      "  tune     propose the narrowest exclusions for the blocking decisions of an audit log\n"
      "           --audit FILE [--format yaml|seclang] [--min-requests N]\n",
      out);
}

}  // namespace

int wafMain(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "test") == 0) return wafTestMain(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "inspect") == 0) return wafInspectMain(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "detect") == 0) return wafDetectMain(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "tune") == 0) return wafTuneMain(argc - 1, argv + 1);
  std::fprintf(stderr, "rampart waf: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}

}  // namespace rampart::cli
