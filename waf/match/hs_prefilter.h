// A Hyperscan database of many regexes that answers, for a batch of values,
// "which of these patterns can possibly match one of them?". Used as a
// prefilter: a pattern that is not reported cannot match any value of the
// batch, so its rule is false for all of them without running RE2/PCRE2; a
// reported pattern is always confirmed by the rule's own operator.
//
// The values of a batch are scanned as one buffer, separated by '\n'; the
// patterns compile multi-line, so `^` and `$` hold at every value's edges.
// Whatever the concatenation adds (a match spanning two values, `^` after a
// newline inside a value, Hyperscan's `$` before a final newline) only adds
// candidates. What could drop one is refused: absolute anchors (\A \z \Z \G),
// and bytes >= 0x80 in a pattern that ignores case (RE2 folds Latin-1
// letters, Hyperscan only ASCII). A pattern that matches the separator alone
// ([\n\r]) would be a candidate in every batch of two values: it is reported
// at every match, and a match whose last byte is a separator is dropped (the
// caller passes the separators' offsets). For RE2 patterns
// `\s` and `\S` are spelled out as RE2 has them ([\t\n\f\r ], no \v), so
// that Hyperscan (PCRE's \s) does not reject a \v that RE2's `\S` accepts.
// Patterns compile in exact mode when Hyperscan accepts them, else in
// prefilter mode (a superset); patterns it rejects in both are left out and
// always evaluated, as are long ones (over 1500 bytes) it takes only in
// prefilter mode (the approximation of a long list matches nearly anything).
// A long pattern is also left out when Hyperscan scans it alone slower than
// 5 ns per byte of a benign sample: RE2
// runs such a list faster than the scan would cost (measured once per pattern
// and Hyperscan; the decision is kept in the cache directory).
//
// Compiled databases are shared through a process-wide cache keyed by their
// patterns: a reload with the same rules compiles nothing. They are also kept
// on disk (setCacheDir; by default $RAMPART_CACHE_DIR, else
// $XDG_CACHE_HOME/rampart, else ~/.cache/rampart), so that a restart with the
// same rules and Hyperscan loads them in milliseconds instead of compiling for
// seconds. A file that does not read back whole, or for another Hyperscan or
// CPU, is compiled again and replaced.
//
//   HsPrefilter db; int id = db.add("(?i)union\\s+select", true); db.build();
//   std::vector<uint8_t> hits; db.scan("a=1\nb=2 union select", hits);  // hits[id] == 1
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
  HsPrefilter(const HsPrefilter&) = delete;
  HsPrefilter& operator=(const HsPrefilter&) = delete;

  // Returns the pattern's id in this database, or -1 when it cannot be
  // prefiltered safely (the caller then always runs the full operator).
  // `re2`: the confirming engine is RE2 (else PCRE2, whose \s Hyperscan shares).
  // `matches_separator`: the pattern matches "\n" (the caller knows: it has
  // the compiled regex). A pattern that matches the empty string is a candidate
  // for every batch: better left out by the caller. `caseless`: matched
  // without regard to the case of ASCII letters.
  int add(const std::string& pattern, bool re2, bool matches_separator = false, bool caseless = false);
  // Any of `phrases` anywhere, ASCII case ignored (@pm): exact, not a superset.
  // -1 when the set is empty. A list longer than Hyperscan takes in one
  // expression (16000 bytes) is split into several that report this id.
  int addPhrases(const std::vector<std::string>& phrases);
  bool build();  // false when nothing was added or compilation failed
  bool ready() const { return db_ != nullptr; }
  size_t size() const { return ids_; }  // ids handed out
  // Patterns that compiled only in prefilter mode (a superset of their matches).
  size_t prefilterModeCount() const;
  size_t bytes() const;  // the compiled database's size (what a scan reads from)
  // Pattern `id` is not in the built database (reported as always possible).
  bool leftOut(int id) const;

  // hits is resized to size() and set to 1 for every pattern that may match.
  // `separators`: the sorted offsets of the '\n's that separate values (null:
  // none known; every match counts). Returns false on a scan error (the caller
  // then treats every pattern as a candidate).
  bool scan(std::string_view buffer, std::vector<uint8_t>& hits,
            const std::vector<uint32_t>* separators = nullptr) const {
    hits.resize(size());
    return scan(buffer, hits.data(), separators);
  }
  // The same into hits[0 .. size()-1] (the engine keeps every group's in one array).
  bool scan(std::string_view buffer, uint8_t* hits, const std::vector<uint32_t>* separators = nullptr) const;

  // Patterns longer than this (translated) are measured against RE2 when
  // added (tooSlow) and never compiled in prefilter mode: Hyperscan's
  // approximation of a long command list (CRS 932230, 932235, 932250, 932260)
  // matches nearly every batch, so it filters nothing and slows the scan of
  // its database (a third of the 1 KB POST's RCE scan); such a pattern is
  // left out and its rule always evaluated. Beside others, Hyperscan may also
  // refuse one it compiles alone.
  static constexpr size_t kLongPattern = 1500;

  // Where compiled databases are kept ("" turns the disk cache off). Process-wide.
  static void setCacheDir(std::string dir);
  static std::string cacheDir();

  // Whether `pattern` has a ^ or $ (outside a class, not escaped): with values
  // separated by '\n' (multiline mode), those hold at every value.
  static bool usesLineAnchors(std::string_view pattern);

  // What Hyperscan is given for `pattern` (exposed for tests); empty when refused.
  static std::string translate(std::string_view pattern, bool re2);

  struct Db;

 private:
  // Hyperscan's expressions (translated), their flags and the id each reports:
  // one expression per id, but for a phrase list too long for one.
  std::vector<std::string> patterns_;
  std::vector<unsigned> flags_;
  std::vector<uint32_t> id_of_;
  size_t ids_ = 0;
  std::shared_ptr<const Db> db_;
};

}  // namespace rampart::waf::match
