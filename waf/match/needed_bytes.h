// What bytes a pattern's every match must hold one of, as a mask of 63 byte
// classes: the phase scan leaves out a value that holds none of what a
// group's patterns need (no Hyperscan call for it; none at all when no value
// of the group is left), the most common case for a value a request brings
// new (a session id, a token, a word: `948b82b1d910ddd76215f679e38a59aa`
// holds none of the `{`, `$&`, `"<[{`, `\`, `:` or `%` most groups need).
//
// The classes: each ASCII letter with its other case (26), each ASCII
// punctuation character (32), the digits, the space, the other ASCII
// whitespace (\t \n \v \f \r), the other control bytes and DEL, and the bytes
// from 0x80 (a letter's class counts the high bytes too: a caseless match may
// fold a letter with one of them).
//
// The analysis is conservative: of a concatenation it keeps one part's need
// (every match holds a match of each part; the part rarest in benign traffic
// is kept), of an alternation the union of every branch's, of a repeat that
// may be absent nothing; anchors, lookarounds and back-references need
// nothing. A pattern whose syntax it does not know, or that may match without
// needing any byte, gets no mask: a value is then always scanned for it.
//
//   auto need = neededClasses("(?i)<script");        // the classes of '<' (the rarest)
//   bool maybe = *need & byteClasses(value);         // false: the pattern cannot match value
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::waf::match {

// The classes of v's bytes (bit k: class k).
uint64_t byteClasses(std::string_view v);

// The classes of one byte.
uint64_t classOf(unsigned char c);

// A mask every non-empty match of `pattern` (RE2 or PCRE syntax) holds a byte
// of; nullopt when none is known.
std::optional<uint64_t> neededClasses(std::string_view pattern);

// The same for @pm (any of `phrases` as a substring, case ignored); nullopt
// for an empty list or an empty phrase.
std::optional<uint64_t> neededClassesOfPhrases(const std::vector<std::string>& phrases);

}  // namespace rampart::waf::match
