// @pmFromFile FILE1 FILE2 ... (alias @pmf): like @pm with the phrases read
// from data files, one per line ('#' comments and empty lines skipped), paths
// relative to the directory of the rule's file.
//   SecRule REQUEST_FILENAME "@pmFromFile restricted-files.data" "id:3,..."
#include "waf/operators/pm_common.h"

namespace rampart::waf::operators {

std::unique_ptr<Operator> makePmFromFile(const std::string& arg, const CompileContext& cc, std::string* error) {
  auto op = std::make_unique<PhraseMatch>();
  size_t i = 0;
  bool any = false;
  while (i < arg.size()) {
    while (i < arg.size() && arg[i] == ' ') ++i;
    size_t b = i;
    while (i < arg.size() && arg[i] != ' ') ++i;
    if (i == b) continue;
    std::vector<std::string> lines;
    if (!readDataFile(arg.substr(b, i - b), cc, &lines, error)) return nullptr;
    for (auto& l : lines) op->add(l);
    any = true;
  }
  if (!any) {
    if (error) *error = "@pmFromFile needs a file name";
    return nullptr;
  }
  op->ac.build();
  return op;
}

}  // namespace rampart::waf::operators
