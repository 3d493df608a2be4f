#include "rules/names.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace rampart::rules {

namespace {

// ModSecurity v2 reference manual, "Variables" (plus the persistent collections).
constexpr std::string_view kVariables[] = {
    "ARGS", "ARGS_COMBINED_SIZE", "ARGS_GET", "ARGS_GET_NAMES", "ARGS_NAMES", "ARGS_POST",
    "ARGS_POST_NAMES", "AUTH_TYPE", "DURATION", "ENV", "FILES", "FILES_COMBINED_SIZE",
    "FILES_NAMES", "FULL_REQUEST", "FULL_REQUEST_LENGTH", "FILES_SIZES", "FILES_TMPNAMES",
    "FILES_TMP_CONTENT", "GEO", "HIGHEST_SEVERITY", "INBOUND_DATA_ERROR", "MATCHED_VAR",
    "MATCHED_VARS", "MATCHED_VAR_NAME", "MATCHED_VARS_NAMES", "MODSEC_BUILD",
    "MSC_PCRE_LIMITS_EXCEEDED", "MULTIPART_BOUNDARY_QUOTED", "MULTIPART_BOUNDARY_WHITESPACE",
    "MULTIPART_CRLF_LF_LINES", "MULTIPART_DATA_AFTER", "MULTIPART_DATA_BEFORE",
    "MULTIPART_FILE_LIMIT_EXCEEDED", "MULTIPART_FILENAME", "MULTIPART_HEADER_FOLDING",
    "MULTIPART_INVALID_HEADER_FOLDING", "MULTIPART_INVALID_PART", "MULTIPART_INVALID_QUOTING",
    "MULTIPART_LF_LINE", "MULTIPART_MISSING_SEMICOLON", "MULTIPART_NAME",
    "MULTIPART_PART_HEADERS", "MULTIPART_SEMICOLON_MISSING", "MULTIPART_STRICT_ERROR",
    "MULTIPART_UNMATCHED_BOUNDARY", "OUTBOUND_DATA_ERROR", "PATH_INFO", "PERF_ALL",
    "PERF_COMBINED", "PERF_GC", "PERF_LOGGING", "PERF_PHASE1", "PERF_PHASE2", "PERF_PHASE3",
    "PERF_PHASE4", "PERF_PHASE5", "PERF_RULES", "PERF_SREAD", "PERF_SWRITE", "QUERY_STRING",
    "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT", "REMOTE_USER", "REQBODY_ERROR",
    "REQBODY_ERROR_MSG", "REQBODY_PROCESSOR", "REQBODY_PROCESSOR_ERROR",
    "REQBODY_PROCESSOR_ERROR_MSG", "REQUEST_BASENAME", "REQUEST_BODY", "REQUEST_BODY_LENGTH",
    "REQUEST_COOKIES", "REQUEST_COOKIES_NAMES", "REQUEST_FILENAME", "REQUEST_HEADERS",
    "REQUEST_HEADERS_NAMES", "REQUEST_LINE", "REQUEST_METHOD", "REQUEST_PROTOCOL",
    "REQUEST_URI", "REQUEST_URI_RAW", "RESPONSE_BODY", "RESPONSE_CONTENT_LENGTH",
    "RESPONSE_CONTENT_TYPE", "RESPONSE_HEADERS", "RESPONSE_HEADERS_NAMES", "RESPONSE_PROTOCOL",
    "RESPONSE_STATUS", "RULE", "SCRIPT_BASENAME", "SCRIPT_FILENAME", "SCRIPT_GID",
    "SCRIPT_GROUPNAME", "SCRIPT_MODE", "SCRIPT_UID", "SCRIPT_USERNAME", "SDBM_DELETE_ERROR",
    "SERVER_ADDR", "SERVER_NAME", "SERVER_PORT", "SESSION", "SESSIONID", "STATUS_LINE",
    "STREAM_INPUT_BODY", "STREAM_OUTPUT_BODY", "TIME", "TIME_DAY", "TIME_EPOCH", "TIME_HOUR",
    "TIME_MIN", "TIME_MON", "TIME_SEC", "TIME_WDAY", "TIME_YEAR", "TX", "UNIQUE_ID",
    "URLENCODED_ERROR", "USERID", "USERAGENT_IP", "WEBAPPID", "WEBSERVER_ERROR_LOG", "XML",
    // persistent collections (initcol/setsid/setuid)
    "IP", "GLOBAL", "RESOURCE", "USER",
};

// Reference manual, "Operators" (canonical spelling; stored lower case in the IR).
constexpr std::string_view kOperators[] = {
    "beginsWith", "contains", "containsWord", "detectSQLi", "detectXSS", "endsWith",
    "fuzzyHash", "eq", "ge", "geoLookup", "gsbLookup", "gt", "inspectFile", "ipMatch",
    "ipMatchF", "ipMatchFromFile", "le", "lt", "noMatch", "pm", "pmf", "pmFromFile", "rbl",
    "rsub", "rx", "streq", "strmatch", "unconditionalMatch", "validateByteRange", "validateDTD",
    "validateHash", "validateSchema", "validateUrlEncoding", "validateUtf8Encoding",
    "verifyCC", "verifyCPF", "verifySSN", "verifySVNR", "within",
};

struct ActionInfo {
  std::string_view name;
  ActionKind kind;
};
// Reference manual, "Actions", with the manual's grouping.
constexpr ActionInfo kActions[] = {
    {"accuracy", ActionKind::Metadata}, {"allow", ActionKind::Disruptive},
    {"append", ActionKind::NonDisruptive}, {"auditlog", ActionKind::NonDisruptive},
    {"block", ActionKind::Disruptive}, {"capture", ActionKind::NonDisruptive},
    {"chain", ActionKind::Flow}, {"ctl", ActionKind::NonDisruptive},
    {"deny", ActionKind::Disruptive}, {"deprecatevar", ActionKind::NonDisruptive},
    {"drop", ActionKind::Disruptive}, {"exec", ActionKind::NonDisruptive},
    {"expirevar", ActionKind::NonDisruptive}, {"id", ActionKind::Metadata},
    {"initcol", ActionKind::NonDisruptive}, {"log", ActionKind::NonDisruptive},
    {"logdata", ActionKind::Metadata}, {"maturity", ActionKind::Metadata},
    {"msg", ActionKind::Metadata}, {"multimatch", ActionKind::NonDisruptive},
    {"noauditlog", ActionKind::NonDisruptive}, {"nolog", ActionKind::NonDisruptive},
    {"pass", ActionKind::Disruptive}, {"pause", ActionKind::Disruptive},
    {"phase", ActionKind::Metadata}, {"prepend", ActionKind::NonDisruptive},
    {"proxy", ActionKind::Disruptive}, {"redirect", ActionKind::Disruptive},
    {"rev", ActionKind::Metadata}, {"sanitisearg", ActionKind::NonDisruptive},
    {"sanitisematched", ActionKind::NonDisruptive},
    {"sanitisematchedbytes", ActionKind::NonDisruptive},
    {"sanitiserequestheader", ActionKind::NonDisruptive},
    {"sanitiseresponseheader", ActionKind::NonDisruptive},
    {"setenv", ActionKind::NonDisruptive}, {"setrsc", ActionKind::NonDisruptive},
    {"setsid", ActionKind::NonDisruptive}, {"setuid", ActionKind::NonDisruptive},
    {"setvar", ActionKind::NonDisruptive}, {"severity", ActionKind::Metadata},
    {"skip", ActionKind::Flow}, {"skipafter", ActionKind::Flow},
    {"status", ActionKind::Data}, {"t", ActionKind::NonDisruptive},
    {"tag", ActionKind::Metadata}, {"ver", ActionKind::Metadata},
    {"xmlns", ActionKind::Data},
};

constexpr std::string_view kTransformations[] = {
    "base64Decode", "sqlHexDecode", "base64DecodeExt", "base64Encode", "cmdLine",
    "compressWhitespace", "cssDecode", "escapeSeqDecode", "hexDecode", "hexEncode",
    "htmlEntityDecode", "jsDecode", "length", "lowercase", "md5", "none", "normalisePath",
    "normalizePath", "normalisePathWin", "normalizePathWin", "parityEven7bit",
    "parityOdd7bit", "parityZero7bit", "removeNulls", "removeWhitespace", "replaceComments",
    "removeCommentsChar", "removeComments", "replaceNulls", "urlDecode", "uppercase",
    "urlDecodeUni", "urlEncode", "utf8toUnicode", "sha1", "trimLeft", "trimRight", "trim",
};

constexpr std::string_view kCtl[] = {
    "auditEngine", "auditLogParts", "debugLogLevel", "forceRequestBodyVariable",
    "requestBodyAccess", "requestBodyInMemoryLimit", "requestBodyLimit",
    "requestBodyProcessor", "responseBodyAccess", "responseBodyLimit", "ruleEngine",
    "ruleRemoveById", "ruleRemoveByMsg", "ruleRemoveByTag", "ruleRemoveTargetById",
    "ruleRemoveTargetByMsg", "ruleRemoveTargetByTag", "hashEngine", "hashEnforcement",
};

template <size_t N>
bool inList(const std::string_view (&list)[N], std::string_view name) {
  return std::any_of(std::begin(list), std::end(list),
                     [&](std::string_view n) { return iequals(n, name); });
}

}  // namespace

std::string toLower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::string toUpper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool isKnownVariable(std::string_view name) { return inList(kVariables, name); }

std::string canonicalOperator(std::string_view name) {
  return inList(kOperators, name) ? toLower(name) : std::string();
}

std::string operatorSpelling(std::string_view name) {
  for (auto n : kOperators)
    if (iequals(n, name)) return std::string(n);
  return std::string(name);
}

std::string canonicalAction(std::string_view name) {
  for (const auto& a : kActions)
    if (iequals(a.name, name)) return std::string(a.name);
  return {};
}

ActionKind actionKind(std::string_view canonical_name) {
  for (const auto& a : kActions)
    if (a.name == canonical_name) return a.kind;
  return ActionKind::NonDisruptive;
}

bool isKnownTransformation(std::string_view name) { return inList(kTransformations, name); }

bool isKnownCtl(std::string_view name) { return inList(kCtl, name); }

int parseSeverity(std::string_view v) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
  if (v.size() == 1 && v[0] >= '0' && v[0] <= '7') return v[0] - '0';
  for (size_t i = 0; i < kNames.size(); ++i)
    if (iequals(kNames[i], v)) return static_cast<int>(i);
  return -1;
}

}  // namespace rampart::rules
