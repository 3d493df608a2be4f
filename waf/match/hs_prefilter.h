// A Hyperscan database of many regexes that answers, for one value, "which of
// these patterns can possibly match?". Used as a prefilter: a pattern that is
// not reported cannot match, so its rule is false for that value without
// running RE2/PCRE2; a reported pattern is always confirmed by the rule's own
// operator. Patterns compile in exact mode when Hyperscan accepts them, else
// in prefilter mode (a superset); patterns it rejects in both are left out and
// always evaluated. Semantics are kept on the safe side: Hyperscan's `$` also
// matching before a final newline only adds candidates.
//
//   HsPrefilter db; int id = db.add("(?i)union\\s+select"); db.build();
//   std::vector<uint8_t> hits; db.scan(value, hits);  // hits[id] != 0: confirm
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::waf::match {

class HsPrefilter {
 public:
  HsPrefilter() = default;
  ~HsPrefilter();
  HsPrefilter(const HsPrefilter&) = delete;
  HsPrefilter& operator=(const HsPrefilter&) = delete;

  // Returns the pattern's id in this database, or -1 when Hyperscan cannot
  // take it (the caller then always runs the full operator).
  int add(const std::string& pattern);
  bool build();  // false when nothing was added or compilation failed
  bool ready() const { return db_ != nullptr; }
  size_t size() const { return patterns_.size(); }

  // hits is resized to size() and set to 1 for every pattern that may match.
  // Returns false on a scan error (the caller then treats every pattern as a candidate).
  bool scan(std::string_view value, std::vector<uint8_t>& hits) const;

 private:
  std::vector<std::string> patterns_;
  std::vector<unsigned> flags_;
  void* db_ = nullptr;  // hs_database_t*
};

}  // namespace rampart::waf::match
