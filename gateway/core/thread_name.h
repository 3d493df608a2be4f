// Names the calling thread as top -H, ps -L, perf and gdb show it ("worker-0",
// "log-access", "sink-s3"...). Linux keeps 15 bytes; a longer name is cut.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace rampart::gateway {

inline void nameThisThread(std::string_view name) {
  std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace rampart::gateway
