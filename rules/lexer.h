// Reading configuration text the way Apache httpd hands it to ModSecurity v2.
//
//  - Physical lines ending in a single backslash are joined with the next line
//    (the backslash and the newline are removed, the next line's indentation is
//    kept: "id:1,\<nl>    phase:2" reads "id:1,    phase:2"). "\\" at the end of a
//    line is not a continuation. This happens before comments are recognised,
//    so a comment ending in '\' swallows the next line, as in Apache.
//  - A logical line whose first non-blank character is '#' is a comment.
//  - Words (ap_getword_conf): separated by blanks; a word starting with '"' or
//    '\'' runs to the matching unescaped quote. Inside any word "\\" becomes "\"
//    and, in a quoted word, "\<quote>" becomes "<quote>"; every other backslash
//    is kept, so regex text such as "\d" or "\x5c" reaches the operator intact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ir.h"

namespace rampart::rules {

// One directive's text after joining continuation lines.
struct LogicalLine {
  std::string text;
  // For each physical line that contributed: offset in `text` where it starts, its line.
  struct Segment {
    uint32_t offset;
    uint32_t line;
  };
  std::vector<Segment> segments;

  // Line and 1-based column of an offset in `text`.
  void position(size_t offset, uint32_t& line, uint32_t& column) const;
};

// Splits a file into logical lines, dropping blank lines and comments.
std::vector<LogicalLine> splitLogicalLines(std::string_view text);

struct Word {
  std::string value;       // unescaped
  uint32_t raw_offset = 0;  // offset in the logical line of the first character of the content
  char quote = 0;          // '"' or '\'' when quoted
  bool unterminated = false;  // quoted word with no closing quote
  std::string_view raw;    // content as written (between quotes), view into the line

  // Offset in the logical line of the unescaped character at index i of `value`.
  uint32_t rawOffsetOf(size_t i) const;
};

// Splits a logical line into words (the directive name is words[0]).
std::vector<Word> splitWords(const std::string& line);

}  // namespace rampart::rules
