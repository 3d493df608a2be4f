// `rampart waf tune --audit FILE`: proposes the narrowest exclusions that would
// have silenced the blocking decisions recorded in a WAF audit log (gathered in
// detect mode on real traffic), as YAML for the routes' `waf.exclusions` or as
// SecLang, for an operator to review.
//
// Narrowest first: every proposal is one rule x one target (the variable that
// matched, e.g. ARGS:q) x a path: the exact path when it fired on one path of a
// directory, else the longest common prefix, on segment boundaries, of the paths
// where it fired in that directory. A rule is
// never proposed for removal as a whole: when the matched variable is internal
// (TX:..., a rule that scores collected data) the proposal is the rule on the
// path prefix, never route-wide. Anomaly evaluation and reporting rules (tags
// anomaly-evaluation, reporting) are not proposed: they follow from the others.
// Proposals are ranked by the number of requests they cover.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gateway/cli/waf_commands.h"

namespace rampart::cli {

namespace {

int usageError(const std::string& msg) {
  std::fprintf(stderr, "rampart waf tune: %s\n", msg.c_str());
  std::fputs(
      "usage: rampart waf tune --audit FILE [--format yaml|seclang] [--min-requests N]\n"
      "  reads WAF audit events (JSON lines, as rampart writes them) and prints the narrowest\n"
      "  exclusions (rule x target x path prefix) that would have silenced their blocking\n"
      "  decisions, ranked by the requests they cover; --min-requests drops rarer ones (default 1)\n",
      stderr);
  return 2;
}

struct Key {
  std::string route;
  int64_t rule = 0;
  std::string target;  // "ARGS:q"; empty for internal variables (whole rule on the path)
  bool operator<(const Key& o) const {
    return std::tie(route, rule, target) < std::tie(o.route, o.rule, o.target);
  }
};

struct Proposal {
  Key key;
  std::string prefix;
  bool exact = false;  // `prefix` is one path: proposed as path_exact
  size_t requests = 0;
  std::string example;  // one URI it covers
};

std::string pathOf(std::string_view uri) {
  auto q = uri.find('?');
  return std::string(uri.substr(0, q));
}

// Longest common prefix of the paths ending at a '/' boundary, or a whole path when all are equal.
std::string commonPrefix(const std::vector<std::string>& paths) {
  std::string p = paths.front();
  for (auto& x : paths) {
    size_t i = 0;
    while (i < p.size() && i < x.size() && p[i] == x[i]) ++i;
    p.resize(i);
  }
  bool all_equal = std::all_of(paths.begin(), paths.end(), [&](const std::string& x) { return x == p; });
  if (all_equal && !p.empty()) return p;
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "/" : p.substr(0, slash + 1);
}

// The directory a path is in ("/a/b/c" -> "/a/b/"): paths of one directory are one
// proposal (their common prefix), a path alone in its directory is its own.
std::string directoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "/" : path.substr(0, slash + 1);
}

bool internalVariable(std::string_view var) {
  return var.empty() || var.rfind("TX:", 0) == 0 || var.rfind("TX", 0) == 0 || var.rfind("MATCHED_VAR", 0) == 0;
}

// Targets as SecLang writes them: the collection upper case, the key as matched.
std::string targetOf(std::string_view var) {
  auto colon = var.find(':');
  if (colon == std::string_view::npos) return std::string(var);
  return std::string(var.substr(0, colon)) + ":" + std::string(var.substr(colon + 1));
}

std::string yamlQuote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

}  // namespace

int wafTuneMain(int argc, char** argv) {
  std::string audit, format = "yaml";
  size_t min_requests = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--audit" && i + 1 < argc) {
      audit = argv[++i];
    } else if (a == "--format" && i + 1 < argc) {
      format = argv[++i];
      if (format != "yaml" && format != "seclang") return usageError("--format is yaml or seclang");
    } else if (a == "--min-requests" && i + 1 < argc) {
      min_requests = size_t(std::max(1, std::atoi(argv[++i])));
    } else if (a == "-h" || a == "--help") {
      usageError("help");
      return 0;
    } else {
      return usageError("unknown or incomplete argument: " + a);
    }
  }
  if (audit.empty()) return usageError("--audit FILE is required");
  std::ifstream in(audit, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "rampart waf tune: cannot read %s: %s\n", audit.c_str(), std::strerror(errno));
    return 2;
  }

  // (route, rule, target) -> path -> request ids
  std::map<Key, std::map<std::string, std::set<std::string>>> seen;
  std::map<std::string, std::string> example_uri;  // path -> a URI
  size_t events = 0, deciding = 0, bad = 0, lineno = 0;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] != '{') continue;
    simdjson::dom::element ev;
    if (parser.parse(line).get(ev)) {
      ++bad;
      continue;
    }
    std::string_view type, action, route, uri, rid;
    if (ev["type"].get(type) || type != "waf") continue;
    ++events;
    if (ev["action"].get(action)) continue;
    if (action == "pass" || action == "allow") continue;  // nothing was (or would have been) blocked
    ++deciding;
    if (ev["route"].get(route)) route = "";
    if (ev["uri"].get(uri)) uri = "/";
    if (ev["request_id"].get(rid)) rid = "";
    std::string path = pathOf(uri);
    example_uri.emplace(path, std::string(uri));
    simdjson::dom::array matches;
    if (ev["matches"].get(matches)) continue;
    for (auto m : matches) {
      int64_t id = 0, phase = 0;
      if (m["id"].get(id)) continue;
      if (!m["phase"].get(phase) && phase == 5) continue;
      bool skip = false;
      simdjson::dom::array tags;
      if (!m["tags"].get(tags))
        for (auto t : tags) {
          std::string_view tv;
          if (!t.get(tv) && (tv == "anomaly-evaluation" || tv == "reporting")) skip = true;
        }
      if (skip) continue;
      std::string_view var;
      if (m["variable"].get(var)) var = "";
      Key k{std::string(route), id, internalVariable(var) ? std::string() : targetOf(var)};
      seen[k][path].insert(std::string(rid));
    }
  }
  if (bad) std::fprintf(stderr, "rampart waf tune: %zu lines of %s are not JSON; skipped\n", bad, audit.c_str());

  std::vector<Proposal> props;
  for (auto& [key, by_path] : seen) {
    // Group paths by directory, then the narrowest prefix of each group.
    std::map<std::string, std::vector<std::string>> groups;
    for (auto& [path, ids] : by_path) groups[directoryOf(path)].push_back(path);
    for (auto& [seg, paths] : groups) {
      Proposal p;
      p.key = key;
      p.prefix = commonPrefix(paths);
      p.exact = paths.size() == 1;
      std::set<std::string> ids;
      for (auto& path : paths) ids.insert(by_path[path].begin(), by_path[path].end());
      p.requests = ids.size();
      p.example = example_uri[paths.front()];
      if (p.requests >= min_requests) props.push_back(std::move(p));
    }
  }
  std::sort(props.begin(), props.end(), [](const Proposal& a, const Proposal& b) {
    return a.requests != b.requests ? a.requests > b.requests : a.key < b.key;
  });

  std::printf("# rampart waf tune: %zu proposals from %zu audit events (%zu with a blocking decision) in %s\n",
              props.size(), events, deciding, audit.c_str());
  std::printf("# Review each one: an exclusion also silences a real attack on that target and path.\n");
  if (props.empty()) return 0;
  if (format == "yaml") {
    std::map<std::string, std::vector<const Proposal*>> by_route;
    for (auto& p : props) by_route[p.key.route].push_back(&p);
    std::printf("routes:\n");
    for (auto& [route, list] : by_route) {
      std::printf("  - name: %s   # add to this route's waf.exclusions\n", yamlQuote(route).c_str());
      std::printf("    waf:\n      exclusions:\n");
      for (const Proposal* p : list) {
        std::string targets = p->key.target.empty() ? "" : fmt::format(", targets: [{}]", yamlQuote(p->key.target));
        std::printf("        - { rule_ids: [\"%lld\"]%s, %s: %s }   # %zu request(s), e.g. %s\n",
                    (long long)p->key.rule, targets.c_str(), p->exact ? "path_exact" : "path_prefix",
                    yamlQuote(p->prefix).c_str(), p->requests, p->example.c_str());
      }
    }
  } else {
    int64_t id = 7790000;
    for (auto& p : props) {
      std::string ctl = p.key.target.empty() ? fmt::format("ctl:ruleRemoveById={}", p.key.rule)
                                             : fmt::format("ctl:ruleRemoveTargetById={};{}", p.key.rule, p.key.target);
      std::printf("# route %s: %zu request(s), e.g. %s\n", p.key.route.c_str(), p.requests, p.example.c_str());
      std::printf("SecRule REQUEST_FILENAME \"%s %s\" \"id:%lld,phase:1,pass,nolog,t:none,%s\"\n",
                  p.exact ? "@streq" : "@beginsWith", p.prefix.c_str(), (long long)id++, ctl.c_str());
    }
  }
  return 0;
}

}  // namespace rampart::cli
