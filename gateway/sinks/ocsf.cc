#include "gateway/sinks/ocsf.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <ctime>

#include "gateway/log/json.h"

namespace rampart::gateway::sinks {

namespace {

// OCSF HTTP Activity activity_id by method.
std::pair<int, const char*> activity(std::string_view method) {
  static constexpr std::pair<std::string_view, std::pair<int, const char*>> kMap[] = {
      {"CONNECT", {1, "Connect"}}, {"DELETE", {2, "Delete"}}, {"GET", {3, "Get"}},   {"HEAD", {4, "Head"}},
      {"OPTIONS", {5, "Options"}}, {"POST", {6, "Post"}},     {"PUT", {7, "Put"}},   {"TRACE", {8, "Trace"}}};
  for (const auto& [m, a] : kMap)
    if (m == method) return a;
  return {99, "Other"};
}

// "2026-12-03T13:26:11.378Z" -> Unix ms (0 when malformed).
int64_t isoToMs(std::string_view t) {
  std::tm tm{};
  int ms = 0;
  if (t.size() < 24 || std::sscanf(std::string(t).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t(timegm(&tm)) * 1000 + ms;
}

}  // namespace

std::optional<std::string> auditToOcsf(std::string_view line) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(line.data(), line.size()).get(e) != simdjson::SUCCESS) return std::nullopt;
  std::string_view type;
  if (e["type"].get(type) != simdjson::SUCCESS || type != "waf") return std::nullopt;
  auto s = [&](const char* k) {
    std::string_view v;
    return e[k].get(v) == simdjson::SUCCESS ? v : std::string_view();
  };
  int64_t status = 0;
  if (e["status"].get(status) != simdjson::SUCCESS) status = 0;
  const std::string_view action = s("action"), method = s("method"), uri = s("uri"), client = s("client");
  const bool blocked = action != "pass" && action != "detected";
  const auto [act_id, act_name] = activity(method);
  // client "ip:port" or "[v6]:port"
  std::string_view ip = client, port;
  if (auto colon = client.rfind(':'); colon != std::string_view::npos) {
    ip = client.substr(0, colon);
    port = client.substr(colon + 1);
    if (ip.size() >= 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  }
  const auto q = uri.find('?');
  int64_t rule_id = 0;
  simdjson::dom::element decision;
  const bool decided = e["decision"].get(decision) == simdjson::SUCCESS &&
                       decision["rule_id"].get(rule_id) == simdjson::SUCCESS;
  std::string rule_msg;
  simdjson::dom::array matches;
  if (e["matches"].get(matches) == simdjson::SUCCESS)
    for (auto m : matches) {
      int64_t id = 0;
      std::string_view msg;
      if (m["id"].get(id) == simdjson::SUCCESS && id == rule_id && m["msg"].get(msg) == simdjson::SUCCESS)
        rule_msg = std::string(msg);
    }

  std::string o;
  o.reserve(line.size() + 512);
  fmt::format_to(std::back_inserter(o),
                 "{{\"class_uid\":4002,\"class_name\":\"HTTP Activity\",\"category_uid\":4,"
                 "\"category_name\":\"Network Activity\",\"activity_id\":{},\"activity_name\":\"{}\","
                 "\"type_uid\":{},\"time\":{},",
                 act_id, act_name, 400200 + act_id, isoToMs(s("time")));
  // Security Control profile: what the WAF did.
  fmt::format_to(std::back_inserter(o),
                 "\"action_id\":{},\"action\":\"{}\",\"disposition_id\":{},\"disposition\":\"{}\","
                 "\"severity_id\":{},\"severity\":\"{}\",\"status_id\":1,\"status\":\"Success\",",
                 blocked ? 2 : 1, blocked ? "Denied" : "Allowed", blocked ? 2 : (action == "detected" ? 15 : 1),
                 blocked ? "Blocked" : (action == "detected" ? "Detected" : "Allowed"),
                 blocked ? 4 : (action == "detected" ? 3 : 1),
                 blocked ? "High" : (action == "detected" ? "Medium" : "Informational"));
  o += "\"metadata\":{\"version\":\"1.1.0\",\"product\":{\"name\":\"rampart\",\"vendor_name\":\"rampart\"},";
  log::appendJsonField(o, "uid", s("request_id"));
  o += "},\"http_request\":{";
  log::appendJsonField(o, "http_method", method);
  o += ",\"url\":{";
  log::appendJsonField(o, "hostname", s("host"));
  o += ',';
  log::appendJsonField(o, "path", uri.substr(0, q));
  if (q != std::string_view::npos) {
    o += ',';
    log::appendJsonField(o, "query_string", uri.substr(q + 1));
  }
  o += ',';
  log::appendJsonField(o, "url_string", uri);
  o += "},";
  log::appendJsonField(o, "uid", s("request_id"));
  o += "},";
  fmt::format_to(std::back_inserter(o), "\"http_response\":{{\"code\":{}}},", status);
  o += "\"src_endpoint\":{";
  log::appendJsonField(o, "ip", ip);
  if (!port.empty()) fmt::format_to(std::back_inserter(o), ",\"port\":{}", std::atoi(std::string(port).c_str()));
  o += "},";
  if (decided) {
    o += "\"firewall_rule\":{";
    log::appendJsonField(o, "uid", std::to_string(rule_id));
    if (!rule_msg.empty()) {
      o += ',';
      log::appendJsonField(o, "desc", rule_msg);
    }
    o += ',';
    log::appendJsonField(o, "type", "ModSecurity SecRule");
    o += "},";
  }
  o += "\"unmapped\":";
  o.append(line);  // the whole rampart event: matches, anomaly scores, rule set, mode, route
  o += '}';
  return o;
}

}  // namespace rampart::gateway::sinks
