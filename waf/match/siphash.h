// SipHash (Aumasson and Bernstein) with 128-bit output, C compression and D
// finalization rounds: SipHash-2-4 is the reference's, SipHash-1-3 the
// faster variant hash tables use. The two 64-bit halves are returned as the
// reference writes them (first, then second, each little endian).
//
//   auto [a, b] = sipHash128<1, 3>(k0, k1, data, size);
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace rampart::waf::match {

namespace siphash_detail {

inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

inline uint64_t load64le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct State {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
};

}  // namespace siphash_detail

template <int C, int D>
std::pair<uint64_t, uint64_t> sipHash128(uint64_t k0, uint64_t k1, const void* data, size_t size) {
  using siphash_detail::load64le;
  siphash_detail::State s{0x736f6d6570736575ull ^ k0, 0x646f72616e646f6dull ^ k1, 0x6c7967656e657261ull ^ k0,
                          0x7465646279746573ull ^ k1};
  s.v1 ^= 0xee;
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* end = p + (size & ~size_t(7));
  for (; p != end; p += 8) {
    uint64_t m;
    if constexpr (std::endian::native == std::endian::little) std::memcpy(&m, p, 8);
    else m = load64le(p);
    s.v3 ^= m;
    for (int i = 0; i < C; ++i) s.round();
    s.v0 ^= m;
  }
  uint64_t b = uint64_t(size) << 56;
  for (size_t i = 0, left = size & 7; i < left; ++i) b |= uint64_t(p[i]) << (8 * i);
  s.v3 ^= b;
  for (int i = 0; i < C; ++i) s.round();
  s.v0 ^= b;
  s.v2 ^= 0xee;
  for (int i = 0; i < D; ++i) s.round();
  const uint64_t first = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
  s.v1 ^= 0xdd;
  for (int i = 0; i < D; ++i) s.round();
  return {first, s.v0 ^ s.v1 ^ s.v2 ^ s.v3};
}

}  // namespace rampart::waf::match
