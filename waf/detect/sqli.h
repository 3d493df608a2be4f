// @detectSQLi: does this value, pasted into a SQL statement, change the
// statement's shape?
//
// The value is tokenized the way a SQL lexer would read it from each place an
// application may paste it: as is (a number, an expression or a bare word), and
// right after an opening single or double quote (inside a string literal, which
// the value may close) or backquote (inside a MySQL identifier). Tokens are typed (s string, n number, b bare word, k keyword,
// E statement keyword such as SELECT or DROP, U UNION, T WAITFOR DELAY/TIME,
// & logical operator, o operator, f function name, v variable, ( ) , ;
// punctuation, c comment, X anything else) and folded: whitespace and
// comments fall away (a comment is remembered on the token it follows), unary
// operators and NOT are dropped, UNION ALL/ORDER BY/GROUP BY/WAITFOR DELAY
// become one token, adjacent strings merge, MySQL's /*! ... */ is read as
// code. The decision is on the shape of the start of the folded stream: what a
// value that breaks out of its place in a query has to look like (a
// tautology, a UNION SELECT, a stacked statement, a time-based function
// call, a string closed by a comment, an expression spliced between two
// strings...), after the closing quote or parentheses and an optional derived
// table alias (") AS x WHERE"). Only the first few tokens count, so SQL-looking
// words deep inside ordinary text do not; prose that merely quotes an operator
// ("inserting '/' as needed") or starts with a SQL verb ("Drop 0001-fix.patch")
// is not read as an injection.
//
// *fingerprint gets the folded token types of the context that matched
// ("s&sos"), for TX:0. Fixed-size token window, no allocation; each context
// reads the input once at most: linear in the input size.
#pragma once

#include <string>
#include <string_view>

namespace rampart::waf::detect {

bool detectSqli(std::string_view input, std::string* fingerprint);

namespace detail {
// detectSqli without its shortcut for one-token values (a number, a word):
// what the tests compare the shortcut with.
bool detectSqliEveryValue(std::string_view input, std::string* fingerprint);
}  // namespace detail

}  // namespace rampart::waf::detect
