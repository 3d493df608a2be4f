// Why: Security Lake-style consumers read OCSF. A sink with `format: ocsf`
// ships each WAF audit event (gateway/filters/waf_audit.cc's JSON) as an OCSF
// 1.1 HTTP Activity event (class 4002, category 4 Network Activity) with the
// Security Control profile (action, disposition, firewall_rule); what OCSF has
// no field for (matches, anomaly scores, rule set, mode) goes under `unmapped`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rampart::gateway::sinks {

// The OCSF line for one audit event line; nullopt when the line is not an
// audit event (it is then shipped as it is).
std::optional<std::string> auditToOcsf(std::string_view audit_json);

}  // namespace rampart::gateway::sinks
