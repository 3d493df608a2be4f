// Counts heap allocations for `rampart waf inspect --bench` ("allocations per
// request" is one of the hot-path figures, see DESIGN.md). Replaces the global
// operator new of the binary that links the CLI: the cost is one thread-local
// increment per allocation, and the counter is only read by the benchmark.
#include "gateway/cli/alloc_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local uint64_t t_allocations = 0;

void* countedAlloc(std::size_t n) {
  ++t_allocations;
  if (n == 0) n = 1;
  return std::malloc(n);
}
}  // namespace

namespace rampart::cli {
uint64_t threadAllocations() { return t_allocations; }
}  // namespace rampart::cli

void* operator new(std::size_t n) {
  if (void* p = countedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = countedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return countedAlloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return countedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
