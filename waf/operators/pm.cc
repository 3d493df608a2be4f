// @pm WORD1 WORD2 ...: case-insensitive match of any of the space-separated
// phrases anywhere in the value (Aho-Corasick). With `capture`, TX:0 is the
// phrase as found in the input.
//   SecRule REQUEST_HEADERS:User-Agent "@pm nikto sqlmap" "id:2,..."
#include "waf/operators/pm_common.h"

namespace rampart::waf::operators {

std::unique_ptr<Operator> makePm(const std::string& arg, const CompileContext&, std::string* error) {
  auto op = std::make_unique<PhraseMatch>();
  size_t i = 0;
  while (i < arg.size()) {
    while (i < arg.size() && (arg[i] == ' ' || arg[i] == '\t')) ++i;
    size_t b = i;
    while (i < arg.size() && arg[i] != ' ' && arg[i] != '\t') ++i;
    if (i > b) op->add(std::string_view(arg).substr(b, i - b));
  }
  op->ac.build();
  return op;
}

}  // namespace rampart::waf::operators
