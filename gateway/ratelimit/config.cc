#include "gateway/ratelimit/config.h"

namespace rampart::gateway::ratelimit {

std::vector<std::string> validate(const Policy& p) {
  std::vector<std::string> errs;
  const std::string pre = "policy '" + p.name + "': ";
  if (p.name.empty()) errs.push_back("policy: name is empty");
  if (p.rate.count == 0) errs.push_back(pre + "rate must be > 0");
  if (p.rate.per.count() <= 0) errs.push_back(pre + "rate period must be > 0");
  if (p.burst < 1) errs.push_back(pre + "burst must be >= 1");
  if (p.key.empty()) errs.push_back(pre + "key has no parts");
  for (const auto& k : p.key) {
    if (k.kind == KeyPart::Kind::kUnknown) errs.push_back(pre + "unknown key part");
    if ((k.kind == KeyPart::Kind::kHeader || k.kind == KeyPart::Kind::kCookie ||
         k.kind == KeyPart::Kind::kQuery) && k.name.empty())
      errs.push_back(pre + "key part needs a name");
    if (k.ipv6Prefix < 0 || k.ipv6Prefix > 128) errs.push_back(pre + "ipv6_prefix out of range");
    if (k.ipv4Prefix < 0 || k.ipv4Prefix > 32) errs.push_back(pre + "ipv4_prefix out of range");
  }
  return errs;
}

}  // namespace rampart::gateway::ratelimit
