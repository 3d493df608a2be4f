// libFuzzer target: URLENCODED body processor. The first byte picks the
// argument separator and a small argument limit; the rest is the body.
// Checks: no crash / UB, the limit is honoured, values never grow; the
// engine's parse (parseUrlEncodedViews, its storage reused from input to
// input as a Workspace's is) gives the same arguments, each viewing the body
// or the storage.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waf/body/body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace rampart::waf::body;
  Limits limits;
  limits.max_args = 1 + (data[0] & 0x3f);
  const char separator = (data[0] & 0x40) ? ';' : '&';
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  Result r = parseUrlEncoded(body, limits, separator);
  if (r.args.size() > limits.max_args) abort();
  size_t total = 0;
  for (const auto& f : r.args) total += f.name.size() + f.value.size();
  if (total > body.size()) abort();  // decoding only shrinks
  static std::string storage;
  static std::vector<std::pair<std::string_view, std::string_view>> views;
  bool invalid = false;
  parseUrlEncodedViews(body, separator, storage, views, &invalid);
  if (invalid != r.urlencoded_error) abort();
  if (views.size() < r.args.size()) abort();
  auto inside = [&](std::string_view v) {
    auto in = [&](std::string_view whole) {
      return v.empty() || (v.data() >= whole.data() && v.data() + v.size() <= whole.data() + whole.size());
    };
    return in(body) || in(storage);
  };
  for (size_t i = 0; i < views.size(); ++i) {
    if (!inside(views[i].first) || !inside(views[i].second)) abort();
    if (i < r.args.size() && (views[i].first != r.args[i].name || views[i].second != r.args[i].value)) abort();
  }
  return 0;
}
