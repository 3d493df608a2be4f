// Why: where a batch ends up. One interface, three stores: a local directory,
// S3 (and S3-compatible servers) through libcurl's SigV4 signing, and Azure
// Blob Storage (block blobs, Shared Key or SAS). put() is synchronous and runs
// on the sink's thread only; a retried put writes the same key, so a retry
// never duplicates a batch. The remote stores keep their connection open
// between requests.
#pragma once

#include <memory>
#include <string>

#include "gateway/sinks/config.h"

namespace rampart::gateway::sinks {

struct PutError {
  std::string kind;     // metric label: connect, timeout, auth, client, server, io
  std::string message;  // for the log (never holds a credential)
};

class Store {
 public:
  virtual ~Store() = default;
  virtual bool put(const std::string& key, const std::string& body, const std::string& content_type,
                   PutError* error) = 0;
  virtual std::string describe() const = 0;  // for logs: "s3://bucket (endpoint)"
};

std::unique_ptr<Store> makeStore(const SinkConfig& cfg);

// Writes `a` then `b` to path through a temporary file, fsyncs it, renames it
// into place and fsyncs the directory: once true, the file survives a crash.
bool writeFileDurably(const std::string& path, const std::string& a, const std::string& b, std::string* error);

// Percent-encodes an object key for a URL path ('/' kept, RFC 3986 unreserved kept).
std::string encodeKey(const std::string& key, bool keep_slash = true);

}  // namespace rampart::gateway::sinks
