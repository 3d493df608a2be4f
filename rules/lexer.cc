#include "rules/lexer.h"

#include <algorithm>

namespace rampart::rules {

namespace {
bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
}  // namespace

void LogicalLine::position(size_t offset, uint32_t& line, uint32_t& column) const {
  auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                             [](size_t o, const Segment& s) { return o < s.offset; });
  if (it == segments.begin()) {
    line = segments.empty() ? 0 : segments.front().line;
    column = static_cast<uint32_t>(offset) + 1;
    return;
  }
  --it;
  line = it->line;
  column = static_cast<uint32_t>(offset - it->offset) + 1;
}

std::vector<LogicalLine> splitLogicalLines(std::string_view text) {
  std::vector<LogicalLine> out;
  LogicalLine cur;
  bool continuing = false;
  uint32_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view phys = text.substr(pos, end - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    if (!phys.empty() && phys.back() == '\r') phys.remove_suffix(1);
    // [^\\]\\ at the very end of the line continues it (Apache's rule).
    bool cont = !phys.empty() && phys.back() == '\\' &&
                !(phys.size() >= 2 && phys[phys.size() - 2] == '\\');
    if (cont) phys.remove_suffix(1);
    if (!continuing) {
      cur = LogicalLine{};
    }
    cur.segments.push_back({static_cast<uint32_t>(cur.text.size()), lineno});
    cur.text.append(phys);
    continuing = cont;
    if (continuing && pos < text.size()) continue;
    // A complete logical line: drop blanks and comments.
    size_t first = 0;
    while (first < cur.text.size() && isBlank(cur.text[first])) ++first;
    if (first == cur.text.size() || cur.text[first] == '#') {
      continuing = false;
      continue;
    }
    out.push_back(std::move(cur));
    continuing = false;
  }
  return out;
}

uint32_t Word::rawOffsetOf(size_t i) const {
  size_t r = 0;
  for (size_t k = 0; k < i && r < raw.size(); ++k) {
    if (raw[r] == '\\' && r + 1 < raw.size() && (raw[r + 1] == '\\' || (quote && raw[r + 1] == quote)))
      r += 2;
    else
      r += 1;
  }
  return raw_offset + static_cast<uint32_t>(r);
}

std::vector<Word> splitWords(const std::string& line) {
  std::vector<Word> words;
  size_t p = 0;
  const size_t n = line.size();
  while (true) {
    while (p < n && isBlank(line[p])) ++p;
    if (p >= n) break;
    Word w;
    char q = line[p];
    size_t start, end;
    if (q == '"' || q == '\'') {
      w.quote = q;
      start = p + 1;
      end = start;
      while (end < n && line[end] != q) {
        if (line[end] == '\\' && end + 1 < n && (line[end + 1] == q || line[end + 1] == '\\'))
          end += 2;
        else
          ++end;
      }
      w.unterminated = end >= n;
      p = w.unterminated ? n : end + 1;
    } else {
      start = p;
      end = p;
      while (end < n && !isBlank(line[end])) ++end;
      p = end;
    }
    w.raw_offset = static_cast<uint32_t>(start);
    w.raw = std::string_view(line).substr(start, end - start);
    w.value.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      if (line[i] == '\\' && i + 1 < end && (line[i + 1] == '\\' || (w.quote && line[i + 1] == w.quote)))
        w.value.push_back(line[++i]);
      else
        w.value.push_back(line[i]);
    }
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace rampart::rules
