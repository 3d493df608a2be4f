// Transformations (t:...): pure functions from one byte string to another,
// byte-exact with ModSecurity v2.
//
// Contract: a transformation reads `in`; when the result differs from `in` it
// writes the result into `out` (which it clears first) and returns true; when
// the result would equal `in` it returns false and leaves `out` untouched, so
// the caller keeps using `in` without a copy. `out` never aliases `in`.
// No allocation beyond growing `out`; linear in the input size.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace rampart::waf::transformations {

using Fn = bool (*)(std::string_view in, std::string& out);

struct Info {
  std::string_view name;  // ModSecurity's name as written in t:..., e.g. "urlDecodeUni"
  Fn fn;
};

// Looks a transformation up by name, case-insensitively. "none" is not a
// transformation (the engine treats it as "clear the pipeline") and is not found.
const Info* find(std::string_view name);

// Every registered transformation (the explicit registry in registry.cc).
std::span<const Info> all();

}  // namespace rampart::waf::transformations
