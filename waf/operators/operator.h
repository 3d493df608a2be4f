// Operators (@rx, @pm, @eq, ...): the test a rule applies to each
// (transformed) target value. Each SecLang operator lives in its own file,
// named after it (rx.cc, pm_from_file.cc, validate_byte_range.cc), and is
// listed in the explicit registry in registry.cc.
//
// An Operator is compiled once per Engine (regexes, literal automata, data
// files) and is then immutable and shared by every worker. Per-request state
// (macro values, captures) goes through EvalContext.
#pragma once

#include <string.h>  // memmem (GNU)

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::waf::match {
class Regex;
}

namespace rampart::waf::operators {

// Expands %{...} macros against the running transaction.
class MacroExpander {
 public:
  virtual ~MacroExpander() = default;
  virtual std::string expand(std::string_view text) = 0;
  // The value of TX:`key` (lower case) without a copy, valid until the transaction
  // changes TX; false when TX has no such variable (the macro expands to nothing).
  virtual bool txView(std::string_view key, std::string_view* out) = 0;
};

struct EvalContext {
  MacroExpander* macros = nullptr;
  bool capture = false;        // the rule has the `capture` action
  std::string_view caps[10];   // filled when capture is on and the operator captures
  int ncaps = 0;               // -1: the operator captures nothing; n: caps[0..n) are TX:0..n-1
  std::string cap_storage;     // owns a captured value that is not a view into the input
};

class Operator {
 public:
  virtual ~Operator() = default;
  // True when the operator matches `input` (before negation).
  virtual bool evaluate(EvalContext& ctx, std::string_view input) const = 0;
  // The compiled regular expression of @rx with a fixed pattern (else null):
  // the engine's Hyperscan prefilter needs to know which engine confirms it.
  virtual const match::Regex* regex() const { return nullptr; }
  // The phrases of @pm / @pmFromFile (else null), for the same prefilter.
  virtual const std::vector<std::string>* phrases() const { return nullptr; }
};

struct CompileContext {
  std::string rule_dir;  // data files (@pmFromFile, @ipMatchFromFile) are relative to it
  uint64_t pcre_match_limit = 1000;
  uint64_t pcre_depth_limit = 1000;
};

// Builds the operator `name` (lower case, without '@') with its raw argument.
// Returns null and sets *error for an unknown or unsupported operator or an
// invalid argument.
std::unique_ptr<Operator> create(std::string_view name, const std::string& argument, const CompileContext& cc,
                                 std::string* error);

// True when `name` is an operator this engine knows (supported or not).
bool known(std::string_view name);

// ---- helpers shared by operator files ----

bool hasMacro(std::string_view s);

// Walks a text with %{...} macros as v2 expands them: on_literal(bytes) for
// what lies between macros, on_macro(collection, key) for each
// %{COLLECTION.KEY} (key empty for %{NAME}); a "%{" without a "}" is literal
// to the end.
template <class OnLiteral, class OnMacro>
void splitMacros(std::string_view text, OnLiteral&& on_literal, OnMacro&& on_macro) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t p = text.find("%{", i);
    const size_t e = p == std::string_view::npos ? p : text.find('}', p + 2);
    if (e == std::string_view::npos) {
      on_literal(text.substr(i));
      return;
    }
    if (p > i) on_literal(text.substr(i, p - i));
    const std::string_view name = text.substr(p + 2, e - p - 2);
    i = e + 1;
    const size_t dot = name.find('.');
    on_macro(name.substr(0, dot), dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1));
  }
}
// %{tx.KEY}: the collection named TX, in any case.
inline bool isTxCollection(std::string_view coll) {
  return coll.size() == 2 && (coll[0] | 0x20) == 't' && (coll[1] | 0x20) == 'x';
}

// An operator argument that may contain macros: expanded per evaluation only
// when it does.
class MacroArg {
 public:
  explicit MacroArg(std::string raw) : raw_(std::move(raw)), has_macro_(operators::hasMacro(raw_)) {
    // The whole argument one %{tx.name} (most CRS arguments: %{tx.allowed_methods}...):
    // read as a view of the TX value, no expansion or copy per evaluation.
    if (has_macro_ && raw_.size() > 6 && raw_.compare(0, 5, "%{tx.") == 0 && raw_.back() == '}' &&
        raw_.find_first_of("%{}", 2) == raw_.size() - 1) {
      tx_key_ = raw_.substr(5, raw_.size() - 6);
      for (auto& c : tx_key_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  // The expanded value (a view of raw_, of a TX value, or of buf).
  std::string_view get(EvalContext& ctx, std::string& buf) const {
    if (!has_macro_ || !ctx.macros) return raw_;
    if (!tx_key_.empty()) {
      std::string_view v;
      return ctx.macros->txView(tx_key_, &v) ? v : std::string_view();
    }
    buf = ctx.macros->expand(raw_);
    return buf;
  }
  const std::string& raw() const { return raw_; }
  bool dynamic() const { return has_macro_; }

 private:
  std::string raw_;
  bool has_macro_;
  std::string tx_key_;  // set when raw_ is exactly %{tx.KEY}
};

// Where `needle` first occurs in `hay` (npos when it does not; 0 for an empty
// needle). Short lists (920450's @within of "/name/" per header name) are
// searched by the needle's second byte, whose occurrences are fewer than the
// first's '/' and cost less than memmem's set-up; anything longer goes to
// glibc's memmem (linear: an attacker's value may be either side).
inline size_t findBytes(std::string_view hay, std::string_view needle) {
  const size_t n = needle.size();
  if (n == 0) return 0;
  if (hay.size() < n) return std::string_view::npos;  // (an empty view may have no data pointer)
  if (n >= 2 && hay.size() <= 512 && n <= 32) {
    const char* h = hay.data();
    const size_t last = hay.size() - n;  // the last possible start
    for (size_t p = 0; p <= last;) {
      const void* q = std::memchr(h + p + 1, needle[1], last - p + 1);
      if (!q) return std::string_view::npos;
      const size_t at = static_cast<size_t>(static_cast<const char*>(q) - h) - 1;
      if (h[at] == needle[0] && std::memcmp(h + at + 2, needle.data() + 2, n - 2) == 0) return at;
      p = at + 1;
    }
    return std::string_view::npos;
  }
  const void* p = ::memmem(hay.data(), hay.size(), needle.data(), n);
  return p ? static_cast<size_t>(static_cast<const char*>(p) - hay.data()) : std::string_view::npos;
}

// C atoi(): leading spaces, sign, digits; 0 when none.
int64_t atoiLike(std::string_view s);

// The number argument of @lt @le @gt @ge @eq: read once when it holds no
// macro (CRS's paranoia-level checks, "@lt 2"), else at each evaluation.
class NumberArg {
 public:
  explicit NumberArg(std::string raw) : arg_(std::move(raw)), fixed_(atoiLike(arg_.raw())) {}
  int64_t get(EvalContext& ctx) const {
    if (!arg_.dynamic()) return fixed_;
    std::string buf;
    return atoiLike(arg_.get(ctx, buf));
  }

 private:
  MacroArg arg_;
  int64_t fixed_;
};

// Reads a data file (relative paths against cc.rule_dir), one entry per line,
// without empty lines and '#' comments; false and *error when unreadable.
bool readDataFile(const std::string& path, const CompileContext& cc, std::vector<std::string>* lines,
                  std::string* error);

using Factory = std::unique_ptr<Operator> (*)(const std::string& argument, const CompileContext& cc,
                                              std::string* error);

}  // namespace rampart::waf::operators
