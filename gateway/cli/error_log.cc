// Matches printed as ModSecurity v2 error-log lines, the text go-ftw's
// match_regex checks run against (and what operators grep for).
#include <fmt/format.h>

#include "gateway/cli/waf_runner.h"

namespace rampart::cli::wafrun {
namespace {

void escapeInto(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c > 0x7e) {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

}  // namespace

const char* severityName(int s) {
  static const char* names[] = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
  return s >= 0 && s <= 7 ? names[s] : "";
}

std::string logLine(const waf::MatchedRule& m, std::string_view uri, std::string_view unique_id) {
  std::string out = "ModSecurity: Warning. Matched \"";
  escapeInto(out, m.matched_data);
  out += "\" at ";
  escapeInto(out, m.matched_var_name);
  out += ". [id \"" + std::to_string(m.id) + "\"]";
  if (!m.msg.empty()) {
    out += " [msg \"";
    escapeInto(out, m.msg);
    out += "\"]";
  }
  if (!m.logdata.empty()) {
    out += " [data \"";
    escapeInto(out, m.logdata);
    out += "\"]";
  }
  if (m.severity >= 0) out += fmt::format(" [severity \"{}\"]", severityName(m.severity));
  for (const auto& t : m.tags) {
    out += " [tag \"";
    escapeInto(out, t);
    out += "\"]";
  }
  out += " [uri \"";
  escapeInto(out, uri);
  out += "\"] [unique_id \"";
  out += unique_id;
  out += "\"]";
  return out;
}

}  // namespace rampart::cli::wafrun
