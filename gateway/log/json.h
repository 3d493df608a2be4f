// JSON string escaping shared by the log records and the admin pages.
#pragma once

#include <string>
#include <string_view>

namespace rampart::gateway::log {

// Appends `s` as a JSON string literal (quotes included); control bytes as \uXXXX.
void appendJsonString(std::string& out, std::string_view s);

}  // namespace rampart::gateway::log
