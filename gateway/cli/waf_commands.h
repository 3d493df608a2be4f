// The `rampart waf` subcommands, each taking the arguments after its name
// (argv[0] is the subcommand: "test", "inspect").
#pragma once

namespace rampart::cli {

// rampart waf test --rules FILE_OR_GLOB... --tests DIR [--overrides FILE]
//                  [--expected-failures FILE] [--only RULEID|RULEID-TESTID] [-v]
int wafTestMain(int argc, char** argv);

// rampart waf inspect --rules FILE_OR_GLOB... --corpus FILE.jsonl [--bench] [--paranoia N]
int wafInspectMain(int argc, char** argv);

// rampart waf detect sqli|xss STRING
int wafDetectMain(int argc, char** argv);

// rampart waf tune --audit FILE
int wafTuneMain(int argc, char** argv);

}  // namespace rampart::cli
