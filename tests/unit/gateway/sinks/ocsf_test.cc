#include "gateway/sinks/ocsf.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace rampart::gateway::sinks {
namespace {

constexpr std::string_view kEvent =
    R"J({"type":"waf","time":"2026-12-03T13:26:11.378Z","request_id":"96bac0a41000001","listener":"main",)J"
    R"J("route":"ok","rule_set":"crs","mode":"block","client":"203.0.113.7:33973","method":"POST",)J"
    R"J("host":"shop.example","uri":"/login?x=1%27--","status":403,"action":"deny",)J"
    R"J("decision":{"phase":2,"rule_id":949110,"would_be":"deny"},"anomaly_score":{"inbound":5},)J"
    R"J("matches":[{"id":942100,"phase":2,"msg":"SQL Injection Attack Detected via libinjection","logdata":"",)J"
    R"J("tags":[],"variable":"ARGS:x","data":"1'--","disruptive":false},)J"
    R"J({"id":949110,"phase":2,"msg":"Inbound Anomaly Score Exceeded (Total Score: 5)","logdata":"","tags":[],)J"
    R"J("variable":"TX:blocking_inbound_anomaly_score","data":"5","disruptive":true}]})J";

TEST(Ocsf, AuditEventBecomesHttpActivity) {
  auto out = auditToOcsf(kEvent);
  ASSERT_TRUE(out);
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(*out);  // valid JSON
  EXPECT_EQ(int64_t(e["class_uid"]), 4002);
  EXPECT_EQ(int64_t(e["category_uid"]), 4);
  EXPECT_EQ(int64_t(e["activity_id"]), 6);  // POST
  EXPECT_EQ(int64_t(e["type_uid"]), 400206);
  EXPECT_EQ(int64_t(e["time"]), 1796304371378);
  EXPECT_EQ(std::string_view(e["disposition"]), "Blocked");
  EXPECT_EQ(int64_t(e["action_id"]), 2);
  EXPECT_EQ(std::string_view(e["http_request"]["http_method"]), "POST");
  EXPECT_EQ(std::string_view(e["http_request"]["url"]["path"]), "/login");
  EXPECT_EQ(std::string_view(e["http_request"]["url"]["query_string"]), "x=1%27--");
  EXPECT_EQ(std::string_view(e["http_request"]["uid"]), "96bac0a41000001");
  EXPECT_EQ(int64_t(e["http_response"]["code"]), 403);
  EXPECT_EQ(std::string_view(e["src_endpoint"]["ip"]), "203.0.113.7");
  EXPECT_EQ(int64_t(e["src_endpoint"]["port"]), 33973);
  EXPECT_EQ(std::string_view(e["firewall_rule"]["uid"]), "949110");
  EXPECT_EQ(std::string_view(e["firewall_rule"]["desc"]), "Inbound Anomaly Score Exceeded (Total Score: 5)");
  EXPECT_EQ(std::string_view(e["unmapped"]["rule_set"]), "crs");
  EXPECT_EQ(int64_t(e["unmapped"]["anomaly_score"]["inbound"]), 5);
}

TEST(Ocsf, DetectedAndIpv6AndNotAnEvent) {
  std::string ev(kEvent);
  ev.replace(ev.find("\"action\":\"deny\""), 15, "\"action\":\"detected\"");
  ev.replace(ev.find("203.0.113.7:33973"), 17, "[2001:db8::1]:443");
  auto out = auditToOcsf(ev);
  ASSERT_TRUE(out);
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(*out);
  EXPECT_EQ(std::string_view(e["disposition"]), "Detected");
  EXPECT_EQ(int64_t(e["action_id"]), 1);
  EXPECT_EQ(std::string_view(e["src_endpoint"]["ip"]), "2001:db8::1");
  EXPECT_FALSE(auditToOcsf(R"J({"time":"x","request_id":"a"})J"));  // an access record
  EXPECT_FALSE(auditToOcsf("not json"));
}

}  // namespace
}  // namespace rampart::gateway::sinks
