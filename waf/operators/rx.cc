// @rx PATTERN: matches when the regular expression finds a match anywhere in
// the value (ModSecurity v2 flags: DOTALL, DOLLAR_ENDONLY, byte semantics).
// With `capture`, the whole match and up to 9 groups become TX:0..TX:9.
//   SecRule ARGS "@rx (?i)union\s+select" "id:1,capture,..."
// A pattern holding macros (%{tx.re}) is compiled per distinct expanded value,
// with a small bounded cache shared by the Engine's workers.
#include <map>
#include <mutex>

#include "waf/match/regex.h"
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

class Rx final : public Operator {
 public:
  Rx(std::unique_ptr<match::Regex> re, std::string raw, match::RegexOptions opts)
      : re_(std::move(re)), raw_(std::move(raw)), opts_(opts) {}

  const match::Regex* regex() const override { return re_.get(); }

  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    const match::Regex* re = re_.get();
    if (!re) re = dynamic(ctx);
    if (!re) return false;
    if (!ctx.capture) return re->matches(input);
    std::string_view caps[10];
    int n = re->match(input, caps, 10);
    if (n <= 0) return false;
    for (int i = 0; i < n; ++i) ctx.caps[i] = caps[i];
    ctx.ncaps = n;
    return true;
  }

 private:
  const match::Regex* dynamic(EvalContext& ctx) const {
    if (!ctx.macros) return nullptr;
    std::string pattern = ctx.macros->expand(raw_);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(pattern);
    if (it != cache_.end()) return it->second.get();
    std::string err;
    auto re = match::Regex::compile(pattern, opts_, &err);
    if (cache_.size() >= kMaxCached) {
      // Full: entries may be in use by other workers, so none is evicted; the
      // overflow is compiled for this call only and kept per thread.
      thread_local std::unique_ptr<match::Regex> overflow;
      overflow = std::move(re);
      return overflow.get();
    }
    auto* p = re.get();
    cache_.emplace(pattern, std::move(re));
    return p;
  }

  std::unique_ptr<match::Regex> re_;
  std::string raw_;
  match::RegexOptions opts_;
  mutable std::mutex mu_;
  static constexpr size_t kMaxCached = 256;
  mutable std::map<std::string, std::unique_ptr<match::Regex>> cache_;
};

}  // namespace

std::unique_ptr<Operator> makeRx(const std::string& arg, const CompileContext& cc, std::string* error) {
  match::RegexOptions opts;
  opts.match_limit = cc.pcre_match_limit;
  opts.depth_limit = cc.pcre_depth_limit;
  if (hasMacro(arg)) return std::make_unique<Rx>(nullptr, arg, opts);
  auto re = match::Regex::compile(arg, opts, error);
  if (!re) return nullptr;
  return std::make_unique<Rx>(std::move(re), arg, opts);
}

}  // namespace rampart::waf::operators
