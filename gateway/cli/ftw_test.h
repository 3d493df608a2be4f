// The go-ftw regression-test format (as used by OWASP CRS), read into plain
// data, plus the two side files of `rampart waf test`: go-ftw override files
// and our expected-failures list.
//
// Why here and not in tests/: the runner is a product command (`rampart waf
// test`) so that operators can run the CRS suite, or their own go-ftw tests,
// against their rule set.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rampart::cli::ftw {

struct Input {
  std::optional<std::string> method;   // default GET
  std::optional<std::string> uri;      // default "/"
  std::optional<std::string> version;  // default HTTP/1.1 (an empty string is kept: no version)
  std::vector<std::pair<std::string, std::string>> headers;  // as written
  bool headers_ordered = false;        // from `ordered_headers` (sent in this order), else sorted by name
  std::optional<std::string> data;     // body: `data` (go templates expanded) or base64 `encoded_data`
  std::optional<std::string> encoded_request;  // base64 of the raw request, sent as is
  bool autocomplete_headers = true;
};

struct Output {
  std::vector<long long> expect_ids;
  std::vector<long long> no_expect_ids;
  std::vector<std::string> match_regex;     // each must match the test's log
  std::vector<std::string> no_match_regex;  // none may match
  std::vector<int> status;                  // empty: not checked; else one of these
  std::optional<bool> expect_error;
  std::string response_contains;            // regex on the response (head + body), empty: not checked
};

struct Stage {
  Input input;
  Output output;
};

struct Test {
  std::string file;      // path relative to the tests directory
  long long rule_id = 0;
  std::string test_id;   // as written (an integer in CRS)
  std::string desc;
  std::vector<Stage> stages;
  std::string key() const { return std::to_string(rule_id) + "-" + test_id; }
};

// Reads every *.yaml / *.yml below `dir` (sorted by path). Errors (unreadable
// or malformed files) are appended to `errors` as "file: message"; the other
// files are still read.
std::vector<Test> loadTests(const std::string& dir, std::vector<std::string>& errors);

// Reads one go-ftw test file.
std::vector<Test> loadTestFile(const std::string& path, const std::string& display_name,
                               std::vector<std::string>& errors);

// go-ftw's override file (test_overrides: rule_id, test_ids, reason, output,
// expect_failure). An entry with an `output` replaces the output of every
// stage of the tests it names; `expect_failure: true` marks them as expected to
// fail; an entry with neither skips them (reported as skipped).
struct Override {
  long long rule_id = 0;
  std::vector<std::string> test_ids;  // empty: every test of the rule
  std::string reason;
  std::optional<Output> output;
  bool expect_failure = false;
};
std::vector<Override> loadOverrides(const std::string& path, std::vector<std::string>& errors);

// "RULEID-TESTID  reason" per line; '#' starts a comment; blank lines ignored.
// Returns key -> reason.
std::map<std::string, std::string> loadExpectedFailures(const std::string& path, std::vector<std::string>& errors);

// go-ftw evaluates `data` as a Go text/template with sprig functions. CRS
// uses only `{{ "s" | repeat N }}`; that form is expanded, anything else in
// {{ }} is left as written.
std::string expandTemplates(const std::string& data);

}  // namespace rampart::cli::ftw
