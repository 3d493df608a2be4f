// Route selection: the first route (in configuration order) whose match holds.
// Host matching ignores case and port; "*.example.com" matches any name that
// ends in ".example.com" (not the bare domain).
#pragma once

#include <string_view>

#include "gateway/config/config.h"
#include "gateway/http/parser.h"

namespace rampart::gateway::router {

// `path` is the request path without the query string. Returns nullptr when no route matches.
const config::Route* select(const config::Config& cfg, std::string_view listener, std::string_view host,
                            std::string_view path, const http::RequestHead& req,
                            std::string_view client_subject = {}, std::string_view client_fingerprint = {});

bool hostMatches(std::string_view pattern, std::string_view host);

}  // namespace rampart::gateway::router
