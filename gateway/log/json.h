// JSON string escaping shared by the log records and the admin pages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::gateway::log {

// Appends `s` as a JSON string literal (quotes included); control bytes as \uXXXX.
// The output is always valid UTF-8: well-formed sequences pass through, any
// other byte is written as the code point of the same value (\u00XX).
void appendJsonString(std::string& out, std::string_view s);

// "key":"value" with the value escaped as above (the key is written as is:
// callers pass fixed names).
void appendJsonField(std::string& out, std::string_view key, std::string_view value);

// "2026-11-24T02:05:35.543Z" (UTC) for Unix milliseconds (times before 1970
// as 1970-01-01T00:00:00.000Z).
void appendIsoTime(std::string& out, int64_t unix_ms);

// The same two written at p, which has room for jsonStringBound(s.size()) and
// kIsoTimeLength bytes; they return the end of what they wrote. For records
// rendered field by field into one buffer sized once.
constexpr size_t jsonStringBound(size_t n) { return 2 + 6 * n; }
constexpr size_t kIsoTimeLength = 24;
char* writeJsonString(char* p, std::string_view s);
char* writeIsoTime(char* p, int64_t unix_ms);

}  // namespace rampart::gateway::log
