#include "gateway/router/router.h"

#include <re2/re2.h>

#include <algorithm>

namespace rampart::gateway::router {

namespace {
bool iequalsAscii(std::string_view a, std::string_view b) { return http::iequals(a, b); }

std::string_view stripPort(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}
}  // namespace

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && iequalsAscii(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequalsAscii(pattern, host);
}

const config::Route* select(const config::Config& cfg, std::string_view listener, std::string_view host,
                            std::string_view path, const http::RequestHead& req,
                            std::string_view client_subject, std::string_view client_fingerprint) {
  std::string_view h = stripPort(host);
  for (const auto& r : cfg.routes) {
    if (!r.listeners.empty() &&
        std::find(r.listeners.begin(), r.listeners.end(), listener) == r.listeners.end())
      continue;
    if (!r.hosts.empty() &&
        std::none_of(r.hosts.begin(), r.hosts.end(), [&](const std::string& p) { return hostMatches(p, h); }))
      continue;
    switch (r.path.kind) {
      case config::PathMatch::Kind::Any: break;
      case config::PathMatch::Kind::Exact:
        if (path != r.path.value) continue;
        break;
      case config::PathMatch::Kind::Prefix:
        if (path.substr(0, r.path.value.size()) != r.path.value) continue;
        break;
      case config::PathMatch::Kind::Regex:
        if (!re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *r.path.regex)) continue;
        break;
    }
    if (!r.methods.empty() &&
        std::find(r.methods.begin(), r.methods.end(), req.method) == r.methods.end())
      continue;
    bool ok = true;
    for (const auto& hm : r.headers) {
      const http::Header* found = req.find(hm.name);
      switch (hm.kind) {
        case config::HeaderMatch::Kind::Present: ok = found != nullptr; break;
        case config::HeaderMatch::Kind::Absent: ok = found == nullptr; break;
        case config::HeaderMatch::Kind::Exact: ok = found && found->value == hm.value; break;
        case config::HeaderMatch::Kind::Regex:
          ok = found && re2::RE2::FullMatch(re2::StringPiece(found->value.data(), found->value.size()), *hm.regex);
          break;
      }
      if (!ok) break;
    }
    if (!ok) continue;
    if (const auto& cm = r.client_certificate) {
      switch (cm->kind) {
        case config::HeaderMatch::Kind::Present: ok = !client_subject.empty(); break;
        case config::HeaderMatch::Kind::Absent: ok = client_subject.empty(); break;
        case config::HeaderMatch::Kind::Exact: ok = !client_subject.empty() && client_subject == cm->value; break;
        case config::HeaderMatch::Kind::Regex:
          ok = !client_subject.empty() &&
               re2::RE2::FullMatch(re2::StringPiece(client_subject.data(), client_subject.size()), *cm->regex);
          break;
      }
      if (!ok) continue;
      if (!r.client_fingerprint.empty() && client_fingerprint != r.client_fingerprint) continue;
    }
    return &r;
  }
  return nullptr;
}

}  // namespace rampart::gateway::router
