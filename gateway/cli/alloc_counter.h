// Heap allocations made by the calling thread so far (see alloc_counter.cc).
#pragma once

#include <cstdint>

namespace rampart::cli {
uint64_t threadAllocations();
}  // namespace rampart::cli
