// The WAF part of the configuration (docs/config.md, "waf"): named rule sets
// (SecLang files plus the CRS settings an operator of CRS expects as plain
// keys), the audit output, and `waf:` blocks on listeners and routes that pick
// a rule set, a mode, a shadow set and exclusions. Plain data; the rule sets
// are compiled by gateway/filters/waf_policy.h when a Runtime is built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/location.h"

namespace rampart::gateway::config {

// An exclusion, compiled to SecLang: without a path prefix it removes rules or
// targets for the whole route (SecRuleRemoveById / SecRuleUpdateTargetById);
// with one it becomes a phase-1 rule with ctl:ruleRemove*. Exactly one of
// rule_ids / tags is set; targets narrow it to those variables.
struct WafExclusion {
  std::vector<std::string> rule_ids;  // "942100" or "942100-942199"
  std::vector<std::string> tags;      // "attack-sqli"
  std::vector<std::string> targets;   // "ARGS:password", "REQUEST_COOKIES:/^sess_/"
  std::string path_prefix;            // empty: everywhere on the route
  std::string path_exact;             // or exactly this path (at most one of the two)
  Location loc;
};

enum class WafMode { Off, Detect, Block };

struct WafRuleSet {
  std::string name;
  std::vector<std::string> files;  // globs, in order; relative to the config file's directory
  std::string rules;               // inline SecLang, after the files
  // CRS shortcuts, generated as a SecAction before the files (0 / empty: leave to the files).
  int paranoia_level = 0;
  int detection_paranoia_level = 0;
  int inbound_anomaly_threshold = 0;
  int outbound_anomaly_threshold = 0;
  std::vector<std::string> allowed_methods;
  std::vector<std::string> allowed_content_types;
  // Engine settings (SecRequestBody*, SecResponseBody*).
  uint64_t request_body_limit = 13107200;
  uint64_t request_body_no_files_limit = 131072;
  bool request_body_limit_reject = true;  // request_body_limit_action: reject | process_partial
  bool response_body = false;
  std::vector<std::string> response_mime_types = {"text/plain", "text/html", "text/xml", "application/json"};
  uint64_t response_body_limit = 524288;
  bool response_body_limit_reject = false;
  uint64_t pcre_match_limit = 100000;
  Location loc;
};

struct WafAttach {
  bool present = false;
  std::optional<std::string> rule_set;
  std::optional<WafMode> mode;
  std::optional<std::string> shadow;  // a second rule set evaluated in detection mode beside the live one
  std::optional<bool> fail_open;      // engine error: true = pass with a log line, false = 500
  std::vector<WafExclusion> exclusions;
  Location loc;
};

struct WafAudit {
  std::string path = "stderr";  // "stderr", "stdout", a file, or "off"
  bool blocked_only = false;    // one event per blocked transaction only (else: any match)
  std::vector<std::string> redact_headers = {"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
                                             "X-Api-Key", "X-Auth-Token"};
  // Arguments whose names match are redacted (RE2, case-insensitive).
  std::string redact_args = "pass|pwd|secret|token|api[_-]?key|auth|session|credential|card|cvv";
  uint32_t max_matched_data = 256;  // bytes of matched data kept per match
};

struct Waf {
  std::vector<WafRuleSet> rule_sets;
  WafAudit audit;
  // Each worker remembers the request values a scan group or a rule found
  // nothing in and passes over them in later requests (waf/match/value_memo.h).
  bool value_memo = true;
};

}  // namespace rampart::gateway::config
