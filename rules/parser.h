// SecLang front end: reads ModSecurity configuration text into a RuleSet.
//
//   rampart::rules::ParseOptions opts;
//   auto r = rampart::rules::loadFiles({"modsecurity.conf", "crs-setup.conf", "rules/*.conf"}, opts);
//   if (!r.ok()) for (auto& d : r.diagnostics) std::cerr << format(d) << "\n";
//
// Every error found is reported (file, line, column, message), not only the first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/ir.h"

namespace rampart::rules {

struct ParseOptions {
  // Unknown directives/operators/transformations/variables/actions are errors
  // unless this is set, in which case they are warnings and the statement is skipped.
  bool unknown_is_warning = false;
  // Directory against which relative paths of the *top-level* files are resolved
  // (Include inside a file is relative to that file's directory, like ModSecurity).
  std::string base_dir;
};

struct LoadResult {
  RuleSet ruleset;
  std::vector<Diagnostic> diagnostics;  // errors and warnings in the order found
  bool ok() const;                      // no Error-severity diagnostics
};

// Each argument is a file path or a glob (sorted expansion, like Include). A glob
// that matches nothing is an error; a path that is a directory is an error.
LoadResult loadFiles(const std::vector<std::string>& paths_or_globs, const ParseOptions& opts = {});

// Parses text as if it were a file named `filename` (used for rules built from
// YAML settings and in tests). Include paths are relative to opts.base_dir.
LoadResult loadString(std::string_view text, std::string_view filename = "<string>",
                      const ParseOptions& opts = {});

// Several sources in order into one RuleSet (files and generated text mixed).
struct Source {
  enum class Kind { File, Text } kind = Kind::File;
  std::string path_or_name;  // file path / glob, or the name for Text
  std::string text;          // for Text
};
LoadResult loadSources(const std::vector<Source>& sources, const ParseOptions& opts = {});

// "file:line:column: error: message"
std::string format(const Diagnostic& d);

// Prints a rule back as SecLang (one directive, chained rules after it), such
// that parsing the output gives an equal Rule (modulo locations).
std::string print(const Rule& rule);

// Rule equality that ignores source locations (the round-trip property of print()).
bool equalIgnoringLocation(const Rule& a, const Rule& b);

}  // namespace rampart::rules
