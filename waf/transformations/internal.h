// Shared pieces of the transformation implementations: the function list the
// registry points at, byte classes as ModSecurity v2 sees them (C locale), and
// LazyOut, the writer that keeps the "unchanged input is never copied" promise.
//
// Why LazyOut: most transformations emit their output left to right. LazyOut
// compares every emitted byte with the input at the same position and writes
// nothing while they agree; at the first difference it copies the agreed prefix
// into `out` once and appends from then on. So a value that comes out equal to
// its input costs one compare per byte and leaves `out` untouched, whatever the
// transformation's rules are, without a second hand-written "would it change?"
// scan that could drift from the real one.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace rampart::waf::transformations {

// One function per transformation (files named after them in snake_case).
bool base64Decode(std::string_view in, std::string& out);
bool base64DecodeExt(std::string_view in, std::string& out);
bool base64Encode(std::string_view in, std::string& out);
bool cmdLine(std::string_view in, std::string& out);
// cmdLine without its lower-casing: cmdLine(x) == lowercase(cmdLineKeepCase(x)).
bool cmdLineKeepCase(std::string_view in, std::string& out);
bool compressWhitespace(std::string_view in, std::string& out);
bool cssDecode(std::string_view in, std::string& out);
bool escapeSeqDecode(std::string_view in, std::string& out);
bool hexDecode(std::string_view in, std::string& out);
bool hexEncode(std::string_view in, std::string& out);
bool htmlEntityDecode(std::string_view in, std::string& out);
bool jsDecode(std::string_view in, std::string& out);
bool length(std::string_view in, std::string& out);
bool lowercase(std::string_view in, std::string& out);
bool md5(std::string_view in, std::string& out);
bool normalizePath(std::string_view in, std::string& out);
bool normalizePathWin(std::string_view in, std::string& out);
bool parityEven7bit(std::string_view in, std::string& out);
bool parityOdd7bit(std::string_view in, std::string& out);
bool parityZero7bit(std::string_view in, std::string& out);
bool removeComments(std::string_view in, std::string& out);
bool removeCommentsChar(std::string_view in, std::string& out);
bool removeNulls(std::string_view in, std::string& out);
bool removeWhitespace(std::string_view in, std::string& out);
bool replaceComments(std::string_view in, std::string& out);
bool replaceNulls(std::string_view in, std::string& out);
bool sha1(std::string_view in, std::string& out);
bool sqlHexDecode(std::string_view in, std::string& out);
bool trim(std::string_view in, std::string& out);
bool trimLeft(std::string_view in, std::string& out);
bool trimRight(std::string_view in, std::string& out);
bool uppercase(std::string_view in, std::string& out);
bool urlDecode(std::string_view in, std::string& out);
// The same, also setting *invalid when a '%' does not start an escape (the
// URLENCODED body processor's URLENCODED_ERROR).
bool urlDecode(std::string_view in, std::string& out, bool* invalid);
// The same into out, which has room for in.size() bytes (decoding never
// lengthens): the decoded length, or npos when nothing changes (out untouched).
std::size_t urlDecodeInto(std::string_view in, char* out, bool* invalid);
bool urlDecodeUni(std::string_view in, std::string& out);
bool urlEncode(std::string_view in, std::string& out);
bool utf8toUnicode(std::string_view in, std::string& out);

namespace detail {

inline unsigned char u8(char c) { return static_cast<unsigned char>(c); }

// isspace() in the C locale: space, \t \n \v \f \r.
inline bool isSpace(char c) {
  const unsigned char x = u8(c);
  return x == ' ' || (x >= '\t' && x <= '\r');
}
// ModSecurity's whitespace for removeWhitespace/compressWhitespace: isspace or
// NBSP (0xa0).
inline bool isSpaceOrNbsp(char c) { return isSpace(c) || u8(c) == 0xa0; }

inline bool isHex(char c) {
  const unsigned char x = u8(c);
  return (x >= '0' && x <= '9') || ((x | 0x20) >= 'a' && (x | 0x20) <= 'f');
}
inline bool isOctal(char c) { return c >= '0' && c <= '7'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isAlnum(char c) {
  const unsigned char x = u8(c);
  return isDigit(c) || ((x | 0x20) >= 'a' && (x | 0x20) <= 'z');
}

// ModSecurity's x2c/xsingle2c: hex digit value with no validation, in 8-bit
// arithmetic. For a non-hex byte it yields the same garbage v2 yields (hexDecode
// decodes "zz" to 'S'), which is what byte-exactness asks for.
inline unsigned char xsingle2c(char c) {
  const unsigned char w = u8(c);
  return static_cast<unsigned char>(w >= 'A' ? ((w & 0xdf) - 'A') + 10 : (w - '0'));
}
inline unsigned char x2c(const char* p) {
  return static_cast<unsigned char>(xsingle2c(p[0]) * 16 + xsingle2c(p[1]));
}

inline constexpr char kHexLower[] = "0123456789abcdef";

// A set of bytes for the "find the first byte with something to do" scans.
struct ByteSet {
  std::array<bool, 256> has{};
  constexpr ByteSet(std::string_view chars, bool whitespace = false, bool upper = false) {
    for (const char c : chars) has[static_cast<unsigned char>(c)] = true;
    if (whitespace) {
      for (const unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) has[c] = true;
      has[0xa0] = true;
    }
    if (upper) {
      for (int c = 'A'; c <= 'Z'; ++c) has[static_cast<unsigned char>(c)] = true;
    }
  }
  bool operator()(char c) const { return has[static_cast<unsigned char>(c)]; }
};

// Index of the first byte of in[from..] in `set`, or in.size().
inline std::size_t findFirst(std::string_view in, const ByteSet& set, std::size_t from = 0) {
  const std::size_t n = in.size();
  while (from < n && !set(in[from])) ++from;
  return from;
}

// Index of the first byte c in in[from..], or in.size().
inline std::size_t findByte(std::string_view in, char c, std::size_t from = 0) {
  if (from >= in.size()) return in.size();
  const void* p = std::memchr(in.data() + from, c, in.size() - from);
  return p ? static_cast<std::size_t>(static_cast<const char*>(p) - in.data()) : in.size();
}

// Sixtet value of a base64 character (A-Z a-z 0-9 + /), 64 for anything else.
constexpr std::array<unsigned char, 256> makeBase64Table() {
  std::array<unsigned char, 256> t{};
  for (auto& v : t) v = 64;
  constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (unsigned char k = 0; k < 64; ++k) t[static_cast<unsigned char>(alphabet[k])] = k;
  return t;
}
inline constexpr std::array<unsigned char, 256> kBase64Value = makeBase64Table();

// Emits output left to right; writes into `out` only once the output differs
// from the input (see the file comment). `start` is how many leading input
// bytes are already known to be output unchanged. After the divergence, bytes
// go through a raw pointer into `out` (grown by doubling, trimmed by finish()).
class LazyOut {
 public:
  LazyOut(std::string_view in, std::string& out, std::size_t start = 0)
      : in_(in), out_(out), n_(start) {}

  // The fast paths are inline; growing and diverging are out of line so that
  // put() stays small enough to inline into every decoding loop.
  [[gnu::always_inline]] void put(char c) {
    if (w_ != nullptr && w_ != end_) {
      *w_++ = c;
      return;
    }
    if (w_ == nullptr && n_ < in_.size() && in_[n_] == c) {
      ++n_;
      return;
    }
    putSlow(c);
  }
  [[gnu::always_inline]] void put(unsigned char c) { put(static_cast<char>(c)); }
  // Appends in[from, from+len): the common "copy the raw bytes" case.
  void copy(std::size_t from, std::size_t len) {
    if (w_ == nullptr) {
      if (from == n_) {  // still in lockstep with the input
        n_ += len;
        return;
      }
      for (std::size_t k = 0; k < len; ++k) {
        put(in_[from + k]);
        if (w_ != nullptr) {
          copy(from + k + 1, len - k - 1);
          return;
        }
      }
      return;
    }
    if (static_cast<std::size_t>(end_ - w_) < len) grow(len);
    std::memcpy(w_, in_.data() + from, len);
    w_ += len;
  }
  // Drops the last emitted byte (cmdLine removes a space before '/' or '(').
  void pop() {
    if (w_ != nullptr)
      --w_;
    else
      --n_;
  }
  std::size_t size() const { return w_ != nullptr ? static_cast<std::size_t>(w_ - out_.data()) : n_; }
  // Output ends here; returns whether it differs from the input.
  bool finish() {
    if (w_ != nullptr) {
      out_.resize(size());
      return true;
    }
    if (n_ == in_.size()) return false;
    out_.assign(in_.data(), n_);
    return true;
  }

 private:
  [[gnu::noinline]] void putSlow(char c) {
    if (w_ == nullptr)
      diverge();
    else
      grow(1);
    *w_++ = c;
  }
  void diverge() {
    out_.resize(in_.size() + 16);
    std::memcpy(out_.data(), in_.data(), n_);
    w_ = out_.data() + n_;
    end_ = out_.data() + out_.size();
  }
  void grow(std::size_t need) {
    const std::size_t used = size();
    out_.resize(std::max(out_.size() * 2, used + need + 16));
    w_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string_view in_;
  std::string& out_;
  std::size_t n_;           // output length while still equal to the input
  char* w_ = nullptr;       // write position once diverged
  char* end_ = nullptr;
};

// Parity of all eight bits of x (the parity transformations).
inline bool oddBits(unsigned char x) {
  x ^= static_cast<unsigned char>(x >> 4);
  return (0x6996 >> (x & 0xf)) & 1;
}

// Applies a byte-to-byte map; writes only from the first byte it changes.
template <typename F>
bool mapBytes(std::string_view in, std::string& out, F f) {
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n && f(u8(in[i])) == u8(in[i])) ++i;
  if (i == n) return false;
  out.assign(in.data(), n);
  for (; i < n; ++i) out[i] = static_cast<char>(f(u8(out[i])));
  return true;
}

// md5 / sha1 (digest.cc): out = raw digest of in.
enum class Digest { kMd5, kSha1 };
bool digest(Digest which, std::string_view in, std::string& out);

// normalizePath / normalizePathWin (normalize_path.cc).
bool normalizePathImpl(std::string_view in, std::string& out, bool win);

// Sets out = s and returns true unless s equals in (then out is untouched).
inline bool assignIfDifferent(std::string_view in, std::string_view s, std::string& out) {
  if (s == in) return false;
  out.assign(s.data(), s.size());
  return true;
}

}  // namespace detail
}  // namespace rampart::waf::transformations
