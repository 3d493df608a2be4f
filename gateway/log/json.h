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

// "2026-11-24T02:05:35.543Z" (UTC) for Unix milliseconds.
void appendIsoTime(std::string& out, int64_t unix_ms);

}  // namespace rampart::gateway::log
