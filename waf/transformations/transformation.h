// Transformations (t:...): pure functions from one byte string to another,
// byte-exact with ModSecurity v2.
//
// Contract: a transformation reads `in`; when the result differs from `in` it
// writes the result into `out` (which it clears first) and returns true; when
// the result would equal `in` it returns false and leaves `out` untouched, so
// the caller keeps using `in` without a copy. `out` never aliases `in`.
// No allocation beyond growing `out`; linear in the input size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::waf::transformations {

using Fn = bool (*)(std::string_view in, std::string& out);

// Byte classes of a value (classify()). A transformation changes a value only
// when the value holds one of its trigger classes (urlDecodeUni: '%' or '+';
// lowercase: A-Z): a pipeline none of whose triggers a value holds leaves it
// as it is, so the engine skips it without running or caching anything.
// kAny is in every value's classes: a transformation whose triggers hold it
// (md5, length...) is never skipped.
namespace cls {
inline constexpr uint32_t kUpper = 1u << 0;          // A-Z
inline constexpr uint32_t kPercentPlus = 1u << 1;    // % +
inline constexpr uint32_t kAmp = 1u << 2;            // &
inline constexpr uint32_t kBackslash = 1u << 3;      // \ (backslash)
inline constexpr uint32_t kNul = 1u << 4;            // NUL
inline constexpr uint32_t kSpace = 1u << 5;          // ' '
inline constexpr uint32_t kOtherSpace = 1u << 6;     // \t \n \v \f \r
inline constexpr uint32_t kHigh = 1u << 7;           // bytes >= 0x80 (NBSP among them)
inline constexpr uint32_t kShell = 1u << 8;          // " ' ^ , ; (   (cmdLine's other triggers)
inline constexpr uint32_t kSlash = 1u << 9;          // /
inline constexpr uint32_t kDot = 1u << 10;           // .
inline constexpr uint32_t kCommentStart = 1u << 11;  // * < - #
inline constexpr uint32_t kAny = 1u << 31;
}  // namespace cls

// The classes of the bytes of `v`, kAny included.
uint32_t classify(std::string_view v);

struct Info {
  std::string_view name;  // ModSecurity's name as written in t:..., e.g. "urlDecodeUni"
  Fn fn;
  // The classes a value must hold for fn to change it (cls::kAny: any value).
  // Tested for each registered transformation (transformations_test.cc).
  uint32_t triggers = cls::kAny;
  // Values equal but for the case of ASCII letters give results equal but for
  // it (f(x) ~ f(y) when x ~ y). Tested for each transformation that says so.
  bool case_congruent = false;
  // One pass over a short value costs less than the engine's transform-cache
  // lookup and store (Transaction::Impl::transformStable runs it instead).
  bool cheap = false;
};

// Looks a transformation up by name, case-insensitively. "none" is not a
// transformation (the engine treats it as "clear the pipeline") and is not found.
const Info* find(std::string_view name);

// Every registered transformation (the explicit registry in registry.cc).
std::span<const Info> all();

// cmdLine without its lower-casing (not a SecLang name; for withoutLowercasing).
const Info& cmdLineKeepCaseInfo();

// A pipeline that lower-cases (lowercase, cmdLine) with every later step case
// congruent, without the lower-casing: its result equals the pipeline's but
// for the case of ASCII letters (and has one stage fewer per lowercase), so a
// pattern the pipeline's result matches, matched caselessly, matches it. The
// phase scan uses it so that upper case alone does not make a value take the
// pipeline. False (out untouched) when the pipeline does not lower-case or a
// step after it is not case congruent (jsDecode's \u is not its \U).
bool withoutLowercasing(std::span<const Info* const> tfns, std::vector<const Info*>& out);

}  // namespace rampart::waf::transformations
