// `rampart waf test --gateway`: the go-ftw tests through the real gateway over
// HTTP, as go-ftw runs them against a web server. A CRS reflector backend
// (written here, on a loopback port) answers what the tests ask for; `rampart
// run` (this binary) is started in detect mode in front of it with the rule
// set under test; each stage's raw request is sent on its own connection,
// bytes as built; the fired rule ids come from rampart's audit output.
//
// Log correlation: after each stage a marker request (GET
// /__rampart_ftw_marker, which a rule added to the set logs) goes out on a new
// connection; with one worker the audit events are written in request order,
// so once the marker's event is read, every event of the stage has been too.
// Audit redaction is off in this configuration (tests match on cookie values).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "waf/transaction.h"

namespace rampart::cli::ftw {

class Reflector;

class GatewayRun {
 public:
  GatewayRun();
  ~GatewayRun();
  GatewayRun(const GatewayRun&) = delete;
  GatewayRun& operator=(const GatewayRun&) = delete;

  // settings: SecLang placed before the rule files (the CRS test settings).
  bool start(const std::string& binary, const std::string& settings, const std::vector<std::string>& rules,
             std::string* error);

  struct Result {
    bool error = false;          // no response at all
    std::string note;
    int status = 0;
    std::string response;        // status line + headers + body
    std::string request_id;      // from X-Request-Id
    std::vector<waf::MatchedRule> matches;  // logged matches of this request, from the audit output
  };
  Result send(const std::string& raw);

  const std::string& dir() const { return dir_; }

 private:
  // Reads audit lines until the event of `marker_id` arrives (or a timeout);
  // returns the matches of `request_id`.
  std::vector<waf::MatchedRule> collect(const std::string& request_id, const std::string& marker_id);

  std::string dir_;
  std::string audit_path_;
  size_t audit_offset_ = 0;
  std::string audit_partial_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<Reflector> reflector_;
};

}  // namespace rampart::cli::ftw
