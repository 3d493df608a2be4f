// JSON body processor (application/json), on simdjson's On-Demand API.
//
// Argument naming, read from ModSecurity's sources (v2 apache2/msc_json.c and
// libmodsecurity v3 src/request_body_processor/json.cc, both yajl callbacks).
// The two differ; CRS's reference engine is v2, so v2 is the default and v3 is
// available with Limits::json_v3_naming.
//
// ModSecurity v2 (default): a string `prefix` and a `current_key`.
//   - scalar -> argument named prefix + "." + key (just key without prefix);
//   - a key sets current_key;
//   - the top-level object adds nothing to the prefix (and no depth);
//   - a nested object: prefix = prefix "." key (or key); at its end the prefix
//     is cut at its last '.', the cut-off part becoming current_key again;
//   - an array: prefix = prefix "." key (or key), the key is NOT replaced, so
//     every element is named after the array's key twice; a top-level array
//     uses "array" as both prefix and key; at its end the prefix is cut at its
//     last '.' (current_key unchanged).
//   Examples:
//     {"a":"x","b":{"c":"y"}}   -> a=x, b.c=y
//     {"a":{"b":[1,2]}}         -> a.b.b=1, a.b.b=2
//     {"a":[{"b":1},5]}         -> a.a.b=1, a.a=5
//     [1,"x"]                   -> array.array=1, array.array=x
//     [[1]]                     -> array.array.array=1
//     "x" (top-level scalar)    -> ""=x
//   Because the prefix is a string cut at '.', keys containing '.' confuse the
//   unwinding exactly as in v2 ({"a.b":[1],"c":2} -> a.b.a.b=1, a.c=2); kept
//   on purpose, rules and exclusions are written against v2's names.
// libmodsecurity v3 (json_v3_naming): a stack of containers; the top-level
//   container is named "json"; an element of an array is "<array>.array_<i>";
//   an empty key inside an object is "empty-key".
//     {"a":{"b":[1,2]}} -> json.a.b.array_0=1, json.a.b.array_1=2
//     [1,{"b":2}]        -> json.array_0=1, json.array_1.b=2
//     "x"                -> json=x
// Both engines:
//   - values: strings unescaped; numbers as their literal text ("1.50e3"
//     stays "1.50e3"); true/false as "true"/"false"; null as "".
//   - empty objects and arrays add nothing.
//   - depth: v2 counts nested objects (not the top-level one) and every
//     array; v3 counts every container. More than limits.json_depth ->
//     error "JSON depth limit exceeded". Nesting beyond 1024 containers is
//     refused the same way whatever json_depth says (the walk is recursive
//     and simdjson On-Demand does not bound depth itself).
//   - more than limits.max_args values: the first ones are kept, parsing stops,
//     error "More than N JSON keys" (v2's message).
//   - not in ModSecurity: argument bytes (names + values) beyond
//     4 MiB + 16 x body size stop parsing with error "JSON argument names and
//     values too large" (names repeat enclosing keys: a long key over a long
//     array would otherwise cost keys x elements bytes).
//   - invalid JSON: error "<reason>" (simdjson's message). Arguments reached
//     before the error point are kept, as yajl's streaming callbacks do in v2;
//     unlike yajl, simdjson validates UTF-8 and string/structure framing over
//     the whole text first, so those errors keep nothing.
//   - error_msg carries no "JSON parser error: " prefix: the engine adds it
//     to REQBODY_ERROR_MSG as v2 does.
//   - an empty body is no error and gives no arguments (v2 checks the length);
//     a body of whitespace only is an error (yajl: premature EOF).
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "waf/body/body.h"
#include "waf/body/internal.h"

namespace rampart::waf::body {
namespace {

namespace od = simdjson::ondemand;

constexpr size_t kParserMaxDepth = 1024;
constexpr size_t kCachedParserMaxBytes = 1u << 20;
// Names repeat every enclosing key, so a long key above a long array makes
// (keys x elements) bytes of names: {"<500 KB key>":[1,1,...]} would give
// SecArgumentsLimit x 500 KB. Argument bytes past this budget stop parsing.
constexpr size_t kOutputBudgetFloor = 4u << 20;
constexpr size_t kOutputBudgetFactor = 16;

// Receives yajl-style events and names the arguments. Returns false to stop.
// One of each per thread (parseJson's): begin() readies it for a body, and
// the strings it builds names in keep their buffers from body to body.
class Namer {
 public:
  virtual ~Namer() = default;
  virtual bool startMap() = 0;
  virtual void mapKey(std::string_view key) = 0;
  virtual void endMap() = 0;
  virtual bool startArray() = 0;
  virtual void endArray() = 0;
  virtual bool scalar(std::string_view value) = 0;

  void begin(Result& result, const Limits& limits, size_t output_budget) {
    result_ = &result;
    limits_ = &limits;
    depth_ = 0;
    depth_exceeded_ = limit_exceeded_ = budget_exceeded_ = false;
    output_bytes_ = 0;
    output_budget_ = output_budget;
    clear();
  }
  bool depthExceeded() const { return depth_exceeded_; }
  bool limitExceeded() const { return limit_exceeded_; }
  bool budgetExceeded() const { return budget_exceeded_; }

 protected:
  virtual void clear() = 0;  // the naming state, for a new body
  bool enter() {
    if (++depth_ > limits_->json_depth) {
      depth_exceeded_ = true;
      return false;
    }
    return true;
  }
  void leave() {
    if (depth_ > 0) --depth_;
  }
  bool add(std::string_view name, std::string_view value) {
    if (result_->args.size() >= limits_->max_args) {
      limit_exceeded_ = true;
      return false;
    }
    output_bytes_ += name.size() + value.size();
    if (output_bytes_ > output_budget_) {
      budget_exceeded_ = true;
      return false;
    }
    result_->args.push_back(Field{result_->take(name), result_->take(value)});
    return true;
  }

  Result* result_ = nullptr;
  const Limits* limits_ = nullptr;
  uint32_t depth_ = 0;
  bool depth_exceeded_ = false;
  bool limit_exceeded_ = false;
  bool budget_exceeded_ = false;
  size_t output_bytes_ = 0;
  size_t output_budget_ = SIZE_MAX;
};

// ModSecurity v2's string prefix / current key machine (see header comment).
// (v2's prefix and key are each a string or none: has_prefix_, has_key_.)
class V2Namer final : public Namer {
 public:
  bool startMap() override {
    if (!has_key_) return true;  // top-level object
    if (has_prefix_) {
      prefix_ += '.';
      prefix_ += key_;
    } else {
      prefix_.assign(key_);
      has_prefix_ = true;
    }
    return enter();
  }
  void mapKey(std::string_view key) override {
    key_.assign(key);
    has_key_ = true;
  }
  void endMap() override {
    if (!has_prefix_) return;
    const size_t dot = prefix_.rfind('.');
    if (dot != std::string::npos) {
      key_.assign(prefix_, dot + 1);
      prefix_.resize(dot);
    } else {
      key_.assign(prefix_);
      prefix_.clear();
      has_prefix_ = false;
    }
    has_key_ = true;
    leave();
  }
  bool startArray() override {
    if (!has_key_ && !has_prefix_) {
      prefix_.assign("array");
      key_.assign("array");
      has_prefix_ = has_key_ = true;
    } else if (has_prefix_) {
      prefix_ += '.';
      if (has_key_) prefix_ += key_;
    } else {
      prefix_.assign(key_);
      has_prefix_ = true;
    }
    return enter();
  }
  void endArray() override {
    if (!has_prefix_) return;
    const size_t dot = prefix_.rfind('.');
    if (dot != std::string::npos) {
      prefix_.resize(dot);
    } else {
      prefix_.clear();
      has_prefix_ = false;
    }
    leave();
  }
  bool scalar(std::string_view value) override {
    if (!has_key_) {
      key_.clear();
      has_key_ = true;
    }
    if (!has_prefix_) return add(key_, value);
    name_.assign(prefix_);
    name_ += '.';
    name_ += key_;
    return add(name_, value);
  }

 private:
  void clear() override {
    prefix_.clear();
    key_.clear();
    has_prefix_ = has_key_ = false;
  }
  std::string prefix_, key_;
  bool has_prefix_ = false, has_key_ = false;
  std::string name_;  // scalar's: prefix "." key
};

// libmodsecurity v3's container stack (see header comment).
class V3Namer final : public Namer {
 public:
  bool startMap() override {
    containers_.push_back(Container{currentKey(), false, 0});
    return enter();
  }
  void mapKey(std::string_view key) override { key_ = std::string(key); }
  void endMap() override { pop(); }
  bool startArray() override {
    containers_.push_back(Container{currentKey(), true, 0});
    return enter();
  }
  void endArray() override { pop(); }
  bool scalar(std::string_view value) override {
    std::string path;
    for (const Container& c : containers_) {
      path += c.name;
      if (c.is_array) {
        path += ".array_";
        path += std::to_string(c.counter);
      } else {
        path += '.';
      }
    }
    if (!containers_.empty() && containers_.back().is_array) {
      containers_.back().counter++;
    } else {
      path += currentKey();
    }
    return add(path, value);
  }

 private:
  void clear() override {
    containers_.clear();
    key_.clear();
  }
  struct Container {
    std::string name;
    bool is_array;
    uint64_t counter;
  };
  std::string currentKey() {
    if (containers_.empty()) return "json";
    if (key_.empty()) return containers_.back().is_array ? "" : "empty-key";
    std::string k = std::move(key_);
    key_.clear();
    return k;
  }
  void pop() {
    if (containers_.empty()) {
      leave();
      return;
    }
    containers_.pop_back();
    if (!containers_.empty() && containers_.back().is_array) containers_.back().counter++;
    leave();
  }

  std::vector<Container> containers_;
  std::string key_;
};

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool isJsonNumber(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto digit = [&](size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
  if (i < n && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == n;
}

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Walker {
  Namer& namer;
  simdjson::error_code error = simdjson::SUCCESS;
  const char* own_error = nullptr;  // our own message (number syntax)
  bool stopped = false;             // a namer callback asked to stop
  size_t depth = 0;                 // containers open (our recursion depth)

  // The On-Demand parser does not enforce its max_depth while iterating, so
  // the recursion is bounded here.
  bool enter() {
    if (++depth > kParserMaxDepth) return fail(simdjson::DEPTH_ERROR);
    return true;
  }

  bool fail(simdjson::error_code e) {
    error = e;
    return false;
  }

  template <typename V>
  bool scalarOrContainer(V& v) {
    od::json_type type;
    if (auto e = v.type().get(type)) return fail(e);
    switch (type) {
      case od::json_type::object: {
        od::object obj;
        if (auto e = v.get_object().get(obj)) return fail(e);
        return walkObject(obj);
      }
      case od::json_type::array: {
        od::array arr;
        if (auto e = v.get_array().get(arr)) return fail(e);
        return walkArray(arr);
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return fail(e);
        return emit(s);
      }
      case od::json_type::number: {
        std::string_view raw = trimRight(v.raw_json_token());
        if (!isJsonNumber(raw)) {
          own_error = "invalid number";
          return false;
        }
        return emit(raw);
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto e = v.get_bool().get(b)) return fail(e);
        return emit(b ? "true" : "false");
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto e = v.is_null().get(is_null)) return fail(e);
        if (!is_null) return fail(simdjson::N_ATOM_ERROR);
        return emit("");
      }
    }
    return fail(simdjson::INCORRECT_TYPE);
  }

  bool emit(std::string_view value) {
    if (!namer.scalar(value)) {
      stopped = true;
      return false;
    }
    return true;
  }

  bool walkObject(od::object& obj) {
    if (!enter()) return false;
    if (!namer.startMap()) {
      stopped = true;
      return false;
    }
    for (auto field : obj) {
      if (auto e = field.error()) return fail(e);
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return fail(e);
      namer.mapKey(key);
      od::value child;
      if (auto e = field.value().get(child)) return fail(e);
      if (!scalarOrContainer(child)) return false;
    }
    namer.endMap();
    --depth;
    return true;
  }

  bool walkArray(od::array& arr) {
    if (!enter()) return false;
    if (!namer.startArray()) {
      stopped = true;
      return false;
    }
    for (auto element : arr) {
      od::value child;
      if (auto e = element.get(child)) return fail(e);
      if (!scalarOrContainer(child)) return false;
    }
    namer.endArray();
    --depth;
    return true;
  }
};

bool onlyWhitespace(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

Result parseJson(std::string_view body, const Limits& limits) {
  Result result;
  parseJson(body, limits, result);
  return result;
}

void parseJson(std::string_view body, const Limits& limits, Result& result) {
  result.reset();
  if (body.empty()) return;
  if (onlyWhitespace(body)) {
    result.error = true;
    result.error_msg = "premature EOF";
    return;
  }

  thread_local V2Namer v2;
  thread_local V3Namer v3;
  Namer& namer = limits.json_v3_naming ? static_cast<Namer&>(v3) : static_cast<Namer&>(v2);
  namer.begin(result, limits, kOutputBudgetFloor + kOutputBudgetFactor * body.size());

  // One parser and one padded copy of the body per thread for ordinary
  // bodies (their buffers are reused: no allocation, no page faults per
  // request); fresh ones for big bodies, so a worker does not keep a huge
  // buffer alive.
  const bool big = body.size() > kCachedParserMaxBytes;
  thread_local od::parser cached_parser;
  thread_local std::string cached_copy;
  od::parser big_parser;
  std::string big_copy;
  od::parser& parser = big ? big_parser : cached_parser;
  std::string& copy = big ? big_copy : cached_copy;
  copy.assign(body);
  copy.resize(body.size() + simdjson::SIMDJSON_PADDING);  // (simdjson reads up to its padding past the end)
  const simdjson::padded_string_view padded(copy.data(), body.size(), copy.size());
  const size_t max_depth = std::min<size_t>(kParserMaxDepth, size_t{limits.json_depth} + 2);
  if (auto e = parser.allocate(std::max(body.size(), parser.capacity()), max_depth)) {
    result.error = true;
    result.error_msg = simdjson::error_message(e);
    return;
  }
  Walker walker{namer};
  od::document doc;
  simdjson::error_code e = parser.iterate(padded).get(doc);
  bool ok = !e;
  if (ok) {
    od::json_type type;
    e = doc.type().get(type);
    ok = !e;
    if (ok) {
      switch (type) {
        case od::json_type::object: {
          od::object obj;
          e = doc.get_object().get(obj);
          ok = !e && walker.walkObject(obj);
          break;
        }
        case od::json_type::array: {
          od::array arr;
          e = doc.get_array().get(arr);
          ok = !e && walker.walkArray(arr);
          break;
        }
        case od::json_type::string: {
          std::string_view s;
          e = doc.get_string().get(s);
          ok = !e && walker.emit(s);
          break;
        }
        case od::json_type::number: {
          std::string_view raw;
          e = doc.raw_json_token().get(raw);
          raw = trimRight(raw);
          ok = !e && isJsonNumber(raw);
          if (!e && !ok) walker.own_error = "invalid number";
          if (ok) ok = walker.emit(raw);
          break;
        }
        case od::json_type::boolean: {
          bool b = false;
          e = doc.get_bool().get(b);
          ok = !e && walker.emit(b ? "true" : "false");
          break;
        }
        case od::json_type::null: {
          bool is_null = false;
          e = doc.is_null().get(is_null);
          if (!e && !is_null) e = simdjson::N_ATOM_ERROR;
          ok = !e && walker.emit("");
          break;
        }
      }
    }
    if (ok) {
      const char* location = nullptr;
      if (doc.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
        ok = false;
        walker.own_error = "trailing garbage";
      }
    }
  }
  if (ok) return;

  result.error = true;
  if (namer.budgetExceeded()) {
    result.error_msg = "JSON argument names and values too large";
  } else if (namer.limitExceeded()) {
    result.error_msg = "More than " + std::to_string(limits.max_args) + " JSON keys";
  } else if (namer.depthExceeded() || e == simdjson::DEPTH_ERROR || walker.error == simdjson::DEPTH_ERROR) {
    result.error_msg = "JSON depth limit exceeded";
  } else if (walker.own_error != nullptr) {
    result.error_msg = walker.own_error;
  } else {
    const simdjson::error_code code = e ? e : walker.error;
    result.error_msg = code ? simdjson::error_message(code) : "invalid JSON";
  }
}

}  // namespace rampart::waf::body
