// Where a configuration value came from: every config error names it.
#pragma once

#include <string>

namespace rampart::gateway::config {

struct Location {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

}  // namespace rampart::gateway::config
