// t:normalizePath (alias normalisePath): resolves "." and ".." segments and
// collapses repeated slashes, as ModSecurity v2's normalize_path_inplace.
// - "//" collapses to "/"; "/./" to "/"; "a/../" removes "a/";
// - ".." cannot climb above the root: "/../x" -> "/x"; in a relative path a
//   leading "../" that cannot be resolved is kept ("../../x" stays);
// - a trailing slash is kept only if the input had one ("/a/b/." -> "/a/b").
// Example: "/foo/./bar//../baz" -> "/foo/baz".
// v2's own quirks are kept: a segment ending in ".." counts as a back-reference
// ("/a/b../c" -> "/a/c"), and "/." or "/.." alone give "".
// The algorithm is v2's, step for step (it rewrites the value in place, reading
// back what it wrote), on a buffer that copies nothing while the result still
// equals the input.
#include "waf/transformations/internal.h"

namespace rampart::waf::transformations {

namespace {

// The v2 destination buffer: positions below `high` hold the bytes written so
// far. Until a write differs from the input at its position, the buffer is
// in[0, high) and lives only as that count.
class Buffer {
 public:
  Buffer(std::string_view in, std::string& out) : in_(in), out_(out) {}
  char at(std::size_t k) const { return diverged_ ? out_[k] : in_[k]; }
  void write(std::size_t k, char c) {  // k <= high
    if (!diverged_) {
      if (in_[k] == c) {
        if (k == high_) ++high_;
        return;
      }
      diverged_ = true;
      out_.assign(in_.data(), high_);
    }
    if (k == out_.size())
      out_.push_back(c);
    else
      out_[k] = c;
  }
  bool finish(std::size_t len) {
    if (!diverged_) {
      if (len == in_.size()) return false;
      out_.assign(in_.data(), len);
      return true;
    }
    out_.resize(len);
    return true;  // a rewritten byte never comes back equal (see file comment)
  }

 private:
  std::string_view in_;
  std::string& out_;
  std::size_t high_ = 0;
  bool diverged_ = false;
};

}  // namespace

namespace detail {

bool normalizePathImpl(std::string_view in, std::string& out, bool win) {
  const std::size_t n = in.size();
  if (n == 0) return false;
  // v2 only acts at the end of a segment: without a '.' that ends one, "//",
  // or (Win) a backslash, nothing can change.
  {
    static constexpr detail::ByteSet kPosix("./");
    static constexpr detail::ByteSet kWin("./\\");
    const detail::ByteSet& set = win ? kWin : kPosix;
    bool maybe = false;
    for (std::size_t k = detail::findFirst(in, set); k < n && !maybe;
         k = detail::findFirst(in, set, k + 1)) {
      const char c = in[k];
      const bool nextIsSep = k + 1 == n || in[k + 1] == '/' || (win && in[k + 1] == '\\');
      maybe = c == '\\' || (c == '.' && nextIsSep) || (c == '/' && k + 1 < n && nextIsSep);
    }
    if (!maybe) return false;
  }
  auto S = [&](std::size_t k) -> char {
    const char c = in[k];
    return (win && c == '\\') ? '/' : c;
  };
  Buffer buf(in, out);
  const std::size_t end = n - 1;
  std::size_t src = 0;
  long dst = 0;
  long ldst = 0;
  bool hitroot = false;
  bool done = false;
  const bool relative = S(0) != '/';
  const bool trailing = S(end) == '/';

  while (!done && src <= end && dst <= static_cast<long>(end)) {
    // v2 converts '\\' to '/' in place only at src and src + 1 here, at the
    // start of each step; bytes its slash-run skip jumps over keep their
    // backslash, and the last of them is copied as it is ("/\\\\a" -> "\\a").
    const std::size_t stepStart = src;
    if (src == end) {
      done = true;
    } else if (S(src + 1) != '/') {
      goto copy;
    }
    if (src != end && S(src) == '/') {
      goto copy;
    } else if (S(src) == '.') {
      if (dst > 0 && buf.at(static_cast<std::size_t>(dst - 1)) == '.') {  // back-reference
        if (relative && (hitroot || dst <= 2)) {
          hitroot = true;
          goto copy;
        }
        dst -= 3;
        while (dst > 0 && buf.at(static_cast<std::size_t>(dst)) != '/') --dst;
        if (dst <= 0) {
          hitroot = true;
          dst = 0;
          if (!relative && src == end) ++dst;
        }
        if (done) goto length;
        ++src;
      } else if (dst == 0) {  // relative self-reference
        if (done) goto length;
        ++src;
      } else if (buf.at(static_cast<std::size_t>(dst - 1)) == '/') {  // self-reference
        if (done) goto length;
        --dst;
        ++src;
      }
    } else if (dst > 0) {
      hitroot = false;
    }
  copy:
    if (S(src) == '/') {
      while (src < end && S(src + 1) == '/') ++src;
      if (relative && dst == 0) {
        ++src;
        goto length;
      }
    }
    buf.write(static_cast<std::size_t>(dst), src <= stepStart + 1 ? S(src) : in[src]);
    ++dst;
    ++src;
  length:
    ldst = dst;
  }
  if (!trailing && dst > 0 && buf.at(static_cast<std::size_t>(dst - 1)) == '/') {
    --ldst;
    --dst;
  }
  return buf.finish(static_cast<std::size_t>(ldst));
}

}  // namespace detail

bool normalizePath(std::string_view in, std::string& out) {
  return detail::normalizePathImpl(in, out, false);
}

}  // namespace rampart::waf::transformations
