// Reading go-ftw test files, override files and the expected-failures list.
#include "gateway/cli/ftw_test.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/cli/ftw_request.h"

namespace rampart::cli::ftw {
namespace {

namespace fs = std::filesystem;

std::string scalar(const YAML::Node& n) {
  if (!n || n.IsNull()) return {};
  if (n.IsScalar()) return n.Scalar();
  throw YAML::Exception(n.Mark(), "expected a scalar");
}

std::vector<long long> idList(const YAML::Node& n) {
  std::vector<long long> out;
  if (!n || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.as<long long>());
    return out;
  }
  for (const auto& x : n) out.push_back(x.as<long long>());
  return out;
}

std::vector<std::string> stringList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  for (const auto& x : n) out.push_back(scalar(x));
  return out;
}

Output readOutput(const YAML::Node& n) {
  Output o;
  if (!n || !n.IsMap()) return o;
  if (auto log = n["log"]; log && log.IsMap()) {
    o.expect_ids = idList(log["expect_ids"]);
    o.no_expect_ids = idList(log["no_expect_ids"]);
    o.match_regex = stringList(log["match_regex"]);
    o.no_match_regex = stringList(log["no_match_regex"]);
  }
  // Older go-ftw files put these directly under output.
  for (auto id : idList(n["expect_ids"])) o.expect_ids.push_back(id);
  for (auto id : idList(n["no_expect_ids"])) o.no_expect_ids.push_back(id);
  for (auto& r : stringList(n["log_contains"])) o.match_regex.push_back(r);
  for (auto& r : stringList(n["no_log_contains"])) o.no_match_regex.push_back(r);
  if (auto s = n["status"]; s && !s.IsNull()) {
    if (s.IsScalar()) o.status.push_back(s.as<int>());
    else
      for (const auto& x : s) o.status.push_back(x.as<int>());
  }
  if (auto e = n["expect_error"]; e && !e.IsNull()) o.expect_error = e.as<bool>();
  o.response_contains = scalar(n["response_contains"]);
  return o;
}

Input readInput(const YAML::Node& n) {
  Input in;
  if (!n || !n.IsMap()) return in;
  if (auto x = n["method"]; x && !x.IsNull()) in.method = scalar(x);
  if (auto x = n["uri"]; x && !x.IsNull()) in.uri = scalar(x);
  if (auto x = n["version"]; x && !x.IsNull()) in.version = scalar(x);
  if (auto h = n["ordered_headers"]; h && h.IsSequence()) {
    // [{name: ..., value: ...}, ...]
    for (const auto& kv : h) in.headers.emplace_back(scalar(kv["name"]), scalar(kv["value"]));
    in.headers_ordered = true;
  } else if (auto h = n["headers"]; h && h.IsMap()) {
    for (const auto& kv : h) in.headers.emplace_back(scalar(kv.first), scalar(kv.second));
  }
  if (auto x = n["data"]; x && !x.IsNull()) {
    in.data = expandTemplates(scalar(x));
  } else if (auto e = n["encoded_data"]; e && !e.IsNull()) {  // base64 body (go-ftw v2)
    std::string body;
    if (!base64Decode(scalar(e), body)) throw YAML::Exception(e.Mark(), "encoded_data is not base64");
    in.data = std::move(body);
  }
  if (auto x = n["encoded_request"]; x && !x.IsNull()) in.encoded_request = scalar(x);
  if (auto x = n["autocomplete_headers"]; x && !x.IsNull()) in.autocomplete_headers = x.as<bool>();
  else if (auto m = n["stop_magic"]; m && !m.IsNull()) in.autocomplete_headers = !m.as<bool>();  // older name
  return in;
}

std::string trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::string expandTemplates(const std::string& data) {
  if (data.find("{{") == std::string::npos) return data;
  std::string out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t open = data.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = data.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(data, pos, open - pos);
    // {{ "s" | repeat N }}
    std::string inner = trim(data.substr(open + 2, close - open - 2));
    bool done = false;
    if (inner.size() > 2 && inner[0] == '"') {
      size_t q = inner.find('"', 1);
      if (q != std::string::npos) {
        std::string s = inner.substr(1, q - 1);
        std::string rest = trim(inner.substr(q + 1));
        if (rest.rfind('|', 0) == 0) {
          rest = trim(rest.substr(1));
          if (rest.rfind("repeat", 0) == 0) {
            std::string num = trim(rest.substr(6));
            if (!num.empty() && std::all_of(num.begin(), num.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
              long n = std::stol(num);
              for (long i = 0; i < n; ++i) out += s;
              done = true;
            }
          }
        }
      }
    }
    if (!done) out.append(data, open, close + 2 - open);
    pos = close + 2;
  }
  out.append(data, pos, std::string::npos);
  return out;
}

std::vector<Test> loadTestFile(const std::string& path, const std::string& display_name,
                               std::vector<std::string>& errors) {
  std::vector<Test> out;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root || root.IsNull()) return out;  // only comments (CRS keeps such placeholder files)
    long long file_rule = 0;
    if (auto r = root["rule_id"]; r && !r.IsNull()) file_rule = r.as<long long>();
    auto tests = root["tests"];
    if (!tests || !tests.IsSequence()) {
      errors.push_back(display_name + ": no 'tests' list");
      return out;
    }
    size_t index = 0;
    for (const auto& t : tests) {
      ++index;
      Test test;
      test.file = display_name;
      test.rule_id = file_rule;
      if (auto r = t["rule_id"]; r && !r.IsNull()) test.rule_id = r.as<long long>();
      if (auto id = t["test_id"]; id && !id.IsNull()) test.test_id = scalar(id);
      else if (auto title = t["test_title"]; title && !title.IsNull()) {
        // old format: "942100-3"
        std::string s = scalar(title);
        auto dash = s.rfind('-');
        test.test_id = dash == std::string::npos ? s : s.substr(dash + 1);
      } else {
        test.test_id = std::to_string(index);
      }
      test.desc = scalar(t["desc"]);
      for (const auto& st : t["stages"]) {
        // current format: {input, output}; old format: {stage: {input, output}}
        YAML::Node s = st["stage"] ? st["stage"] : st;
        Stage stage;
        stage.input = readInput(s["input"]);
        stage.output = readOutput(s["output"]);
        test.stages.push_back(std::move(stage));
      }
      out.push_back(std::move(test));
    }
  } catch (const std::exception& e) {
    errors.push_back(display_name + ": " + e.what());
  }
  return out;
}

std::vector<Test> loadTests(const std::string& dir, std::vector<std::string>& errors) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back(dir + ": not a directory");
    return {};
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    auto ext = it->path().extension().string();
    if (ext == ".yaml" || ext == ".yml") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Test> out;
  for (const auto& f : files) {
    auto rel = fs::relative(f, dir, ec).string();
    auto tests = loadTestFile(f.string(), rel.empty() ? f.string() : rel, errors);
    for (auto& t : tests) out.push_back(std::move(t));
  }
  return out;
}

std::vector<Override> loadOverrides(const std::string& path, std::vector<std::string>& errors) {
  std::vector<Override> out;
  try {
    YAML::Node root = YAML::LoadFile(path);
    for (const auto& o : root["test_overrides"]) {
      Override ov;
      ov.rule_id = o["rule_id"].as<long long>();
      for (auto& id : stringList(o["test_ids"])) ov.test_ids.push_back(id);
      // go-ftw also accepts test_id (singular)
      for (auto& id : stringList(o["test_id"])) ov.test_ids.push_back(id);
      ov.reason = scalar(o["reason"]);
      if (auto x = o["output"]; x && x.IsMap()) ov.output = readOutput(x);
      if (auto x = o["expect_failure"]; x && !x.IsNull()) ov.expect_failure = x.as<bool>();
      out.push_back(std::move(ov));
    }
  } catch (const std::exception& e) {
    errors.push_back(path + ": " + e.what());
  }
  return out;
}

std::map<std::string, std::string> loadExpectedFailures(const std::string& path, std::vector<std::string>& errors) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  if (!in) {
    errors.push_back(path + ": cannot open");
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos && line.find_first_not_of(" \t") == hash) continue;
    line = trim(line);
    if (line.empty()) continue;
    size_t sp = line.find_first_of(" \t");
    std::string key = line.substr(0, sp);
    std::string reason = sp == std::string::npos ? "" : trim(line.substr(sp));
    out[key] = reason;
  }
  return out;
}

}  // namespace rampart::cli::ftw
