// Variables (ARGS, REQUEST_HEADERS, TX, ...): the names SecLang rules may
// target, each resolved per transaction into (collection, key, value) items.
// This header names them; variables.cc resolves them against a transaction.
//
//   SecRule ARGS:/^id_/|!ARGS:id_ok|&REQUEST_HEADERS:Host ...
//
// v2 semantics kept here: selectors on collections match keys
// case-insensitively (both literal and /regex/), exclusions remove items added
// by earlier targets of the same rule, &VAR counts items.
#pragma once

#include <cstdint>
#include <string_view>

namespace rampart::waf::variables {

enum class Kind : uint8_t {
  Unknown,
  // collections (key -> value)
  Args, ArgsGet, ArgsPost, ArgsNames, ArgsGetNames, ArgsPostNames,
  RequestCookies, RequestCookiesNames, RequestHeaders, RequestHeadersNames,
  ResponseHeaders, ResponseHeadersNames,
  Files, FilesNames, FilesSizes, FilesTmpNames, FilesTmpContent,
  MultipartPartHeaders, MultipartFilename, MultipartName,
  Tx, Ip, Session, User, Global, Resource, Env, Geo, Rule,
  MatchedVars, MatchedVarsNames, Xml,
  // scalars
  ArgsCombinedSize, FilesCombinedSize, FullRequest, FullRequestLength,
  QueryString, RemoteAddr, RemotePort, RemoteHost, RemoteUser, ServerAddr, ServerPort, ServerName,
  RequestBasename, RequestBody, RequestBodyLength, RequestFilename, RequestLine, RequestMethod,
  RequestProtocol, RequestUri, RequestUriRaw, PathInfo, AuthType,
  ReqbodyError, ReqbodyErrorMsg, ReqbodyProcessor, ReqbodyProcessorError, ReqbodyProcessorErrorMsg,
  UrlencodedError, InboundDataError, OutboundDataError,
  MultipartBoundaryQuoted, MultipartBoundaryWhitespace, MultipartCrlfLfLines, MultipartDataAfter,
  MultipartDataBefore, MultipartFileLimitExceeded, MultipartHeaderFolding, MultipartInvalidHeaderFolding,
  MultipartInvalidPart, MultipartInvalidQuoting, MultipartLfLine, MultipartMissingSemicolon,
  MultipartStrictError, MultipartUnmatchedBoundary,
  ResponseBody, ResponseContentLength, ResponseContentType, ResponseProtocol, ResponseStatus, StatusLine,
  Time, TimeDay, TimeEpoch, TimeHour, TimeMin, TimeMon, TimeSec, TimeWday, TimeYear, Duration,
  HighestSeverity, MatchedVar, MatchedVarName, UniqueId, WebserverErrorLog, UserId, SessionId, Webappid,
};

// Canonical upper-case name -> kind; Unknown when not a variable we know.
Kind lookup(std::string_view upper_name);
bool isCollection(Kind k);
// For persistent-style collections (TX, IP, ...): the lower-case collection name, else "".
std::string_view collectionName(Kind k);
// The variables whose values come from the request line, the request's
// headers and the connection alone: they hold the same from phase 1 to the
// request's end (not REQUEST_URI, REQUEST_FILENAME or REQUEST_BASENAME, which
// phase 2 reads decoded, nor ARGS, which the body adds to).
bool fixedByHead(Kind k);
// The variables whose values in phases 1 and 2 are a function of the
// request's bytes alone: its line, its headers and, in phase 2, its body as
// the transaction read it (the body processor, requestBodyAccess and
// forceRequestBodyVariable as phase 2 began); not the connection's
// addresses, TX, the clock.
bool fromRequest(Kind k);
// The variables whose values in phases 1 and 2 follow from the request's
// bytes, the connection's addresses (not the client's port) and what the
// rules did before (TX, MATCHED_*, HIGHEST_SEVERITY, RULE): a request that a
// rule reads anything else of (the clock, UNIQUE_ID, REMOTE_PORT, ENV, the
// persistent collections) cannot have its phases replayed
// (Transaction::Impl::RequestReplay).
bool replayable(Kind k);

}  // namespace rampart::waf::variables
