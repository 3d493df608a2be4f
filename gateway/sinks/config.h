// Why: plain settings of the object-store sinks, filled by the YAML loader
// (gateway/config/config.cc) and documented in docs/config.md ("sinks").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rampart::gateway::sinks {

enum class Kind { kAccess, kWaf };
inline const char* kindName(Kind k) { return k == Kind::kAccess ? "access" : "waf"; }

enum class Compression { kNone, kGzip, kZstd };

struct S3Settings {
  std::string bucket;
  std::string region = "us-east-1";
  std::string endpoint;         // empty: https://s3.REGION.amazonaws.com
  bool path_style = false;      // addressing: path (BUCKET in the path) | virtual (BUCKET. in the host)
  std::string access_key_id;    // resolved at load: config, AWS_* environment or a credentials file
  std::string secret_access_key;
  std::string session_token;
  uint64_t multipart_threshold = 64ull << 20;  // larger batches go up in parts
  uint64_t part_size = 16ull << 20;
};

struct AzureSettings {
  std::string account;
  std::string container;
  std::string endpoint;   // empty: https://ACCOUNT.blob.core.windows.net
  std::string shared_key; // base64 account key (Shared Key), or
  std::string sas_token;  // a SAS query string
};

struct LocalSettings {
  std::string path;
  uint64_t max_files = 0;  // retention: 0 = keep all
  uint64_t max_bytes = 0;
};

struct SinkConfig {
  std::string name;
  enum class Type { kLocal, kS3, kAzure } type = Type::kLocal;
  std::vector<Kind> streams{Kind::kAccess, Kind::kWaf};
  // Filters of access records (WAF events always go): minimum status, and/or
  // only requests the WAF blocked or flagged; sampling keeps a share of the rest.
  uint16_t min_status = 0;
  bool only_waf = false;
  double sample = 1.0;
  uint64_t batch_records = 100000;
  // Bytes before compression: access records compress ~40x, so 32 MiB makes
  // objects of ~1 MB. At 5 MiB (~120 KB objects) a gateway serving 50k req/s
  // uploaded and fsynced five small batches a second, which cost it (and the
  // store) more than the records they carried: 9% of requests/s in
  // bench/sinks.sh on 2 cores, against 1.5% at 32 MiB.
  uint64_t batch_bytes = 32ull << 20;
  std::chrono::milliseconds batch_age{60000};
  Compression compression = Compression::kZstd;
  bool ocsf = false;        // format: ocsf -> WAF events as OCSF HTTP Activity (gateway/sinks/ocsf.h)
  std::string prefix;       // object key prefix
  std::string instance;     // names this process in object keys; empty: the host name
  std::string spool_path;   // batches wait here (fsynced) until uploaded
  uint64_t spool_max_bytes = 1ull << 30;
  uint64_t memory_max_bytes = 64ull << 20;  // records waiting to be batched
  LocalSettings local;
  S3Settings s3;
  AzureSettings azure;
};

}  // namespace rampart::gateway::sinks
