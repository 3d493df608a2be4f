// Engine-setting directives, and a configuration shaped like ModSecurity's
// modsecurity.conf-recommended (written here from its directive list).
#include <gtest/gtest.h>

#include "rules/parser.h"

namespace rampart::rules {
namespace {

LoadResult load(const std::string& text) { return loadString(text, "m.conf"); }

std::vector<std::string> diags(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(format(d));
  return out;
}

const char* kRecommendedShape = R"CONF(# -- Rule engine initialization --
SecRuleEngine DetectionOnly

# -- Request body handling --
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
     "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
     "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecRule &ARGS "@ge 1000" \
"id:'200007', phase:2,t:none,log,deny,status:400,msg:'Failed to fully parse request body due to large argument count',severity:2"
SecRule REQBODY_ERROR "!@eq 0" \
"id:'200002', phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
"id:'200003',phase:2,t:none,log,deny,status:400, \
msg:'Multipart request body failed strict validation: \
PE %{REQBODY_PROCESSOR_ERROR}, \
BQ %{MULTIPART_BOUNDARY_QUOTED}, \
BW %{MULTIPART_BOUNDARY_WHITESPACE}, \
DB %{MULTIPART_DATA_BEFORE}, \
DA %{MULTIPART_DATA_AFTER}, \
HF %{MULTIPART_HEADER_FOLDING}, \
LF %{MULTIPART_LF_LINE}, \
SM %{MULTIPART_MISSING_SEMICOLON}, \
IQ %{MULTIPART_INVALID_QUOTING}, \
IP %{MULTIPART_INVALID_PART}, \
IH %{MULTIPART_INVALID_HEADER_FOLDING}, \
FL %{MULTIPART_FILE_LIMIT_EXCEEDED}'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \
    "id:'200004',phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecRule TX:/^MSC_/ "!@streq 0" \
        "id:'200005',phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'"

# -- Response body handling --
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial

# -- Filesystem configuration --
SecTmpDir /tmp/
SecDataDir /tmp/
#SecUploadDir /opt/modsecurity/var/upload/
#SecUploadKeepFiles RelevantOnly
#SecUploadFileMode 0600

# -- Debug log configuration --
#SecDebugLog /opt/modsecurity/var/log/debug.log
#SecDebugLogLevel 3

# -- Audit log configuration --
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABIJDEFHZ
SecAuditLogType Serial
SecAuditLog /var/log/modsec_audit.log
#SecAuditLogStorageDir /opt/modsecurity/var/audit/

# -- Miscellaneous --
SecArgumentSeparator &
SecCookieFormat 0
SecUnicodeMapFile unicode.mapping 20127
SecStatusEngine On
)CONF";

TEST(Directives, RecommendedConfigLoadsUnchanged) {
  LoadResult r = load(kRecommendedShape);
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  EXPECT_TRUE(r.diagnostics.empty());
  const EngineSettings& s = r.ruleset.settings;
  EXPECT_EQ(s.rule_engine, EngineSettings::RuleEngine::DetectionOnly);
  EXPECT_TRUE(s.request_body_access);
  EXPECT_EQ(s.request_body_limit, 13107200u);
  EXPECT_EQ(s.request_body_no_files_limit, 131072u);
  EXPECT_TRUE(s.request_body_limit_reject);
  EXPECT_EQ(s.request_body_json_depth_limit, 512u);
  EXPECT_EQ(s.arguments_limit, 1000u);
  EXPECT_TRUE(s.response_body_access);
  EXPECT_EQ(s.response_body_mime_types, (std::vector<std::string>{"text/plain", "text/html", "text/xml"}));
  EXPECT_EQ(s.response_body_limit, 524288u);
  EXPECT_FALSE(s.response_body_limit_reject);
  EXPECT_EQ(s.audit_engine, "RelevantOnly");
  EXPECT_EQ(s.audit_log_relevant_status, "^(?:5|4(?!04))");
  EXPECT_EQ(s.audit_log_parts, "ABIJDEFHZ");
  EXPECT_EQ(s.argument_separator, '&');
  EXPECT_EQ(s.cookie_format, "0");
  EXPECT_EQ(s.pcre_match_limit, 1000u);
  EXPECT_EQ(s.pcre_match_limit_recursion, 1000u);
  EXPECT_EQ(s.other.at("SecTmpDir"), "/tmp/");
  EXPECT_EQ(s.other.at("SecDataDir"), "/tmp/");
  EXPECT_EQ(s.other.at("SecAuditLogType"), "Serial");
  EXPECT_EQ(s.other.at("SecAuditLog"), "/var/log/modsec_audit.log");
  EXPECT_EQ(s.other.at("SecUnicodeMapFile"), "unicode.mapping 20127");
  EXPECT_EQ(s.other.at("SecStatusEngine"), "On");
  EXPECT_EQ(s.other.count("SecUploadDir"), 0u);  // commented out
  ASSERT_EQ(r.ruleset.rules.size(), 7u);
  const Rule& strict = r.ruleset.rules[4];
  EXPECT_EQ(strict.id, 200003);
  const Action* msg = nullptr;
  for (const auto& a : strict.actions)
    if (a.name == "msg") msg = &a;
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->value.rfind("Multipart request body failed strict validation: PE %{REQBODY_PROCESSOR_ERROR}, BQ", 0), 0u);
  EXPECT_EQ(r.ruleset.rules[6].variables[0], (Variable{"TX", "^MSC_", true, false, false}));
}

TEST(Directives, EveryOtherDirectiveIsRecorded) {
  LoadResult r = load(
      "SecUploadDir /opt/up/\nSecUploadKeepFiles RelevantOnly\nSecTmpSaveUploadedFiles On\n"
      "SecXmlExternalEntity Off\nSecRequestBodyInMemoryLimit 131072\nSecServerSignature \"Apache\"\n"
      "SecWebAppId app1\nSecHashEngine Off\nSecDebugLog /x.log\nSecDebugLogLevel 3\n"
      "SecAuditLogStorageDir /a/\nSecAuditLogFormat JSON\nSecCollectionTimeout 600\nsectmpdir /lower/\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  const auto& o = r.ruleset.settings.other;
  EXPECT_EQ(o.size(), 14u);
  EXPECT_EQ(o.at("SecServerSignature"), "Apache");
  EXPECT_EQ(o.at("SecTmpDir"), "/lower/");  // canonical spelling, last value
  EXPECT_EQ(o.at("SecAuditLogFormat"), "JSON");
}

TEST(Directives, SettingValuesAreChecked) {
  EXPECT_EQ(diags(load("SecRequestBodyAccess Yes\nSecRequestBodyLimit 10MB\nSecRequestBodyLimitAction Drop\n"
                       "SecArgumentSeparator \";;\"\nSecAuditEngine Sometimes\nSecAuditLogParts ABX\n"
                       "SecCookieFormat 2\nSecRuleEngine On Off\nSecResponseBodyMimeTypesClear x\n")),
            (std::vector<std::string>{
                "m.conf:1:22: error: SecRequestBodyAccess: expected On or Off, got 'Yes'",
                "m.conf:2:21: error: SecRequestBodyLimit: expected a number, got '10MB'",
                "m.conf:3:27: error: SecRequestBodyLimitAction: expected Reject or ProcessPartial, got 'Drop'",
                "m.conf:4:22: error: SecArgumentSeparator: expected a single character, got ';;'",
                "m.conf:5:16: error: SecAuditEngine: expected On, Off or RelevantOnly, got 'Sometimes'",
                "m.conf:6:20: error: SecAuditLogParts: expected letters from ABCDEFGHIJKZ, got 'ABX'",
                "m.conf:7:17: error: SecCookieFormat: expected 0 or 1, got '2'",
                "m.conf:8:18: error: SecRuleEngine: expected 1 argument, got 2",
                "m.conf:9:31: error: SecResponseBodyMimeTypesClear: expected 0 arguments, got 1",
            }));
}

TEST(Directives, EngineSettings) {
  LoadResult r = load(
      "SecRuleEngine On\nSecResponseBodyAccess Off\nSecResponseBodyLimit 1024\nSecResponseBodyLimitAction Reject\n"
      "SecRequestBodyLimitAction ProcessPartial\nSecArgumentSeparator ;\nSecAuditEngine On\nSecAuditLogParts ABZ\n"
      "SecComponentSignature \"OWASP_CRS/4.28.0\"\nSecComponentSignature other/1\nSecCookieFormat 1\n"
      "SecPcreMatchLimit 5000\nSecPcreMatchLimitRecursion 6000\n");
  ASSERT_TRUE(r.ok()) << diags(r)[0];
  const EngineSettings& s = r.ruleset.settings;
  EXPECT_EQ(s.rule_engine, EngineSettings::RuleEngine::On);
  EXPECT_FALSE(s.response_body_access);
  EXPECT_EQ(s.response_body_limit, 1024u);
  EXPECT_TRUE(s.response_body_limit_reject);
  EXPECT_FALSE(s.request_body_limit_reject);
  EXPECT_EQ(s.argument_separator, ';');
  EXPECT_EQ(s.audit_engine, "On");
  EXPECT_EQ(s.audit_log_parts, "ABZ");
  EXPECT_EQ(s.component_signatures, (std::vector<std::string>{"OWASP_CRS/4.28.0", "other/1"}));
  EXPECT_EQ(s.cookie_format, "1");
  EXPECT_EQ(s.pcre_match_limit, 5000u);
  EXPECT_EQ(s.pcre_match_limit_recursion, 6000u);
  EXPECT_EQ(load("SecRuleEngine off").ruleset.settings.rule_engine, EngineSettings::RuleEngine::Off);
}

TEST(Directives, MimeTypesReplaceDefaultsThenAccumulate) {
  EXPECT_EQ(load("").ruleset.settings.response_body_mime_types,
            (std::vector<std::string>{"text/plain", "text/html"}));
  EXPECT_EQ(load("SecResponseBodyMimeType application/json\nSecResponseBodyMimeType \"text/xml Text/HTML\"\n")
                .ruleset.settings.response_body_mime_types,
            (std::vector<std::string>{"application/json", "text/xml", "text/html"}));
  EXPECT_TRUE(load("SecResponseBodyMimeTypesClear\n").ruleset.settings.response_body_mime_types.empty());
}

TEST(Directives, UnknownDirective) {
  EXPECT_EQ(diags(load("  SecRuleEngin On")), (std::vector<std::string>{"m.conf:1:3: error: unknown directive 'SecRuleEngin'"}));
  ParseOptions o;
  o.unknown_is_warning = true;
  LoadResult r = loadString("SecFoo 1\n", "m.conf", o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(diags(r), (std::vector<std::string>{"m.conf:1:1: warning: unknown directive 'SecFoo'; statement skipped"}));
}

}  // namespace
}  // namespace rampart::rules
