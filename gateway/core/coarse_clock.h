// The monotonic clock as of its last tick (CLOCK_MONOTONIC_COARSE): the same
// clock as std::chrono::steady_clock (CLOCK_MONOTONIC on Linux), at most one
// tick (1-4 ms) behind it, read from the vDSO's page without reading the
// time-stamp counter (a few nanoseconds against ~25 on a virtual machine).
// For deadlines and idle ages counted in tens of milliseconds or more (a
// connection's timeouts, swept every 100 ms; an upstream connection's idle
// time), not for latencies.
#pragma once

#include <time.h>

#include <chrono>

namespace rampart::gateway::core {

inline std::chrono::steady_clock::time_point coarseNow() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                      std::chrono::nanoseconds(ts.tv_nsec)));
}

}  // namespace rampart::gateway::core
