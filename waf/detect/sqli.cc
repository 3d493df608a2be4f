#include "waf/detect/sqli.h"

#include <cstring>

namespace rampart::waf::detect {

namespace {

constexpr size_t kMaxTokens = 10;  // folded tokens read per context
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

template <size_t N>
bool inList(std::string_view w, const std::string_view (&list)[N]) {
  for (auto x : list)
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
    "DBMS_LOCK.SLEEP", "GTID_SUBSET", "XMLTYPE",  "CTXSYS.DRITHSX.SN", "OPENROWSET", "OPENQUERY"};

struct Token {
  char type = 0;  // s n b k E U T & o f v ( ) , ; c X
  bool comment_after = false;
  bool unterminated = false;  // a string that runs to the end of the input
  bool tail_keyword = false;  // k: ORDER BY, HAVING, LIMIT...
  bool object_keyword = false;  // k: TABLE, DATABASE, SCHEMA, PROCEDURE, INTO
  bool dangerous = false;     // f: in kDangerousFunctions; v: a system variable (@@x)
  bool is_select = false;     // E: SELECT
  bool is_from = false;       // k: FROM
  bool literal = false;       // b: TRUE, FALSE, NULL (an operand in a condition: "1 or true")
};

class Lexer {
 public:
  Lexer(std::string_view s, char quote_context) : s_(s), ctx_(quote_context) {}

  // Fills toks (folded) and returns their count; *complete: the whole input was read.
  size_t run(Token* toks, bool* complete) {
    size_t n = 0;
    auto push = [&](Token t) {
      if (t.type == 'c') {
        if (n) toks[n - 1].comment_after = true;
        return;
      }
      if (t.type == 's' && n && toks[n - 1].type == 's' && !toks[n - 1].comment_after) {
        toks[n - 1].unterminated = t.unterminated;  // 'a' 'b' is one string in MySQL
        return;
      }
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
  // quote; false when the input ends first. '' (doubled) and \x escapes stay inside.
  bool skipString(char q) {
    while (i_ < s_.size()) {
      const void* p = std::memchr(s_.data() + i_, q, s_.size() - i_);
      const void* b = std::memchr(s_.data() + i_, '\\', p ? size_t(static_cast<const char*>(p) - s_.data()) - i_
                                                          : s_.size() - i_);
      if (b) {
        i_ = size_t(static_cast<const char*>(b) - s_.data()) + 2;
        continue;
      }
      if (!p) {
        i_ = s_.size();
        return false;
      }
      i_ = size_t(static_cast<const char*>(p) - s_.data()) + 1;
      if (i_ < s_.size() && s_[i_] == q) {
        ++i_;
        continue;
      }
      return true;
    }
    return false;
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
      t.unterminated = !skipString(c);
      return true;
    }
    if ((c == 'N' || c == 'n' || c == 'X' || c == 'x' || c == 'B' || c == 'b' || c == 'E' || c == 'e') &&
        i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
      i_ += 2;
      t.type = 's';
      t.unterminated = !skipString('\'');
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
      if (ieq(w, "UNION")) {
        t.type = 'U';
        size_t j = after;
        size_t save = i_;
        i_ = j;
        std::string_view w2 = i_ < s_.size() && isWordStart(s_[i_]) ? word() : std::string_view();
        if (!(ieq(w2, "ALL") || ieq(w2, "DISTINCT"))) i_ = save;
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
      if (inList(w, kLogical)) {
        t.type = '&';
        return true;
      }
      if (inList(w, kOperatorWords)) {
        t.type = 'o';
        return true;
      }
      if (inList(w, kStatement) && !(call && (ieq(w, "REPLACE") || ieq(w, "LOAD")))) {
        t.type = 'E';
        t.is_select = ieq(w, "SELECT");
        return true;
      }
      if (call) {
        t.type = 'f';
        t.dangerous = inList(w, kDangerousFunctions);
        return true;
      }
      if (inList(w, kKeywords)) {
        t.type = 'k';
        t.tail_keyword = inList(w, kTailKeywords);
        t.is_from = ieq(w, "FROM");
        t.object_keyword =
            ieq(w, "TABLE") || ieq(w, "DATABASE") || ieq(w, "SCHEMA") || ieq(w, "PROCEDURE") || ieq(w, "INTO");
        return true;
      }
      t.type = 'b';
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
        return true;
      }
      if ((c == '<' && (d == '=' || d == '>')) || (c == '>' && d == '=') || (c == '!' && d == '=') ||
          (c == ':' && (d == ':' || d == '=')) || (c == '-' && d == '>')) {
        ++i_;
        if (c == '<' && d == '=' && i_ < s_.size() && s_[i_] == '>') ++i_;  // <=>
        t.type = 'o';
        return true;
      }
    }
    if (strchr("=<>+-*/%&|^~!", c)) {
      t.type = 'o';
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
bool dangerousShape(const Token* t, size_t m, bool complete, bool quoted) {
  auto ty = [&](size_t i) -> char { return i < m ? t[i].type : (complete ? '\0' : '?'); };
  // Nothing meaningful follows token i: the input ends there, or only a comment does.
  auto endsAfter = [&](size_t i) { return ty(i + 1) == '\0' || (i < m && t[i].comment_after && ty(i + 1) == '\0'); };
  auto operand = [&](char c) { return c == 'n' || c == 's' || c == 'v' || c == 'b'; };
  // A comparison or a lone operand after a logical operator at i: "1=1", "'a'='a", "1", "'1".
  auto condition = [&](size_t i) {
    while (ty(i) == '(') ++i;  // ((1=1
    char a = ty(i);
    if (a == 'v' || a == 'f') return true;
    if (a == 'E') return true;  // (select ...
    if (a == 'n' || a == 's') {
      char b = ty(i + 1);
      if (b == 'o') return operand(ty(i + 2)) || ty(i + 2) == 'f' || ty(i + 2) == '(';
      if (a == 's' && t[i].unterminated) return true;  // ' or '1  (the query's own quote closes it)
      return b == '\0' || b == ';' || b == ')' || (i < m && t[i].comment_after);
    }
    if (a == 'b' && i < m && t[i].literal) {  // 1 or true, ' or true--
      char b = ty(i + 1);
      return b == '\0' || b == 'o' || b == ';' || b == ')' || t[i].comment_after;
    }
    if (a == 'b') return ty(i + 1) == 'o' || (i < m && t[i].comment_after && ty(i + 1) == '\0');
    return false;
  };

  const char t0 = ty(0), t1 = ty(1), t2 = ty(2);
  // After the operand that closes the value, its closing parentheses: "1))", "x')".
  size_t k = 1;
  while (ty(k) == ')') ++k;
  const char tk = ty(k);
  auto afterParens = [&]() {
    if (k > 1 && t[k - 1].comment_after && tk == '\0') return true;  // 1)--
    if (tk == '&') return condition(k + 1);
    return tk == ';' || tk == 'U' || tk == 'T' || (tk == 'k' && t[k].tail_keyword);
  };
  if (quoted) {
    // t0 is the string the value closes.
    if (t[0].comment_after && t1 == '\0') return true;                         // admin'--
    if (t1 == '&') return condition(2);                                        // ' or '1'='1
    if (t1 == ';' && (t2 == 'E' || t2 == 'T')) return true;                    // '; drop ...
    if (t1 == 'U' && (t2 == 'E' || t2 == '(')) return true;                    // ' union select
    if (t1 == 'T') return true;                                                // ' waitfor delay
    if (t1 == 'k' && t[1].tail_keyword) return true;                           // ' order by 1--
    if (t1 == 'f' && t[1].dangerous) return true;                              // " sleep(5) "
    if (t1 == ')' && afterParens()) return true;                               // ') or ('1'='1
    if (t1 == 'o') {                                                           // '+sleep(  '||(select  '='
      if (t2 == 'f' || t2 == '(' || t2 == 'v') return true;
      if (t2 == 's' && (t[2].unterminated || endsAfter(2) || ty(3) == '&' || ty(3) == 'o')) return true;
      if (t2 == 'n' && (endsAfter(2) || ty(3) == '&')) return true;
    }
  } else {
    if (t0 == 'n' || t0 == 'b') {
      if (t1 == '&') return t0 == 'n' ? condition(2) : (condition(2) && ty(2) != 'b' && ty(3) == 'o');
      if (t0 == 'n') {
        if (t1 == 'U' && (t2 == 'E' || t2 == '(')) return true;                  // 1 union select
        if (t1 == ';' && (t2 == 'E' || t2 == 'T')) return true;                  // 1; drop table
        if (t1 == 'T') return true;                                              // 1 waitfor delay
        if (t1 == 'k' && t[1].tail_keyword && (t2 == 'n' || t2 == 'b' || t2 == 's' || t2 == 'f'))
          return true;  // 1 order by 5, 1 procedure analyse(
        if (t1 == 'o' && ((t2 == 'f' && t[2].dangerous) || (t2 == '(' && ty(3) == 'E'))) return true;
        if (t1 == ')' && afterParens()) return true;                             // 1) or (1=1
      }
    }
    if (t0 == 'f' && t[0].dangerous && t1 == '(' && t2 != 'b' && t2 != '\0' && t2 != '?') return true;  // sleep(20)
    if (t0 == 'v' && t[0].dangerous && (t1 == '\0' || t1 == 'o' || t1 == '&' || t1 == ')')) return true;  // @@version
    if (t0 == 'T' && t1 == 's') return true;                                      // waitfor delay '0:0:5'
    if (t0 == 'U' && (t1 == 'E' || t1 == '(')) return true;                       // union select ...
    if (t0 == 'E') {
      if (t1 == 'n' || t1 == 'v' || t1 == 'f') return true;  // select 1, select @@version, select count(
      if (t1 == 'o' && t[0].is_select && (t2 == 'k' || t2 == '\0' || t2 == ',' || t2 == ';' || t2 == ')'))
        return true;  // select * from, select *-- (not "select * is bad practice")
      if (t1 == 'b' && t[0].is_select && t2 == 'k' && t[2].is_from && ty(3) == 'b') return true;  // select x from y
      if (!t[0].is_select && t1 == 'k' && t[1].object_keyword && (t2 == 'b' || t2 == 'v')) return true;  // drop table x
    }
    if (t0 == '(' && t1 == 'E' && (t2 == 'n' || t2 == 'v' || t2 == 'f' || t2 == 'o')) return true;  // (select 1
    if (t0 == '(') {  // (1)or(1)=(1): a parenthesised number, then a condition
      size_t p = 0;
      while (ty(p) == '(') ++p;
      if (ty(p) == 'n' && ty(p + 1) == ')') {
        size_t q = p + 1;
        while (ty(q) == ')') ++q;
        size_t r = q + 1;  // a comparison must follow: (1)=(1), 1=1 (not "(2) and (3) apply")
        while (ty(r) == '(') ++r;
        const bool literal = ty(r) == 'n' || ty(r) == 's';
        if (ty(q) == '&' && literal && (ty(r + 1) == 'o' || (ty(r + 1) == ')' && ty(r + 2) == 'o'))) return true;
      }
    }
    // id=1 and 1=1: an assignment-looking start, then a condition on a literal.
    if (t0 == 'b' && t1 == 'o' && (t2 == 'n' || t2 == 's') && ty(3) == '&' && (ty(4) == 'n' || ty(4) == 's') &&
        condition(4))
      return true;
  }
  // Anywhere within the window: shapes no ordinary text has.
  for (size_t i = 0; i + 1 < m && i + 1 < kWindow; ++i) {
    char a = t[i].type, b = t[i + 1].type, c = ty(i + 2);
    if (a == 'n' && b == 'U') return true;                                        // 2 union all
    if (a == 'U' && (b == 'E' || (b == '(' && c == 'E'))) return true;
    if (a == ';' && (b == 'E' || b == 'T')) return true;
    if ((a == 'o' || a == '&') && b == '(' && c == 'E' && i + 2 < kWindow) return true;
    if (a == '&' && b == 'f' && t[i + 1].dangerous) return true;
  }
  return false;
}

bool analyse(std::string_view input, char ctx, std::string* fingerprint) {
  Token toks[kMaxTokens];
  bool complete = false;
  Lexer lx(input, ctx);
  size_t m = lx.run(toks, &complete);
  if (m == 0 || (ctx && toks[0].unterminated)) return false;
  if (!dangerousShape(toks, m, complete, ctx != 0)) return false;
  if (fingerprint) {
    fingerprint->clear();
    for (size_t i = 0; i < m && i < 8; ++i) {
      fingerprint->push_back(toks[i].type);
      if (toks[i].comment_after) fingerprint->push_back('c');
    }
  }
  return true;
}

}  // namespace

bool detectSqli(std::string_view input, std::string* fingerprint) {
  if (input.empty()) return false;
  if (analyse(input, 0, fingerprint)) return true;
  if (std::memchr(input.data(), '\'', input.size()) && analyse(input, '\'', fingerprint)) return true;
  if (std::memchr(input.data(), '"', input.size()) && analyse(input, '"', fingerprint)) return true;
  return false;
}

}  // namespace rampart::waf::detect
