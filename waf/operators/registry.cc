// The explicit operator registry: every SecLang operator name and the factory
// that builds it. Unsupported v2 operators are listed with a null factory so
// that a rule naming them fails to compile with "not supported" instead of
// "unknown".
#include <algorithm>
#include <cctype>
#include <fstream>
#include <utility>

#include "waf/operators/operator.h"

namespace rampart::waf::operators {

std::unique_ptr<Operator> makeRx(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makePm(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makePmFromFile(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeStreq(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeContains(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeContainsWord(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeBeginsWith(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeEndsWith(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeWithin(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeStrmatch(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeEq(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeGe(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeGt(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeLe(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeLt(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeValidateByteRange(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeValidateUrlEncoding(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeValidateUtf8Encoding(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeIpMatch(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeIpMatchFromFile(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeUnconditionalMatch(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeNoMatch(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeDetectSqli(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeDetectXss(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeVerifyCc(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeVerifyCpf(const std::string&, const CompileContext&, std::string*);
std::unique_ptr<Operator> makeVerifySsn(const std::string&, const CompileContext&, std::string*);

namespace {

struct Entry {
  std::string_view name;  // lower case
  Factory factory;        // null: recognised, not supported
};

const Entry kOperators[] = {
    {"rx", makeRx},
    {"pm", makePm},
    {"pmfromfile", makePmFromFile},
    {"pmf", makePmFromFile},
    {"streq", makeStreq},
    {"contains", makeContains},
    {"containsword", makeContainsWord},
    {"beginswith", makeBeginsWith},
    {"endswith", makeEndsWith},
    {"within", makeWithin},
    {"strmatch", makeStrmatch},
    {"eq", makeEq},
    {"ge", makeGe},
    {"gt", makeGt},
    {"le", makeLe},
    {"lt", makeLt},
    {"validatebyterange", makeValidateByteRange},
    {"validateurlencoding", makeValidateUrlEncoding},
    {"validateutf8encoding", makeValidateUtf8Encoding},
    {"ipmatch", makeIpMatch},
    {"ipmatchfromfile", makeIpMatchFromFile},
    {"ipmatchf", makeIpMatchFromFile},
    {"unconditionalmatch", makeUnconditionalMatch},
    {"nomatch", makeNoMatch},
    {"detectsqli", makeDetectSqli},
    {"detectxss", makeDetectXss},
    {"verifycc", makeVerifyCc},
    {"verifycpf", makeVerifyCpf},
    {"verifyssn", makeVerifySsn},
    {"validatedtd", nullptr},
    {"validateschema", nullptr},
    {"rbl", nullptr},
    {"geolookup", nullptr},
    {"inspectfile", nullptr},
    {"gsblookup", nullptr},
    {"rsub", nullptr},
    {"fuzzyhash", nullptr},
    {"validatehash", nullptr},
};

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

bool known(std::string_view name) {
  std::string n = lower(name);
  for (auto& e : kOperators)
    if (e.name == n) return true;
  return false;
}

std::unique_ptr<Operator> create(std::string_view name, const std::string& argument, const CompileContext& cc,
                                 std::string* error) {
  std::string n = lower(name);
  for (auto& e : kOperators) {
    if (e.name != n) continue;
    if (!e.factory) {
      if (error) *error = "operator @" + std::string(name) + " is not supported";
      return nullptr;
    }
    return e.factory(argument, cc, error);
  }
  if (error) *error = "unknown operator @" + std::string(name);
  return nullptr;
}

bool hasMacro(std::string_view s) {
  auto p = s.find("%{");
  return p != std::string_view::npos && s.find('}', p) != std::string_view::npos;
}

int64_t atoiLike(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;  // isspace, C locale
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (v < (INT64_MAX / 10)) v = v * 10 + (s[i] - '0');
    ++i;
  }
  return neg ? -v : v;
}

bool readDataFile(const std::string& path, const CompileContext& cc, std::vector<std::string>* lines,
                  std::string* error) {
  std::string full = path;
  if (!path.empty() && path[0] != '/' && !cc.rule_dir.empty()) full = cc.rule_dir + "/" + path;
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot open data file " + full;
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    size_t b = 0;
    while (b < line.size() && (line[b] == ' ' || line[b] == '\t')) ++b;
    line.erase(0, b);
    if (line.empty() || line[0] == '#') continue;
    lines->push_back(line);
  }
  return true;
}

}  // namespace rampart::waf::operators
