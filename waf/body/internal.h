// Helpers shared by the body processors (not part of the public API).
//
// Why: every processor appends arguments under the same SecArgumentsLimit
// rule as ModSecurity v2's add_argument(): once `limits.max_args` arguments
// are held, further ones are dropped and the body is flagged as an error
// (REQBODY_ERROR), keeping the first N.
#pragma once

#include <string>
#include <utility>

#include "waf/body/body.h"

namespace rampart::waf::body::detail {

// Appends (name, value) to result.args unless the limit is reached; returns
// false (and sets the error once) when the argument was dropped.
inline bool addArg(Result& result, const Limits& limits, std::string name, std::string value,
                   const char* limit_msg = kArgumentsLimitExceeded) {
  if (result.args.size() >= limits.max_args) {
    if (!result.error) {
      result.error = true;
      result.error_msg = limit_msg;
    }
    return false;
  }
  result.args.push_back(Field{std::move(name), std::move(value)});
  return true;
}

}  // namespace rampart::waf::body::detail
