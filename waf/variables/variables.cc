// Resolution of every SecLang variable against a transaction (v2 semantics;
// see variables.h). Collections yield one item per element, filtered by the
// target's selector; scalars yield one item, or none when v2 would not define
// the variable (QUERY_STRING without '?', REQUEST_BODY without a buffered
// URLENCODED/forced body, MULTIPART_* outside multipart requests...).
#include "waf/variables/variables.h"

#include <ctime>
#include <unordered_map>

#include "waf/transaction_impl.h"

#if __has_include("waf/body/xml.h")
#include "waf/body/xml.h"
#define RAMPART_HAVE_XPATH 1
#endif

namespace rampart::waf {

namespace variables {

namespace {
const std::unordered_map<std::string_view, Kind>& table() {
  static const std::unordered_map<std::string_view, Kind> t = {
      {"ARGS", Kind::Args}, {"ARGS_GET", Kind::ArgsGet}, {"ARGS_POST", Kind::ArgsPost},
      {"ARGS_NAMES", Kind::ArgsNames}, {"ARGS_GET_NAMES", Kind::ArgsGetNames},
      {"ARGS_POST_NAMES", Kind::ArgsPostNames}, {"REQUEST_COOKIES", Kind::RequestCookies},
      {"REQUEST_COOKIES_NAMES", Kind::RequestCookiesNames}, {"REQUEST_HEADERS", Kind::RequestHeaders},
      {"REQUEST_HEADERS_NAMES", Kind::RequestHeadersNames}, {"RESPONSE_HEADERS", Kind::ResponseHeaders},
      {"RESPONSE_HEADERS_NAMES", Kind::ResponseHeadersNames}, {"FILES", Kind::Files},
      {"FILES_NAMES", Kind::FilesNames}, {"FILES_SIZES", Kind::FilesSizes}, {"FILES_TMPNAMES", Kind::FilesTmpNames},
      {"FILES_TMP_CONTENT", Kind::FilesTmpContent}, {"MULTIPART_PART_HEADERS", Kind::MultipartPartHeaders},
      {"MULTIPART_FILENAME", Kind::MultipartFilename}, {"MULTIPART_NAME", Kind::MultipartName},
      {"TX", Kind::Tx}, {"IP", Kind::Ip}, {"SESSION", Kind::Session}, {"USER", Kind::User},
      {"GLOBAL", Kind::Global}, {"RESOURCE", Kind::Resource}, {"ENV", Kind::Env}, {"GEO", Kind::Geo},
      {"RULE", Kind::Rule}, {"MATCHED_VARS", Kind::MatchedVars}, {"MATCHED_VARS_NAMES", Kind::MatchedVarsNames},
      {"XML", Kind::Xml}, {"ARGS_COMBINED_SIZE", Kind::ArgsCombinedSize},
      {"FILES_COMBINED_SIZE", Kind::FilesCombinedSize}, {"FULL_REQUEST", Kind::FullRequest},
      {"FULL_REQUEST_LENGTH", Kind::FullRequestLength}, {"QUERY_STRING", Kind::QueryString},
      {"REMOTE_ADDR", Kind::RemoteAddr}, {"REMOTE_PORT", Kind::RemotePort}, {"REMOTE_HOST", Kind::RemoteHost},
      {"REMOTE_USER", Kind::RemoteUser}, {"SERVER_ADDR", Kind::ServerAddr}, {"SERVER_PORT", Kind::ServerPort},
      {"SERVER_NAME", Kind::ServerName}, {"REQUEST_BASENAME", Kind::RequestBasename},
      {"REQUEST_BODY", Kind::RequestBody}, {"REQUEST_BODY_LENGTH", Kind::RequestBodyLength},
      {"REQUEST_FILENAME", Kind::RequestFilename}, {"REQUEST_LINE", Kind::RequestLine},
      {"REQUEST_METHOD", Kind::RequestMethod}, {"REQUEST_PROTOCOL", Kind::RequestProtocol},
      {"REQUEST_URI", Kind::RequestUri}, {"REQUEST_URI_RAW", Kind::RequestUriRaw}, {"PATH_INFO", Kind::PathInfo},
      {"AUTH_TYPE", Kind::AuthType}, {"REQBODY_ERROR", Kind::ReqbodyError},
      {"REQBODY_ERROR_MSG", Kind::ReqbodyErrorMsg}, {"REQBODY_PROCESSOR", Kind::ReqbodyProcessor},
      {"REQBODY_PROCESSOR_ERROR", Kind::ReqbodyProcessorError},
      {"REQBODY_PROCESSOR_ERROR_MSG", Kind::ReqbodyProcessorErrorMsg}, {"URLENCODED_ERROR", Kind::UrlencodedError},
      {"INBOUND_DATA_ERROR", Kind::InboundDataError}, {"OUTBOUND_DATA_ERROR", Kind::OutboundDataError},
      {"MULTIPART_BOUNDARY_QUOTED", Kind::MultipartBoundaryQuoted},
      {"MULTIPART_BOUNDARY_WHITESPACE", Kind::MultipartBoundaryWhitespace},
      {"MULTIPART_CRLF_LF_LINES", Kind::MultipartCrlfLfLines}, {"MULTIPART_DATA_AFTER", Kind::MultipartDataAfter},
      {"MULTIPART_DATA_BEFORE", Kind::MultipartDataBefore},
      {"MULTIPART_FILE_LIMIT_EXCEEDED", Kind::MultipartFileLimitExceeded},
      {"MULTIPART_HEADER_FOLDING", Kind::MultipartHeaderFolding},
      {"MULTIPART_INVALID_HEADER_FOLDING", Kind::MultipartInvalidHeaderFolding},
      {"MULTIPART_INVALID_PART", Kind::MultipartInvalidPart},
      {"MULTIPART_INVALID_QUOTING", Kind::MultipartInvalidQuoting}, {"MULTIPART_LF_LINE", Kind::MultipartLfLine},
      {"MULTIPART_MISSING_SEMICOLON", Kind::MultipartMissingSemicolon},
      {"MULTIPART_SEMICOLON_MISSING", Kind::MultipartMissingSemicolon},
      {"MULTIPART_STRICT_ERROR", Kind::MultipartStrictError},
      {"MULTIPART_UNMATCHED_BOUNDARY", Kind::MultipartUnmatchedBoundary}, {"RESPONSE_BODY", Kind::ResponseBody},
      {"RESPONSE_CONTENT_LENGTH", Kind::ResponseContentLength},
      {"RESPONSE_CONTENT_TYPE", Kind::ResponseContentType}, {"RESPONSE_PROTOCOL", Kind::ResponseProtocol},
      {"RESPONSE_STATUS", Kind::ResponseStatus}, {"STATUS_LINE", Kind::StatusLine}, {"TIME", Kind::Time},
      {"TIME_DAY", Kind::TimeDay}, {"TIME_EPOCH", Kind::TimeEpoch}, {"TIME_HOUR", Kind::TimeHour},
      {"TIME_MIN", Kind::TimeMin}, {"TIME_MON", Kind::TimeMon}, {"TIME_SEC", Kind::TimeSec},
      {"TIME_WDAY", Kind::TimeWday}, {"TIME_YEAR", Kind::TimeYear}, {"DURATION", Kind::Duration},
      {"HIGHEST_SEVERITY", Kind::HighestSeverity}, {"MATCHED_VAR", Kind::MatchedVar},
      {"MATCHED_VAR_NAME", Kind::MatchedVarName}, {"UNIQUE_ID", Kind::UniqueId},
      {"WEBSERVER_ERROR_LOG", Kind::WebserverErrorLog}, {"USERID", Kind::UserId}, {"SESSIONID", Kind::SessionId},
      {"WEBAPPID", Kind::Webappid},
  };
  return t;
}
}  // namespace

Kind lookup(std::string_view upper_name) {
  auto& t = table();
  auto it = t.find(upper_name);
  return it == t.end() ? Kind::Unknown : it->second;
}

bool isCollection(Kind k) { return k >= Kind::Args && k <= Kind::Xml; }

bool fixedByHead(Kind k) {
  switch (k) {
    case Kind::ArgsGet: case Kind::ArgsGetNames: case Kind::RequestCookies: case Kind::RequestCookiesNames:
    case Kind::RequestHeaders: case Kind::RequestHeadersNames: case Kind::QueryString: case Kind::RemoteAddr:
    case Kind::RemoteHost: case Kind::ServerAddr: case Kind::ServerName: case Kind::RequestLine:
    case Kind::RequestMethod: case Kind::RequestProtocol: case Kind::RequestUriRaw:
      return true;
    default:
      return false;
  }
}

bool fromRequest(Kind k) {
  switch (k) {
    case Kind::Args: case Kind::ArgsGet: case Kind::ArgsPost: case Kind::ArgsNames: case Kind::ArgsGetNames:
    case Kind::ArgsPostNames: case Kind::RequestCookies: case Kind::RequestCookiesNames: case Kind::RequestHeaders:
    case Kind::RequestHeadersNames: case Kind::Files: case Kind::FilesNames: case Kind::MultipartPartHeaders:
    case Kind::MultipartFilename: case Kind::MultipartName: case Kind::Xml: case Kind::QueryString:
    case Kind::RequestBasename: case Kind::RequestBody: case Kind::RequestFilename: case Kind::RequestLine:
    case Kind::RequestMethod:
    case Kind::RequestProtocol: case Kind::RequestUri: case Kind::RequestUriRaw:
      return true;
    default:
      return false;
  }
}

bool replayable(Kind k) {
  if (fromRequest(k)) return true;
  switch (k) {
    case Kind::Tx: case Kind::Rule: case Kind::MatchedVars: case Kind::MatchedVarsNames: case Kind::MatchedVar:
    case Kind::MatchedVarName: case Kind::HighestSeverity:
    case Kind::RemoteAddr: case Kind::RemoteHost: case Kind::ServerAddr: case Kind::ServerPort: case Kind::ServerName:
    case Kind::ArgsCombinedSize: case Kind::FilesCombinedSize: case Kind::FilesSizes: case Kind::FullRequest:
    case Kind::FullRequestLength: case Kind::RequestBodyLength: case Kind::PathInfo: case Kind::AuthType:
    case Kind::RemoteUser: case Kind::ReqbodyError: case Kind::ReqbodyErrorMsg: case Kind::ReqbodyProcessor:
    case Kind::ReqbodyProcessorError: case Kind::ReqbodyProcessorErrorMsg: case Kind::UrlencodedError:
    case Kind::InboundDataError: case Kind::MultipartBoundaryQuoted: case Kind::MultipartBoundaryWhitespace:
    case Kind::MultipartCrlfLfLines: case Kind::MultipartDataAfter: case Kind::MultipartDataBefore:
    case Kind::MultipartFileLimitExceeded: case Kind::MultipartHeaderFolding:
    case Kind::MultipartInvalidHeaderFolding: case Kind::MultipartInvalidPart: case Kind::MultipartInvalidQuoting:
    case Kind::MultipartLfLine: case Kind::MultipartMissingSemicolon: case Kind::MultipartStrictError:
    case Kind::MultipartUnmatchedBoundary:
      return true;
    default:
      return false;
  }
}

std::string_view collectionName(Kind k) {
  switch (k) {
    case Kind::Tx: return "tx";
    case Kind::Ip: return "ip";
    case Kind::Session: return "session";
    case Kind::User: return "user";
    case Kind::Global: return "global";
    case Kind::Resource: return "resource";
    default: return "";
  }
}

}  // namespace variables

namespace {

// No selector: every key of the variable (most targets).
// A collection variable's name as written (the key when written in lower case).
// A key stays readable for the transaction: the nodes come from its arena,
// which frees nothing before the end.
std::string_view nameOf(const Collection::Item& kv) {
  return kv.second.p->name.empty() ? std::string_view(kv.first) : std::string_view(kv.second.p->name);
}

bool selectsAll(const CompiledVar& v) { return !v.selector_re && v.selector.empty(); }

bool keyMatches(const CompiledVar& v, std::string_view key) {
  if (selectsAll(v)) return true;
  if (v.selector_re) return v.selector_re->matches(key);  // a leading literal is tested first (match/regex.h)
  return iequals(key, v.selector_lower);
}

void addOne(std::string_view coll, const KV& kv, bool names, std::vector<VarValue>& out) {
  ValueSlot& slot = names ? kv.name_slot : kv.value_slot;
  out.emplace_back(coll, kv.name, names ? kv.name : kv.value, true, slot.cls, &slot);
}

void addList(const CompiledVar& v, std::string_view coll, const std::vector<KV>& list, bool names,
             std::vector<VarValue>& out) {
  const bool all = selectsAll(v);
  // A literal key (REQUEST_HEADERS:User-Agent, ~20 lists a request): most
  // names differ in length, told apart by iequals without a call per name.
  const bool literal = !all && !v.selector_re;
  for (const auto& kv : list) {
    if (literal ? !iequals(kv.name, v.selector_lower) : !all && !keyMatches(v, kv.name)) continue;
    addOne(coll, kv, names, out);
  }
}

}  // namespace

// As resolveTargets takes an exclusion's values away: same variable, a key it selects.
bool Transaction::Impl::excludedFrom(const CompiledRule& link, const VarValue& t) {
  for (const auto& v : link.vars)
    if (v.exclude && !v.count && iequals(v.name, t.coll) && keyMatches(v, t.key)) return true;
  return false;
}

void Transaction::Impl::collect(const CompiledVar& v, std::vector<VarValue>& out) {
  using K = variables::Kind;
  const std::string_view n = v.name;  // canonical name, used as the collection label
  auto scalar = [&](std::string_view value, bool stable) { out.emplace_back(n, std::string_view(), value, stable); };
  auto num = [&](int64_t x) { scalar(keepNumber(x), false); };
  auto flag = [&](int x) { scalar(x ? "1" : "0", true); };
  // Asked by the MULTIPART_* cases only (a string compare on every call otherwise).
  auto multipart = [&] { return body_processed && reqbody_processor == "MULTIPART"; };
  if (!variables::replayable(v.kind)) replay_taint = true;  // (its phases not recorded: RequestReplay)
  if (!lists_prepared || body_pending || path_pending) [[unlikely]] prepareForCollect();
  switch (v.kind) {
    case K::Args:
      addList(v, n, args_get, false, out);
      addList(v, n, args_post, false, out);
      break;
    case K::ArgsGet: addList(v, n, args_get, false, out); break;
    case K::ArgsPost: addList(v, n, args_post, false, out); break;
    case K::ArgsNames:
      addList(v, n, args_get, true, out);
      addList(v, n, args_post, true, out);
      break;
    case K::ArgsGetNames: addList(v, n, args_get, true, out); break;
    case K::ArgsPostNames: addList(v, n, args_post, true, out); break;
    case K::RequestCookies: addList(v, n, cookies, false, out); break;
    case K::RequestCookiesNames: addList(v, n, cookies, true, out); break;
    case K::RequestHeaders:
    case K::RequestHeadersNames: {
      const bool names = v.kind == K::RequestHeadersNames;
      if (v.header_key >= 0 && request_prepared) {  // its one header, looked up once a request
        if (const uint32_t at = ws->header_at[size_t(v.header_key)]) addOne(n, req_headers[at - 1u], names, out);
        break;
      }
      addList(v, n, req_headers, names, out);
      break;
    }
    case K::ResponseHeaders: addList(v, n, resp_headers, false, out); break;
    case K::ResponseHeadersNames: addList(v, n, resp_headers, true, out); break;
    case K::Files:
      for (auto& f : body_result.files)
        if (keyMatches(v, f.field_name)) out.emplace_back(n, f.field_name, f.filename, true);
      break;
    case K::FilesNames:
      for (auto& f : body_result.files)
        if (keyMatches(v, f.field_name)) out.emplace_back(n, f.field_name, f.field_name, true);
      break;
    case K::FilesSizes:
      for (auto& f : body_result.files)
        if (keyMatches(v, f.field_name)) out.emplace_back(n, f.field_name, keepNumber(int64_t(f.size)), false);
      break;
    case K::FilesTmpNames:
    case K::FilesTmpContent:
    case K::Geo:
      break;
    case K::MultipartPartHeaders:
      for (auto& h : body_result.part_headers)
        if (keyMatches(v, h.name)) out.emplace_back(n, h.name, h.value, true);
      break;
    case K::MultipartFilename:
      for (auto& s : body_result.multipart_filenames) out.emplace_back(n, std::string_view(), s, true);
      break;
    case K::MultipartName:
      for (auto& s : body_result.multipart_names) out.emplace_back(n, std::string_view(), s, true);
      break;
    case K::Tx:
    case K::Ip:
    case K::Session:
    case K::User:
    case K::Global:
    case K::Resource: {
      const Collection* c = txIfMade();  // TX (null: no TX yet)
      if (v.kind != K::Tx) {
        auto it = collections.find(variables::collectionName(v.kind));
        c = it == collections.end() ? nullptr : &it->second;
      }
      if (!c) break;
      if (!v.selector.empty() && !v.selector_re) {
        const Collection::Item* e = c->find(v.selector_lower);
        if (e && e->second.p) {
          if (pin_values) pins.push_back(e->second.p);
          out.emplace_back(n, nameOf(*e), e->second.p->value, false);
        }
        break;
      }
      // In key order. The keys are in lower case: a selector anchored on a
      // literal (caseless, so that literal is in lower case too) can only
      // match the keys that begin with it.
      const std::string_view pre = v.selector_re ? v.selector_re->anchoredLiteral() : std::string_view();
      const bool prefix_decides = !pre.empty() && v.selector_re->onlyAnchoredLiteral();  // (920450's chain)
      auto selects = [&](const Collection::Item& it) {
        return it.second.p && (prefix_decides || keyMatches(v, nameOf(it)));
      };
      auto emit = [&](const Collection::Item& it) {
        if (pin_values) pins.push_back(it.second.p);
        out.emplace_back(n, nameOf(it), it.second.p->value, false);
      };
      // A TX that began as tx_init: the selector's matches among its items are
      // known (a caseless selector matches a key as it matches its spelling).
      if (v.tx_init_known && from_tx_init && c == txIfMade()) {
        c->forEachSortedFrom(
            v.tx_init_hits, eng->tx_init.itemCount(), pre, coll_items,
            [](const Collection::Item& it) { return it.second.p != nullptr; }, selects, emit);
        break;
      }
      c->forEachSorted(pre, coll_items, selects, emit);
      break;
    }
    case K::Env:
      for (auto& [k, val] : env)
        if (keyMatches(v, k)) out.emplace_back(n, keep(k), keep(val), false);
      break;
    case K::Rule: {
      if (!current_head) break;
      auto add = [&](std::string_view key, std::string value) {
        if (keyMatches(v, key)) out.emplace_back(n, key, keep(std::move(value)), false);
      };
      add("id", std::to_string(current_head->id));
      add("msg", current_head->msg);
      add("rev", current_head->rev);
      add("ver", current_head->ver);
      add("severity", current_head->severity >= 0 ? std::to_string(current_head->severity) : "");
      add("logdata", current_head->logdata);
      add("phase", std::to_string(current_head->phase));
      add("maturity", current_head->maturity);
      add("accuracy", current_head->accuracy);
      break;
    }
    case K::MatchedVars:
      for (auto& [name, value] : matched_vars)
        if (keyMatches(v, name)) out.emplace_back(n, keep(name), keep(value), false);
      break;
    case K::MatchedVarsNames:
      for (auto& [name, value] : matched_vars)
        if (keyMatches(v, name)) out.emplace_back(n, keep(name), keep(name), false);
      break;
    case K::Xml: {
#ifdef RAMPART_HAVE_XPATH
      if (!body_result.xml_doc) break;
      // Evaluated once per path: the document does not change once parsed, and
      // the values stay for the transaction (target lists view them).
      std::string xpath = v.selector.empty() ? "/*" : v.selector;
      auto it = xpath_values.find(xpath);
      if (it == xpath_values.end()) it = xpath_values.emplace(xpath, body::evaluateXPath(body_result, xpath)).first;
      for (const auto& s : it->second) out.emplace_back(n, std::string_view(), s, false);
#endif
      break;
    }
    case K::ArgsCombinedSize: {
      int64_t total = 0;
      for (auto& a : args_get) total += a.name.size() + a.value.size();
      for (auto& a : args_post) total += a.name.size() + a.value.size();
      num(total);
      break;
    }
    case K::FilesCombinedSize: {
      int64_t total = 0;
      for (auto& f : body_result.files) total += f.size;
      num(total);
      break;
    }
    case K::FullRequest:
    case K::FullRequestLength: {
      std::string full = request_line + "\r\n";
      for (auto& h : req_headers) {
        full.append(h.name).append(": ").append(h.value).append("\r\n");
      }
      full += "\r\n";
      full += req_body;
      if (v.kind == K::FullRequest) scalar(keep(std::move(full)), false);
      else num(static_cast<int64_t>(full.size()));
      break;
    }
    case K::QueryString:
      if (uri_raw.find('?') != std::string_view::npos) scalar(query_string, true);
      break;
    case K::RemoteAddr:
    case K::RemoteHost: scalar(client_ip, true); break;
    case K::RemotePort: num(client_port); break;
    case K::RemoteUser:
    case K::AuthType:
    case K::PathInfo:
    case K::WebserverErrorLog:
      break;
    case K::ServerAddr: scalar(server_ip, true); break;
    case K::ServerPort: num(server_port); break;
    case K::ServerName: scalar(server_name, true); break;
    case K::RequestBasename: scalar(path_decoded ? decoded_basename : request_basename, true); break;
    case K::RequestFilename: scalar(path_decoded ? decoded_filename : request_filename, true); break;
    case K::RequestBody:
      if (body_processed && (reqbody_processor == "URLENCODED" || force_body_variable) && !req_body.empty())
        scalar(req_body, true);
      break;
    case K::RequestBodyLength: num(static_cast<int64_t>(req_body.size())); break;
    case K::RequestLine: scalar(request_line, true); break;
    case K::RequestMethod: scalar(method, true); break;
    case K::RequestProtocol: scalar(protocol, true); break;
    case K::RequestUri: scalar(path_decoded ? decoded_uri : request_uri, true); break;
    case K::RequestUriRaw: scalar(uri_raw, true); break;
    case K::ReqbodyError:
    case K::ReqbodyProcessorError: flag(reqbody_error); break;
    case K::ReqbodyErrorMsg:
    case K::ReqbodyProcessorErrorMsg: scalar(reqbody_error_msg, true); break;
    case K::ReqbodyProcessor: scalar(keep(reqbody_processor), false); break;  // ctl may change it
    case K::UrlencodedError: flag(reqbody_processor == "URLENCODED" && reqbody_error); break;
    case K::InboundDataError: flag(inbound_data_error); break;
    case K::OutboundDataError: flag(outbound_data_error); break;
#define RAMPART_MP_FLAG(kind, field) \
  case K::kind:                      \
    if (multipart()) flag(body_result.multipart.field); \
    break;
      RAMPART_MP_FLAG(MultipartBoundaryQuoted, boundary_quoted)
      RAMPART_MP_FLAG(MultipartBoundaryWhitespace, boundary_whitespace)
      RAMPART_MP_FLAG(MultipartCrlfLfLines, crlf_lf_lines)
      RAMPART_MP_FLAG(MultipartDataAfter, data_after)
      RAMPART_MP_FLAG(MultipartDataBefore, data_before)
      RAMPART_MP_FLAG(MultipartFileLimitExceeded, file_limit_exceeded)
      RAMPART_MP_FLAG(MultipartHeaderFolding, header_folding)
      RAMPART_MP_FLAG(MultipartInvalidHeaderFolding, invalid_header_folding)
      RAMPART_MP_FLAG(MultipartInvalidPart, invalid_part)
      RAMPART_MP_FLAG(MultipartInvalidQuoting, invalid_quoting)
      RAMPART_MP_FLAG(MultipartLfLine, lf_line)
      RAMPART_MP_FLAG(MultipartMissingSemicolon, missing_semicolon)
      RAMPART_MP_FLAG(MultipartUnmatchedBoundary, unmatched_boundary)
#undef RAMPART_MP_FLAG
    case K::MultipartStrictError:
      if (multipart()) {
        const auto& m = body_result.multipart;
        flag(m.strict_error || m.boundary_quoted || m.boundary_whitespace || m.data_before || m.data_after ||
             m.header_folding || m.lf_line || m.missing_semicolon || m.invalid_quoting || m.invalid_part ||
             m.invalid_header_folding || m.file_limit_exceeded || reqbody_error);
      }
      break;
    case K::ResponseBody:
      if (response_body_access && !resp_body.empty()) scalar(resp_body, true);
      break;
    case K::ResponseContentLength:
    case K::ResponseContentType: {
      std::string_view want = v.kind == K::ResponseContentType ? "content-type" : "content-length";
      for (auto& h : resp_headers)
        if (iequals(h.name, want)) {
          scalar(h.value, true);
          break;
        }
      break;
    }
    case K::ResponseProtocol: scalar(response_protocol, true); break;
    case K::ResponseStatus:
      if (response_status) num(response_status);
      break;
    case K::StatusLine:
      if (response_status)
        scalar(keep(std::string(response_protocol) + " " + std::to_string(response_status) +
                    (response_status_text.empty() ? "" : " " + response_status_text)),
               false);
      break;
    case K::Time:
    case K::TimeDay:
    case K::TimeEpoch:
    case K::TimeHour:
    case K::TimeMin:
    case K::TimeMon:
    case K::TimeSec:
    case K::TimeWday:
    case K::TimeYear: {
      std::time_t t = std::time(nullptr);
      std::tm tm{};
      localtime_r(&t, &tm);
      char buf[32];
      switch (v.kind) {
        case K::Time: std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec); break;
        case K::TimeDay: std::snprintf(buf, sizeof buf, "%d", tm.tm_mday); break;
        case K::TimeEpoch: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(t)); break;
        case K::TimeHour: std::snprintf(buf, sizeof buf, "%d", tm.tm_hour); break;
        case K::TimeMin: std::snprintf(buf, sizeof buf, "%d", tm.tm_min); break;
        case K::TimeMon: std::snprintf(buf, sizeof buf, "%d", tm.tm_mon); break;
        case K::TimeSec: std::snprintf(buf, sizeof buf, "%d", tm.tm_sec); break;
        case K::TimeWday: std::snprintf(buf, sizeof buf, "%d", tm.tm_wday); break;
        default: std::snprintf(buf, sizeof buf, "%d", tm.tm_year + 1900); break;
      }
      scalar(keep(buf), false);
      break;
    }
    case K::Duration:
      num(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now() - start).count());
      break;
    case K::HighestSeverity: num(highest_severity); break;
    case K::MatchedVar: scalar(keep(std::string(matchedVar())), false); break;
    case K::MatchedVarName: scalar(keep(std::string(matchedVarName())), false); break;
    case K::UniqueId: scalar(unique_id, true); break;
    case K::UserId:
    case K::SessionId: {
      const std::string& id = v.kind == K::UserId ? user_id : session_id;
      if (!id.empty()) scalar(id, false);
      break;
    }
    case K::Webappid: scalar("default", true); break;
    case K::Unknown:
      break;
  }
}

}  // namespace rampart::waf
