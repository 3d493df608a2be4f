// Entry points of the rampart subcommands; gateway/main.cc dispatches to them.
// Each takes the arguments after its own name (argv[0] is the subcommand) and
// returns the process exit code.
#pragma once

namespace rampart::cli {

// rampart run|check|version ... : the server (gateway/server_cli.cc)
int serverMain(int argc, char** argv);

// rampart waf test|inspect|detect ... : offline WAF tools (gateway/cli/waf_cli.cc)
int wafMain(int argc, char** argv);

}  // namespace rampart::cli
