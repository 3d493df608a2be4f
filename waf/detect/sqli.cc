#include "waf/detect/sqli.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace rampart::waf::detect {

namespace {

constexpr size_t kMaxTokens = 16;  // folded tokens read per context
constexpr size_t kWindow = 6;      // shapes found anywhere must lie within the first kWindow tokens

constexpr char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }
constexpr bool isDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool isWordStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
constexpr bool isWordChar(char c) { return isWordStart(c) || isDigit(c) || c == '$' || c == '.'; }
constexpr bool isSpace(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }

bool ieq(std::string_view a, std::string_view upper_b) {
  if (a.size() != upper_b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (upper(a[i]) != upper_b[i]) return false;
  return true;
}

// Which (length, first letter) pairs some word of a set has: a bitmap of
// first letters per length. Lengths from 31 up share the last row; a word not
// starting with A-Z sets every bit of its row (the table stays a necessary
// condition whatever the words are).
class WordShapes {
 public:
  void add(std::string_view x) { by_length_[row(x.size())] |= bit(x[0]); }
  bool mayHold(std::string_view w) const { return !w.empty() && (by_length_[row(w.size())] & bit(upper(w[0]))) != 0; }

 private:
  static constexpr size_t kRows = 32;
  static size_t row(size_t n) { return n < kRows ? n : kRows - 1; }
  static uint32_t bit(char c) { return c >= 'A' && c <= 'Z' ? 1u << (c - 'A') : ~0u; }
  std::array<uint32_t, kRows> by_length_{};
};

// Whether w is one of List's words (any case); a word no word of the list has
// the length and first letter of is not compared with any.
template <const auto& List>
bool inList(std::string_view w) {
  static const WordShapes shapes = [] {
    WordShapes t;
    for (auto x : List) t.add(x);
    return t;
  }();
  if (!shapes.mayHold(w)) return false;
  for (auto x : List)
    if (ieq(w, x)) return true;
  return false;
}

// Our own word lists (a small SQL vocabulary across MySQL, MSSQL, PostgreSQL, Oracle, SQLite).
constexpr std::string_view kStatement[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "DROP",   "CREATE", "ALTER",
                                           "TRUNCATE", "EXEC", "EXECUTE", "DECLARE", "SHUTDOWN", "CALL", "GRANT",
                                           "REVOKE", "RENAME", "MERGE", "HANDLER", "REPLACE", "LOAD"};
constexpr std::string_view kLogical[] = {"AND", "OR", "XOR"};
constexpr std::string_view kOperatorWords[] = {"LIKE",  "RLIKE", "REGEXP", "SOUNDS", "ILIKE", "SIMILAR", "IS",
                                               "IN",    "BETWEEN", "DIV", "MOD",   "ESCAPE", "COLLATE", "GLOB",
                                               "MATCH", "AGAINST"};
constexpr std::string_view kKeywords[] = {"FROM",   "WHERE",  "HAVING", "LIMIT",     "OFFSET",   "INTO",   "AS",
                                          "JOIN",   "ON",     "USING",  "VALUES",    "SET",      "TABLE",  "DATABASE",
                                          "SCHEMA", "PROCEDURE", "THEN", "ELSE",     "END",      "CASE",   "WHEN",
                                          "ASC",    "DESC",   "TOP",    "OUTFILE",   "DUMPFILE", "INNER",  "OUTER",
                                          "LEFT",   "RIGHT",  "CROSS",  "NATURAL",   "EXISTS",   "ALL",    "ANY",
                                          "SOME",   "DISTINCT", "ORDER", "GROUP",    "BY",       "FETCH",  "ROWS",
                                          "ONLY",   "WITH",   "RETURNING", "INFORMATION_SCHEMA.TABLES"};
// Keywords that may follow a closed string or a number in an injected tail.
constexpr std::string_view kTailKeywords[] = {"ORDER BY", "GROUP BY", "HAVING", "LIMIT", "INTO",
                                              "PROCEDURE", "WHERE", "OFFSET"};
// Functions whose call is an injection on its own (time delays, file and command access,
// error-based extraction) or a typical building block of one.
constexpr std::string_view kDangerousFunctions[] = {
    "SLEEP",        "BENCHMARK",  "PG_SLEEP",   "LOAD_FILE",      "EXTRACTVALUE", "UPDATEXML",   "XP_CMDSHELL",
    "SYS_EVAL",     "SYS_EXEC",   "RANDOMBLOB", "DBMS_PIPE.RECEIVE_MESSAGE",    "UTL_INADDR.GET_HOST_ADDRESS",
    "UTL_HTTP.REQUEST", "NAME_CONST", "GEOMETRYCOLLECTION", "MULTIPOINT", "POLYGON", "LINESTRING",
    "MULTILINESTRING", "MULTIPOLYGON", "CHAR",   "CHR",        "CONCAT",       "CONCAT_WS",   "GROUP_CONCAT",
    "VERSION",      "DATABASE",   "USER",       "CURRENT_USER",   "SYSTEM_USER",  "SESSION_USER", "SCHEMA",
    "ASCII",        "ORD",        "SUBSTRING",  "SUBSTR",         "MID",          "HEX",         "UNHEX",
    "MD5",          "IF",         "IFNULL",     "CAST",           "CONVERT",      "EXP",         "JSON_EXTRACT",
    "DBMS_LOCK.SLEEP", "GTID_SUBSET", "XMLTYPE",  "CTXSYS.DRITHSX.SN", "OPENROWSET", "OPENQUERY",
    "ANALYSE"};

// The words the lexer tests by name outside the lists above.
constexpr std::string_view kOtherWords[] = {"UNION", "WAITFOR", "NOT", "TRUE", "FALSE", "NULL"};

// Whether `w` can be any word the lexer tells apart (the lists and kOtherWords),
// built once. Most words of ordinary text are not, and skip the ~90
// comparisons that would find no list holding them; a word that may be one is
// then compared only with the lists that have its shape (inList).
bool maybeSqlWord(std::string_view w) {
  static const WordShapes kAll = [] {
    WordShapes t;
    for (auto x : kStatement) t.add(x);
    for (auto x : kLogical) t.add(x);
    for (auto x : kOperatorWords) t.add(x);
    for (auto x : kKeywords) t.add(x);
    for (auto x : kTailKeywords) t.add(x);
    for (auto x : kDangerousFunctions) t.add(x);
    for (auto x : kOtherWords) t.add(x);
    return t;
  }();
  return kAll.mayHold(w);
}

// MSSQL's extended and system stored procedures (xp_cmdshell, sp_configure), also
// qualified (master..xp_dirtree, master.dbo.sp_who): what EXEC runs in an injection.
bool isSystemProcedure(std::string_view w) {
  if (auto dot = w.rfind('.'); dot != std::string_view::npos) w = w.substr(dot + 1);
  return w.size() > 3 && (upper(w[0]) == 'X' || upper(w[0]) == 'S') && upper(w[1]) == 'P' && w[2] == '_';
}

struct Token {
  char type = 0;  // s n b k E U T & o f v ( ) , ; c X
  bool comment_after = false;
  bool dash_word = false;     // c: "--" and no space after it ("--file": a comment outside MySQL, prose's dash)
  bool unterminated = false;  // a string that runs to the end of the input
  bool spaced = false;        // ...and has whitespace in it: prose after a quote ("'/' as needed")
  bool tail_keyword = false;  // k: ORDER BY, HAVING, LIMIT...
  bool object_keyword = false;  // k: TABLE, DATABASE, SCHEMA, PROCEDURE, INTO
  bool dangerous = false;     // f: in kDangerousFunctions; v: a system variable (@@x)
  bool is_select = false;     // E: SELECT
  bool is_from = false;       // k: FROM
  bool is_as = false;         // k: AS
  bool literal = false;       // b: TRUE, FALSE, NULL (an operand in a condition: "1 or true")
  bool arithmetic = false;    // o: + - * / %
  bool is_and = false;        // &: AND, && (not OR, XOR, ||)
  bool is_exec = false;       // E: EXEC, EXECUTE
  bool proc = false;          // b: an MSSQL system procedure name (xp_..., sp_..., master..x)
  bool union_modifier = false;  // k: ALL, DISTINCT
};

class Lexer {
 public:
  Lexer(std::string_view s, char quote_context) : s_(s), ctx_(quote_context) {}

  // Fills toks (folded) and returns their count; *complete: the whole input was read.
  size_t run(Token* toks, bool* complete) {
    size_t n = 0;
    auto push = [&](Token t) {
      if (t.type == 'c') {
        if (n) {
          toks[n - 1].comment_after = true;
          toks[n - 1].dash_word = t.dash_word;
        }
        return;
      }
      if (t.type == 's' && n && toks[n - 1].type == 's' && !toks[n - 1].comment_after) {
        toks[n - 1].unterminated = t.unterminated;  // 'a' 'b' is one string in MySQL
        toks[n - 1].spaced = t.spaced;
        return;
      }
      // UNION ALL / UNION DISTINCT: one token, whatever lies between (comments, the end of a
      // MySQL /*!...*/ block around UNION).
      if (t.type == 'k' && t.union_modifier && n && toks[n - 1].type == 'U') return;
      toks[n++] = t;
    };
    if (ctx_) {
      Token t;
      t.type = 's';
      t.unterminated = !skipString(ctx_);
      push(t);
      if (t.unterminated) {  // the value never leaves the string: nothing to analyse
        *complete = true;
        return n;
      }
    }
    while (i_ < s_.size() && n < kMaxTokens) {
      Token t;
      if (!next(t)) continue;
      // Unary operators (and NOT) change no shape: drop them where an operand is expected.
      if (t.type == 'o' && unary_candidate_ &&
          (n == 0 || strchr("o&(,;kEUT", toks[n - 1].type) != nullptr))
        continue;
      if (t.type == 'N') continue;  // NOT
      push(t);
    }
    while (i_ < s_.size() && isSpace(s_[i_])) ++i_;
    *complete = i_ >= s_.size();
    return n;
  }

 private:
  // At s_[i_] inside a string opened by `q` (already consumed): moves past the closing
  // quote; false when the input ends first. '' (doubled) and, unless q is '`' (an
  // identifier), \x escapes stay inside. The next quote is searched for again only once
  // passed: linear however many escapes precede it.
  bool skipString(char q) {
    const char* base = s_.data();
    const size_t n = s_.size();
    auto find = [&](char c, size_t from, size_t to) -> size_t {
      const void* p = from < to ? std::memchr(base + from, c, to - from) : nullptr;
      return p ? size_t(static_cast<const char*>(p) - base) : to;
    };
    size_t p = find(q, i_, n);  // the next quote (n: none)
    while (i_ < n) {
      const size_t b = q == '`' ? p : find('\\', i_, p);
      if (b < p) {
        i_ = b + 2;
        if (i_ > p) p = find(q, std::min(i_, n), n);  // the quote was escaped
        continue;
      }
      if (p == n) break;
      i_ = p + 1;
      if (i_ < n && s_[i_] == q) {
        p = find(q, ++i_, n);
        continue;
      }
      return true;
    }
    i_ = n;
    return false;
  }

  // A string from s_[i_] (after its opening quote q).
  void stringToken(Token& t, char q) {
    const size_t start = i_;
    t.unterminated = !skipString(q);
    if (t.unterminated)
      for (size_t j = start; j < s_.size() && !t.spaced; ++j) t.spaced = isSpace(s_[j]);
  }

  std::string_view word() {
    size_t start = i_;
    while (i_ < s_.size() && isWordChar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  // Skips whitespace and plain comments after the current token (to see what follows a word).
  size_t peekPastSpace(size_t j) const {
    for (;;) {
      while (j < s_.size() && isSpace(s_[j])) ++j;
      if (j + 1 < s_.size() && s_[j] == '/' && s_[j + 1] == '*' && (j + 2 >= s_.size() || s_[j + 2] != '!')) {
        auto end = s_.find("*/", j + 2);
        if (end == std::string_view::npos) return s_.size();
        j = end + 2;
        continue;
      }
      return j;
    }
  }

  // One raw token from s_[i_]; false when only whitespace or a skipped marker was consumed.
  bool next(Token& t) {
    unary_candidate_ = false;
    const char c = s_[i_];
    if (isSpace(c)) {
      ++i_;
      return false;
    }
    // Comments.
    if ((c == '-' && i_ + 1 < s_.size() && s_[i_ + 1] == '-') || c == '#') {
      // "--" is a comment everywhere but in MySQL, which wants a space after it; attacks write
      // "--", "-- ", "-- -" or "--+". Followed by anything else ("--file", "'--' chars") it is
      // more likely prose than a comment that ends the query.
      t.dash_word = c == '-' && i_ + 2 < s_.size() && !isSpace(s_[i_ + 2]) && s_[i_ + 2] != '-' && s_[i_ + 2] != '+';
      const void* nl = std::memchr(s_.data() + i_, '\n', s_.size() - i_);
      i_ = nl ? size_t(static_cast<const char*>(nl) - s_.data()) + 1 : s_.size();
      t.type = 'c';
      return true;
    }
    if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
      if (i_ + 2 < s_.size() && s_[i_ + 2] == '!') {  // MySQL executes /*!50000 ... */
        i_ += 3;
        while (i_ < s_.size() && isDigit(s_[i_])) ++i_;
        ++versioned_;
        return false;
      }
      auto end = s_.find("*/", i_ + 2);
      i_ = end == std::string_view::npos ? s_.size() : end + 2;
      t.type = 'c';
      return true;
    }
    if (c == '*' && versioned_ && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
      i_ += 2;
      --versioned_;
      return false;
    }
    // Strings, with the N'', X'', B'', E'' prefixes.
    if (c == '\'' || c == '"') {
      ++i_;
      t.type = 's';
      stringToken(t, c);
      return true;
    }
    if ((c == 'N' || c == 'n' || c == 'X' || c == 'x' || c == 'B' || c == 'b' || c == 'E' || c == 'e') &&
        i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
      i_ += 2;
      t.type = 's';
      stringToken(t, '\'');
      return true;
    }
    if (c == '`') {  // MySQL quoted identifier
      const void* e = std::memchr(s_.data() + i_ + 1, '`', s_.size() - i_ - 1);
      i_ = e ? size_t(static_cast<const char*>(e) - s_.data()) + 1 : s_.size();
      t.type = 'b';
      return true;
    }
    // Numbers: 12, 1.5, .5, 1e5, 0x1F, 0b101.
    if (isDigit(c) || (c == '.' && i_ + 1 < s_.size() && isDigit(s_[i_ + 1]))) {
      if (c == '0' && i_ + 1 < s_.size() && (s_[i_ + 1] == 'x' || s_[i_ + 1] == 'X' || s_[i_ + 1] == 'b' ||
                                             s_[i_ + 1] == 'B')) {
        i_ += 2;
        while (i_ < s_.size() && (isDigit(s_[i_]) || (upper(s_[i_]) >= 'A' && upper(s_[i_]) <= 'F'))) ++i_;
      } else {
        while (i_ < s_.size() && (isDigit(s_[i_]) || s_[i_] == '.')) ++i_;
        if (i_ + 1 < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E') &&
            (isDigit(s_[i_ + 1]) || s_[i_ + 1] == '-' || s_[i_ + 1] == '+')) {
          i_ += 2;
          while (i_ < s_.size() && isDigit(s_[i_])) ++i_;
        }
      }
      t.type = 'n';
      return true;
    }
    // Variables: @x, @@version.
    if (c == '@') {
      size_t start = i_++;
      bool system = i_ < s_.size() && s_[i_] == '@';
      if (system) ++i_;
      word();
      t.type = 'v';
      t.dangerous = system && i_ > start + 2;
      return true;
    }
    if (isWordStart(c)) {
      std::string_view w = word();
      size_t after = peekPastSpace(i_);
      const bool call = after < s_.size() && s_[after] == '(';
      if (!maybeSqlWord(w)) {  // what the tests below conclude for a word in no list
        if (call) {
          t.type = 'f';
          t.dangerous = false;
        } else {
          t.type = 'b';
          t.proc = isSystemProcedure(w);
          t.literal = false;
        }
        return true;
      }
      if (ieq(w, "UNION")) {  // UNION ALL / DISTINCT fold in run()
        t.type = 'U';
        return true;
      }
      if (ieq(w, "WAITFOR")) {
        t.type = 'T';
        size_t save = i_;
        i_ = after;
        std::string_view w2 = i_ < s_.size() && isWordStart(s_[i_]) ? word() : std::string_view();
        if (!(ieq(w2, "DELAY") || ieq(w2, "TIME"))) i_ = save;
        return true;
      }
      if ((ieq(w, "ORDER") || ieq(w, "GROUP")) && after < s_.size()) {
        size_t save = i_;
        i_ = after;
        std::string_view w2 = isWordStart(s_[i_]) ? word() : std::string_view();
        if (ieq(w2, "BY")) {
          t.type = 'k';
          t.tail_keyword = true;
          return true;
        }
        i_ = save;
      }
      if (ieq(w, "NOT")) {
        t.type = 'N';
        return true;
      }
      if (inList<kLogical>(w)) {
        t.type = '&';
        t.is_and = ieq(w, "AND");
        return true;
      }
      if (inList<kOperatorWords>(w)) {
        t.type = 'o';
        return true;
      }
      if (inList<kStatement>(w) && !(call && (ieq(w, "REPLACE") || ieq(w, "LOAD")))) {
        t.type = 'E';
        t.is_select = ieq(w, "SELECT");
        t.is_exec = ieq(w, "EXEC") || ieq(w, "EXECUTE");
        return true;
      }
      if (ieq(w, "ALL") || ieq(w, "DISTINCT")) {  // also before '(': UNION ALL (SELECT ...)
        t.type = 'k';
        t.union_modifier = true;
        return true;
      }
      if (call) {
        t.type = 'f';
        t.dangerous = inList<kDangerousFunctions>(w);
        return true;
      }
      if (inList<kKeywords>(w)) {
        t.type = 'k';
        t.tail_keyword = inList<kTailKeywords>(w);
        t.is_from = ieq(w, "FROM");
        t.is_as = ieq(w, "AS");
        t.object_keyword =
            ieq(w, "TABLE") || ieq(w, "DATABASE") || ieq(w, "SCHEMA") || ieq(w, "PROCEDURE") || ieq(w, "INTO");
        return true;
      }
      t.type = 'b';
      t.proc = isSystemProcedure(w);
      t.literal = ieq(w, "TRUE") || ieq(w, "FALSE") || ieq(w, "NULL");
      return true;
    }
    // Punctuation and operators.
    ++i_;
    switch (c) {
      case '(':
      case ')':
      case ',':
      case ';':
        t.type = c;
        return true;
      default:
        break;
    }
    if (i_ < s_.size()) {
      const char d = s_[i_];
      if ((c == '|' && d == '|') || (c == '&' && d == '&')) {
        ++i_;
        t.type = '&';
        t.is_and = c == '&';
        return true;
      }
      if (c == ':' && d == ':') {  // PostgreSQL's cast, 1::int: the value keeps its shape
        i_ = peekPastSpace(i_ + 1);
        if (i_ < s_.size() && isWordStart(s_[i_])) word();
        return false;
      }
      if ((c == '<' && (d == '=' || d == '>')) || (c == '>' && d == '=') || (c == '!' && d == '=') ||
          (c == ':' && d == '=') || (c == '-' && d == '>')) {
        ++i_;
        if (c == '<' && d == '=' && i_ < s_.size() && s_[i_] == '>') ++i_;  // <=>
        t.type = 'o';
        return true;
      }
    }
    if (strchr("=<>+-*/%&|^~!", c)) {
      t.type = 'o';
      t.arithmetic = strchr("+-*/%", c) != nullptr;
      unary_candidate_ = c == '-' || c == '+' || c == '!' || c == '~';
      return true;
    }
    t.type = 'X';
    return true;
  }

  std::string_view s_;
  char ctx_;
  size_t i_ = 0;
  int versioned_ = 0;
  bool unary_candidate_ = false;
};

// The shapes (see sqli.h). `t` holds `m` folded tokens; past them: 0 when the input
// ended, '?' when the window did.
bool dangerousShape(const Token* t, size_t m, bool complete, char ctx) {
  const bool quoted = ctx != 0;
  auto ty = [&](size_t i) -> char { return i < m ? t[i].type : (complete ? '\0' : '?'); };
  auto operand = [&](char c) { return c == 'n' || c == 's' || c == 'v' || c == 'b'; };
  auto literal = [&](size_t i) { return i < m && t[i].type == 'b' && t[i].literal; };
  auto commentAfter = [&](size_t i) { return i < m && t[i].comment_after; };
  // The value ends at token i with a comment that cuts off the rest of the query ("admin'--",
  // "1)#"); not "--word", which reads as prose or an option, nor after a `quoted` identifier
  // (Markdown's "`#` and `;`").
  auto endsInComment = [&](size_t i) {
    return i < m && t[i].comment_after && !t[i].dash_word && ty(i + 1) == '\0' && ctx != '`';
  };
  // Nothing meaningful follows token i: the input ends there, or only a comment does.
  auto endsAfter = [&](size_t i) { return ty(i + 1) == '\0'; };
  // Past the group that opens at i ('(' ... its matching ')'), or past the call f(...) at i;
  // m when it does not close within the tokens read.
  auto past = [&](size_t i) -> size_t {
    size_t j = ty(i) == 'f' && ty(i + 1) == '(' ? i + 1 : i;
    if (ty(j) != '(') return i + 1;
    int depth = 0;
    for (; j < m; ++j) {
      if (t[j].type == '(') ++depth;
      if (t[j].type == ')' && --depth == 0) return j + 1;
    }
    return m;
  };
  // A condition after a logical operator at i: a comparison ("1=1", "'a'='a"), a lone
  // operand that ends the value ("1", "'1", "true"), a call or a subquery; a chain of
  // literals joined by logical operators leads to one ("1 and 'x'='x").
  auto condition = [&](size_t i) {
    for (;;) {
      while (ty(i) == '(') ++i;  // ((1=1
      const char a = ty(i);
      if (a == 'v' || a == 'f' || a == 'E') return true;  // @a=@a, sleep(5), (select ...
      const bool lit = literal(i);
      if ((a == 'n' || a == 's' || lit) && ty(i + 1) == '&' && !commentAfter(i)) {
        i += 2;
        continue;
      }
      if (a == 'n' || a == 's') {
        const char b = ty(i + 1);
        if (b == 'o') return operand(ty(i + 2)) || ty(i + 2) == 'f' || ty(i + 2) == '(';
        if (a == 's' && t[i].unterminated) return true;  // ' or '1  (the query's own quote closes it)
        return b == '\0' || b == ';' || b == ')' || commentAfter(i);
      }
      if (lit) {  // 1 or true, ' or true--
        const char b = ty(i + 1);
        return b == '\0' || b == 'o' || b == ';' || b == ')' || commentAfter(i);
      }
      if (a == 'b') {  // a column compared with a value: x=1, a=b-- (not "Jean-Luc isn't")
        if (ty(i + 1) != 'o') return commentAfter(i) && ty(i + 1) == '\0';
        const char c = ty(i + 2);
        if (c == 'n' || c == 's' || c == 'v' || c == 'f' || c == '(' || literal(i + 2)) return true;
        return c == 'b' && (commentAfter(i + 2) || ty(i + 3) == '\0' || ty(i + 3) == '&' || ty(i + 3) == ';');
      }
      return false;
    }
  };
  // A comparison of values at i (not of two bare words): 1=1, (1)=(1), 'a'<>'b', 1 in (1,2),
  // length(user())>0, 1=(select 1). Returns the index past it; 0 when there is none.
  auto comparison = [&](size_t i) -> size_t {
    while (ty(i) == '(') ++i;
    const char a = ty(i);
    if (!(operand(a) || a == 'f')) return 0;
    size_t j = past(i);
    while (ty(j) == ')') ++j;
    if (ty(j) != 'o') return 0;
    size_t r = ++j;
    while (ty(r) == '(') ++r;
    const char c = ty(r);
    if (!(operand(c) || c == 'f' || c == 'E')) return 0;
    if (a == 'b' && !literal(i) && c == 'b' && !literal(r)) return 0;  // x = y
    j = past(j);
    while (ty(j) == 'o' && t[j].arithmetic && (operand(ty(j + 1)) || ty(j + 1) == 'f')) j = past(j + 1);  // >2381-2027
    return j;
  };
  // What may follow a whole condition: the end, a comment, another condition, a stacked
  // query, a UNION, an ORDER BY...
  auto conditionEnds = [&](size_t j) {
    const char c = ty(j);
    return c == '\0' || c == ';' || c == '&' || c == ')' || c == 'U' || c == 'T' ||
           (c == 'k' && t[j].tail_keyword) || (j > 0 && commentAfter(j - 1));
  };
  // Where no value was closed first (the value starts with AND/OR, or a parenthesised
  // number did): only what is plainly SQL, a comparison of values that ends there, a
  // subquery, a time/file/error function.
  auto strongCondition = [&](size_t i) {
    size_t p = i;
    while (ty(p) == '(') ++p;
    if (ty(p) == 'E' && t[p].is_select) return true;
    if (ty(p) == 'f' && t[p].dangerous) return true;
    if (ty(p) == 'f' && ty(p + 1) == '(' && comparison(p + 2) != 0) return true;  // make_set(1=1,2), elt(1=1,1)
    const size_t j = comparison(i);
    if (j == 0) return false;
    for (size_t r = p + 1; r < j && r < m; ++r)  // compared with a subquery or a time/error function
      if (t[r].type == 'o') {
        while (ty(r + 1) == '(') ++r;
        if ((ty(r + 1) == 'E' && t[r + 1].is_select) || (ty(r + 1) == 'f' && t[r + 1].dangerous)) return true;
        break;
      }
    return conditionEnds(j);
  };
  // ' order by 1--, 1 procedure analyse(, 1 into outfile, at k.
  auto tailKeyword = [&](size_t k) {
    if (!t[k].tail_keyword) return false;
    const char d = ty(k + 1);
    if (d == 'n' || d == 'f' || d == 'v' || d == 'k') return true;
    if (!quoted) return d == 'b' || d == 's';
    // After a quote, a word must go on as SQL: "' order by name--", not "'having' or 'group'".
    const char e = ty(k + 2);
    return d == 'b' && (commentAfter(k + 1) || e == '\0' || e == ',' || e == ';' || e == '&' || e == 'k');
  };
  // After "AS alias" (k): WHERE <comparison>, ORDER BY..., a UNION or a stacked query.
  auto tailAfterAlias = [&](size_t k) {
    const char c = ty(k), d = ty(k + 1);
    if (c == 'k') return tailKeyword(k);
    if (c == ';') return d == 'E' || d == 'T';
    return c == 'U' && ((d == 'E' && t[k + 1].is_select) || d == '(');
  };
  // After a quote, an operator at k joins the closed string to an expression: '+sleep(5)+',
  // '||(select 1)||', '=', '-' (the query's own quote opens the last string), '+'a'+'b'='ab.
  // Prose that quotes an operator ("inserting '/' as needed") reopens a string that holds
  // the rest of the sentence, or goes on in words.
  auto operatorTail = [&](size_t k) {
    while (ty(k) == 'o' && ty(k + 1) == 's' && !t[k + 1].unterminated && ty(k + 2) == 'o') k += 2;  // '+'a'+
    const char d = ty(k + 1), e = ty(k + 2);
    if (d == 'f' || d == 'v') return true;                                    // '+sleep(  '||@@version
    if (d == '(') return e == 'E' || e == 'f' || e == 'n' || e == 's' || e == 'v' || e == '(';  // '||(select
    if (d == 's') return t[k + 1].unterminated ? !t[k + 1].spaced : (endsAfter(k + 1) || e == '&');
    if (d == 'n' && (endsAfter(k + 1) || e == '&')) return true;
    // '| type %x% |': an expression spliced between the closed string and a reopened one
    // that the query's own quote closes, an operator on each side ('+a.b(1)+', '||x||').
    for (size_t j = k + 1; j < m; ++j) {
      const char c = t[j].type;
      if (c == 'o' && ty(j + 1) == 's' && t[j + 1].unterminated && !t[j + 1].spaced) return true;
      if (!(c == 'o' || c == 'b' || c == 'n' || c == 'v' || c == 'f' || c == '(' || c == ')' || c == 'X')) break;
    }
    return false;
  };
  // What follows the value once it is closed (a string, a number, their closing
  // parentheses), at k: the injected tail.
  auto tail = [&](size_t k) {
    const char c = ty(k), d = ty(k + 1);
    switch (c) {
      case '&':
        return condition(k + 1);  // ' or '1'='1
      case 'k':
        if (t[k].is_as && d == 'b') return tailAfterAlias(k + 2);  // ') as x where 1=1: a derived table's alias
        return tailKeyword(k);
      case ';':
        return d == 'E' || d == 'T';  // '; drop ...
      case 'U':
        return (d == 'E' && t[k + 1].is_select) || d == '(';  // ' union select
      case 'T':
        return true;  // ' waitfor delay
      case 'f':
        return quoted && t[k].dangerous;  // " sleep(5) "
      case 'o':
        if ((d == 'f' && t[k + 1].dangerous) || (d == '(' && ty(k + 2) == 'E')) return true;  // ')rlike sleep(
        if (!quoted) return false;
        return operatorTail(k);
      default:
        return false;
    }
  };

  const char t0 = ty(0), t1 = ty(1), t2 = ty(2);
  // After the operand that closes the value, its closing parentheses: "1))", "x')".
  size_t k = 1;
  while (ty(k) == ')') ++k;
  if (quoted) {
    // t0 is the string the value closes.
    if (endsInComment(0)) return true;               // admin'--
    if (k > 1 && endsInComment(k - 1)) return true;  // admin')--
    if (tail(k)) return true;
  } else {
    if (t0 == 'n') {
      if (k > 1 && endsInComment(k - 1)) return true;  // 1)--
      // "3 and 4": a conjunction with a bare number selects the same rows, and reads as prose.
      const bool bare_and =
          ty(k) == '&' && t[k].is_and && ty(k + 1) == 'n' && ty(k + 2) == '\0' && !commentAfter(k + 1);
      if (!bare_and && tail(k)) return true;
    }
    if (t0 == 'n' || t0 == 'b') {
      // The value closes an expression ("2024-01-01", "a-b") or a word (an identifier) with
      // parentheses ("abc)"), then goes on; a logical operator must lead to a plain comparison
      // there ("2024-01-01 or 1 like 1", not "1-2 or 3").
      size_t e = 1;
      while (ty(e) == 'o' && t[e].arithmetic && (ty(e + 1) == 'n' || ty(e + 1) == 'b')) e += 2;
      size_t q = e;
      while (ty(q) == ')') ++q;
      if ((e > 1 && (t0 == 'n' || q > e)) || (t0 == 'b' && q > e)) {
        if (q > e && t0 == 'n' && endsInComment(q - 1)) return true;  // 1-1)--
        if (ty(q) == '&' ? strongCondition(q + 1) : tail(q)) return true;
      }
    }
    if (t0 == 'b' && t1 == '&' && ((condition(2) && t2 != 'b' && ty(3) == 'o') || strongCondition(2))) return true;
    if (t0 == 'b' && t1 == 'k' && t[1].tail_keyword && t2 == 'f' && t[2].dangerous) return true;  // x procedure analyse(
    // The value closes a parenthesis right away (IN (<value>), f(<value>)); k is past them.
    if (t0 == ')' && (ty(k) == '&' ? strongCondition(k + 1) : tail(k))) return true;
    // sleep(20), benchmark(10,md5(1)): arguments, not words ("sleep(8 hours)").
    if (t0 == 'f' && t[0].dangerous && t1 == '(' &&
        (t2 == 'f' || t2 == 'E' || t2 == '(' || t2 == 'v' ||
         ((t2 == 'n' || t2 == 's') && (ty(3) == ')' || ty(3) == ',' || ty(3) == 'o'))))
      return true;
    if (t0 == 'v' && t[0].dangerous && (t1 == '\0' || t1 == 'o' || t1 == '&' || t1 == ')')) return true;  // @@version
    if (t0 == 'U' && ((t1 == 'E' && t[1].is_select) || t1 == '(')) return true;  // union select ...
    if (t0 == '&' && strongCondition(1)) return true;                              // or 1=1--, and sleep(5)
    if (t0 == '&' && (t1 == 'n' || literal(1)) && endsInComment(1)) return true;   // or true--
    if (t0 == 'k' && t[0].tail_keyword && t1 == 'f' && t[1].dangerous) return true;  // order by sleep(5)
    if (t0 == 'o' && t1 == 'f' && t[1].dangerous && t2 == '(') return true;        // rlike sleep(5)
    if (t0 == 'E') {
      if (t1 == 'v') return true;  // select @@version, declare @a
      // select 1, select count(, exec master..xp_cmdshell( (not "Update 3.11 modules", "Drop 0001-fix.patch")
      if ((t1 == 'n' || t1 == 'f') && (t[0].is_select || t[0].is_exec)) return true;
      if (t[0].is_select && literal(1) &&
          (t2 == '\0' || t2 == ',' || t2 == ';' || commentAfter(1) || (t2 == 'k' && t[2].is_from)))
        return true;  // select null
      if (t1 == 'o' && t[0].is_select && (t2 == 'k' || t2 == '\0' || t2 == ',' || t2 == ';' || t2 == ')'))
        return true;  // select * from, select *-- (not "select * is bad practice")
      if (t1 == 'b' && t[0].is_select && t2 == 'k' && t[2].is_from && ty(3) == 'b') return true;  // select x from y
      // drop table x, create table x(, insert into t values(: the statement ends or goes on in SQL
      // ("drop table tennis lessons" does not).
      if (!t[0].is_select && t1 == 'k' && t[1].object_keyword) {
        if (t2 == 'f') return true;
        const char c3 = ty(3);
        if ((t2 == 'b' || t2 == 'v') && (c3 == '\0' || c3 == ';' || c3 == '(' || c3 == ',' || c3 == 'k' ||
                                         c3 == 'E' || c3 == 'f' || commentAfter(2)))
          return true;
      }
      if (t[0].is_exec && t1 == 'b' && t[1].proc) return true;  // exec xp_cmdshell 'dir', exec sp_who
    }
    if (t0 == '(' && t1 == 'E' && (t2 == 'n' || t2 == 'v' || t2 == 'f' || t2 == 'o')) return true;  // (select 1
    if (t0 == '(') {  // (1)or(1)=(1), (1) order by 1: a parenthesised number closes the value
      size_t p = 0;
      while (ty(p) == '(') ++p;
      if (ty(p) == 'n' && ty(p + 1) == ')') {
        size_t q = p + 1;
        while (ty(q) == ')') ++q;
        // a logical operator must lead to a comparison (not "(2) and (3) apply")
        if (ty(q) == '&' ? strongCondition(q + 1) : tail(q)) return true;
      }
    }
    // id=1 and 1=1: an assignment-looking start, then a condition on a literal.
    if (t0 == 'b' && t1 == 'o' && (t2 == 'n' || t2 == 's') && ty(3) == '&' && (ty(4) == 'n' || ty(4) == 's') &&
        condition(4))
      return true;
  }
  // Anywhere within the window: shapes no ordinary text has.
  for (size_t i = 0; i + 1 < m && i + 1 < kWindow; ++i) {
    const char a = t[i].type, b = t[i + 1].type, c = ty(i + 2), d = ty(i + 3);
    if (a == 'n' && b == 'U') return true;  // 2 union all
    if (a == 'U' && ((b == 'E' && t[i + 1].is_select) || (b == '(' && c == 'E'))) return true;
    if (a == ';' && (b == 'E' || b == 'T')) return true;
    if ((a == 'o' || a == '&' || a == ';') && b == '(' && c == 'E' && t[i + 2].is_select && d != ')' &&
        i + 2 < kWindow)
      return true;  // and (select ..., not "(null) or (update)"
    if (a == ',' && b == '(' && c == 'E' && t[i + 2].is_select &&
        (d == 'n' || d == 's' || d == 'v' || d == 'f' || d == 'o'))
      return true;  // ,(select * from ...: a column list
    // A subquery as a call's argument: if((select 1)..., copy (select '') to ...
    if (a == 'f' && b == '(' && c == 'E' && (d == 'n' || d == 's' || d == 'v' || d == 'f' || d == 'o')) return true;
    if (a == '&' && b == 'f' && t[i + 1].dangerous) return true;
  }
  for (size_t i = 0; i + 1 < m; ++i)
    if (t[i].type == 'T' && t[i + 1].type == 's') return true;  // waitfor delay '0:0:5', anywhere it is read
  return false;
}

bool analyse(std::string_view input, char ctx, std::string* fingerprint) {
  Token toks[kMaxTokens];
  bool complete = false;
  Lexer lx(input, ctx);
  size_t m = lx.run(toks, &complete);
  if (m == 0 || (ctx && toks[0].unterminated)) return false;
  if (!dangerousShape(toks, m, complete, ctx)) return false;
  if (fingerprint) {
    fingerprint->clear();
    for (size_t i = 0; i < m && i < 8; ++i) {
      fingerprint->push_back(toks[i].type);
      if (toks[i].comment_after) fingerprint->push_back('c');
    }
  }
  return true;
}

// One token and nothing else: a run of digits (a number) or a word of letters,
// digits and underscores that starts with a letter or underscore. Neither holds
// a quote, so only the bare context reads it, and no shape of dangerousShape is
// one token long (each needs a second token, a comment or a call's
// parenthesis), whatever the word (UNION, SELECT, OR, SLEEP, TRUE...). Many of
// a request's values are such (session ids, language tags, numbers), and the
// lexer and the shape walk cost a few hundred instructions a value.
bool singleToken(std::string_view s) {
  if (isDigit(s[0])) {
    for (char c : s)
      if (!isDigit(c)) return false;
    return true;
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(isDigit(c) || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') || c == '_')) return false;
  }
  return true;  // (the first is not a digit: a letter or '_')
}

bool detectAll(std::string_view input, std::string* fingerprint) {
  if (analyse(input, 0, fingerprint)) return true;
  if (std::memchr(input.data(), '\'', input.size()) && analyse(input, '\'', fingerprint)) return true;
  if (std::memchr(input.data(), '"', input.size()) && analyse(input, '"', fingerprint)) return true;
  if (std::memchr(input.data(), '`', input.size()) && analyse(input, '`', fingerprint)) return true;
  return false;
}

}  // namespace

bool detectSqli(std::string_view input, std::string* fingerprint) {
  if (input.empty() || singleToken(input)) return false;
  return detectAll(input, fingerprint);
}

namespace detail {
bool detectSqliEveryValue(std::string_view input, std::string* fingerprint) {
  return !input.empty() && detectAll(input, fingerprint);
}
}  // namespace detail

}  // namespace rampart::waf::detect
