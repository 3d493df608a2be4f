// WAF audit events: one JSON object per transaction with at least one logged
// match (or, with `waf.audit.events: blocked`, per blocked transaction), with
// the request's identity, the decision, the anomaly scores and every matched
// rule. Rendered on the worker at the end of the request (the transaction that
// holds the data ends with it) and written by the log thread.
//
// Redaction, on by default: values of the configured headers (Authorization,
// Cookie, Set-Cookie...), every cookie value, and arguments (query and body)
// whose names match `waf.audit.redact_args` never appear in an event. They are
// replaced in the URI's query, in matched data and in logdata, and any other
// place a secret value of 4 bytes or more shows up verbatim is scrubbed too
// (CRS's logdata quotes MATCHED_VAR; REQUEST_BODY matches quote whole bodies).
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

#include "gateway/config/waf_config.h"
#include "gateway/http/parser.h"
#include "waf/transaction.h"

namespace rampart::gateway::filters {

struct AuditRedactor {
  explicit AuditRedactor(const config::WafAudit& cfg);
  const config::WafAudit& cfg;
  std::unique_ptr<re2::RE2> args;  // null when the pattern is empty
  bool sensitiveArg(std::string_view name) const;
  bool sensitiveHeader(std::string_view name) const;
};

struct AuditContext {
  int64_t time_ms = 0;
  std::string_view request_id;
  std::string_view listener;
  std::string_view route;
  std::string_view rule_set;
  std::string_view mode;  // "detect" | "block"
  std::string_view client;
  const http::RequestHead* req = nullptr;
  int status = 0;
  bool shadow = false;  // the event of a shadow rule set
};

// Whether the transaction deserves an event under the configuration.
bool wantsAuditEvent(const waf::Transaction& tx, const config::WafAudit& cfg, bool shadow);

// The event as one line of JSON (no newline).
std::string renderAuditEvent(const AuditContext& ctx, const waf::Transaction& tx, const AuditRedactor& redactor);

}  // namespace rampart::gateway::filters
