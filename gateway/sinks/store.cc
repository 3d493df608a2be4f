#include "gateway/sinks/store.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <strings.h>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <vector>

namespace rampart::gateway::sinks {

namespace fs = std::filesystem;

bool writeFileDurably(const std::string& path, const std::string& a, const std::string& b, std::string* error) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = fmt::format("cannot create {}: {}", tmp, std::strerror(errno));
    return false;
  }
  bool ok = true;
  for (const std::string* s : {&a, &b}) {
    size_t off = 0;
    while (ok && off < s->size()) {
      ssize_t n = ::write(fd, s->data() + off, s->size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      else off += size_t(n);
    }
  }
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = fmt::format("cannot write {}: {}", path, std::strerror(ok ? errno : err));
    ::unlink(tmp.c_str());
    return false;
  }
  const std::string dir = fs::path(path).parent_path().string();
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  return true;
}

std::string encodeKey(const std::string& key, bool keep_slash) {
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) out += char(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

namespace {

// ---------------------------------------------------------------- local dir

class LocalStore : public Store {
 public:
  explicit LocalStore(LocalSettings s) : s_(std::move(s)) {}
  std::string describe() const override { return "directory " + s_.path; }

  bool put(const std::string& key, const std::string& body, const std::string&, PutError* error) override {
    const fs::path dst = fs::path(s_.path) / key;
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    if (ec) return fail(error, fmt::format("cannot create {}: {}", dst.parent_path().string(), ec.message()));
    std::string why;
    if (!writeFileDurably(dst.string(), body, std::string(), &why)) return fail(error, why);
    retain();
    return true;
  }

 private:
  static bool fail(PutError* e, std::string msg) {
    e->kind = "io";
    e->message = std::move(msg);
    return false;
  }
  // Retention: the oldest files go first once there are more than max_files or
  // more than max_bytes.
  void retain() {
    if (!s_.max_files && !s_.max_bytes) return;
    struct F {
      fs::file_time_type t;
      fs::path p;
      uint64_t size;
    };
    std::vector<F> files;
    uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(s_.path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec) || it->path().extension() == ".tmp") continue;
      F f{it->last_write_time(ec), it->path(), uint64_t(it->file_size(ec))};
      total += f.size;
      files.push_back(std::move(f));
    }
    std::sort(files.begin(), files.end(), [](const F& a, const F& b) { return a.t < b.t; });
    size_t count = files.size();
    for (const auto& f : files) {
      if ((!s_.max_files || count <= s_.max_files) && (!s_.max_bytes || total <= s_.max_bytes)) break;
      fs::remove(f.p, ec);
      --count;
      total -= f.size;
    }
  }
  LocalSettings s_;
};

// ---------------------------------------------------------------- HTTP (curl)

std::once_flag g_curl_once;

size_t collect(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<std::string*>(ud);
  if (s->size() < 4096) s->append(p, std::min<size_t>(size * n, 4096 - s->size()));
  return size * n;
}

struct Http {
  long status = 0;
  std::string body;  // the start of the response body (error documents)
  std::string etag;  // the ETag header (S3 parts)
};

size_t header(char* p, size_t size, size_t n, void* ud) {
  auto* h = static_cast<Http*>(ud);
  std::string_view line(p, size * n);
  if (line.size() > 5 && strncasecmp(line.data(), "etag:", 5) == 0) {
    line.remove_prefix(5);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
    h->etag = std::string(line);
  }
  return size * n;
}

// A store's connection to its service, kept open between requests (one TCP
// connection and TLS session instead of a handshake per batch; curl opens a
// fresh one when the service has closed it). Used by the sink's thread only.
class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient() {
    if (c_) curl_easy_cleanup(c_);
  }
  // One request; false with *error on a transport failure.
  bool perform(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
               const std::string& payload, const std::string& sigv4, const std::string& userpwd, Http* out,
               PutError* error);

 private:
  CURL* c_ = nullptr;
};

bool HttpClient::perform(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
                         const std::string& payload, const std::string& sigv4, const std::string& userpwd,
                         Http* out, PutError* error) {
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (c_) {
    curl_easy_reset(c_);  // every option back to its default; the open connection stays
  } else if (!(c_ = curl_easy_init())) {
    error->kind = "connect";
    error->message = "curl_easy_init failed";
    return false;
  }
  CURL* c = c_;
  curl_slist* hs = nullptr;
  for (const auto& h : headers) hs = curl_slist_append(hs, h.c_str());
  // "Expect:" (no 100-continue wait) only when curl does not sign: curl's SigV4
  // would sign the empty header that is never sent, and S3 would refuse the signature.
  if (sigv4.empty()) hs = curl_slist_append(hs, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!sigv4.empty()) {
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  curl_slist_free_all(hs);
  if (rc != CURLE_OK) {
    error->kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "connect";
    error->message = fmt::format("{} {}: {}", method, url.substr(0, url.find('?')), curl_easy_strerror(rc));
    return false;
  }
  return true;
}

bool httpStatusOk(const Http& h, const std::string& what, PutError* error) {
  if (h.status >= 200 && h.status < 300) return true;
  error->kind = h.status == 401 || h.status == 403 ? "auth" : h.status >= 500 ? "server" : "client";
  std::string snippet = h.body.substr(0, 300);
  std::replace(snippet.begin(), snippet.end(), '\n', ' ');
  error->message = fmt::format("{}: HTTP {} {}", what, h.status, snippet);
  return false;
}

std::string sha256Hex(const std::string& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  std::string out;
  for (unsigned char b : md) out += fmt::format("{:02x}", b);
  return out;
}

// ---------------------------------------------------------------- S3

class S3Store : public Store {
 public:
  explicit S3Store(S3Settings s) : s_(std::move(s)) {
    std::string ep = s_.endpoint.empty() ? fmt::format("https://s3.{}.amazonaws.com", s_.region) : s_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    if (s_.path_style) {
      base_ = ep + "/" + s_.bucket + "/";
    } else {
      const auto scheme = ep.find("://");
      base_ = ep.substr(0, scheme + 3) + s_.bucket + "." + ep.substr(scheme + 3) + "/";
    }
    sigv4_ = fmt::format("aws:amz:{}:s3", s_.region);
    userpwd_ = s_.access_key_id + ":" + s_.secret_access_key;
  }
  std::string describe() const override { return fmt::format("s3://{} ({})", s_.bucket, base_); }

  bool put(const std::string& key, const std::string& body, const std::string& content_type,
           PutError* error) override {
    if (body.size() > s_.multipart_threshold) return multipart(key, body, content_type, error);
    Http h;
    if (!request("PUT", encodeKey(key), body, {"Content-Type: " + content_type}, &h, error)) return false;
    return httpStatusOk(h, "PutObject " + key, error);
  }

 private:
  bool request(const std::string& method, const std::string& path_query, const std::string& payload,
               std::vector<std::string> headers, Http* h, PutError* error) {
    headers.push_back("x-amz-content-sha256: " + sha256Hex(payload));
    if (!s_.session_token.empty()) headers.push_back("x-amz-security-token: " + s_.session_token);
    return http_.perform(method, base_ + path_query, headers, payload, sigv4_, userpwd_, h, error);
  }

  static std::string xmlValue(const std::string& doc, const std::string& tag) {
    const auto a = doc.find("<" + tag + ">");
    if (a == std::string::npos) return {};
    const auto b = doc.find("</" + tag + ">", a);
    return b == std::string::npos ? std::string() : doc.substr(a + tag.size() + 2, b - a - tag.size() - 2);
  }

  // CreateMultipartUpload, UploadPart x N, CompleteMultipartUpload; aborted on failure.
  bool multipart(const std::string& key, const std::string& body, const std::string& content_type, PutError* error) {
    const std::string path = encodeKey(key);
    Http h;
    if (!request("POST", path + "?uploads=", "", {"Content-Type: " + content_type}, &h, error)) return false;
    if (!httpStatusOk(h, "CreateMultipartUpload " + key, error)) return false;
    const std::string upload_id = xmlValue(h.body, "UploadId");
    if (upload_id.empty()) {
      error->kind = "server";
      error->message = "CreateMultipartUpload " + key + ": no UploadId in the answer";
      return false;
    }
    const std::string id_q = "uploadId=" + encodeKey(upload_id, false);
    std::string complete = "<CompleteMultipartUpload>";
    bool ok = true;
    int part = 1;
    for (size_t off = 0; ok && off < body.size(); off += s_.part_size, ++part) {
      Http ph;
      const std::string chunk = body.substr(off, s_.part_size);
      // Parameters in canonical (sorted) order: partNumber before uploadId.
      ok = request("PUT", fmt::format("{}?partNumber={}&{}", path, part, id_q), chunk, {}, &ph, error) &&
           httpStatusOk(ph, fmt::format("UploadPart {} #{}", key, part), error);
      if (!ok) break;
      complete += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", part, ph.etag);
    }
    complete += "</CompleteMultipartUpload>";
    if (ok) {
      Http ch;
      ok = request("POST", path + "?" + id_q, complete, {"Content-Type: application/xml"}, &ch, error) &&
           httpStatusOk(ch, "CompleteMultipartUpload " + key, error) && ch.body.find("<Error>") == std::string::npos;
      if (ok) return true;
    }
    Http ah;
    PutError ignored;
    request("DELETE", path + "?" + id_q, "", {}, &ah, &ignored);
    return false;
  }

  S3Settings s_;
  std::string base_, sigv4_, userpwd_;
  HttpClient http_;
};

// ---------------------------------------------------------------- Azure Blob

std::string base64(const unsigned char* p, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, int(n));
  out.resize(size_t(len));
  return out;
}

std::string unbase64(const std::string& s) {
  std::string out(3 * s.size() / 4 + 3, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()), int(s.size()));
  if (len < 0) return {};
  size_t n = size_t(len);
  // EVP_DecodeBlock counts the padding as data.
  if (!s.empty() && s.back() == '=') --n;
  if (s.size() > 1 && s[s.size() - 2] == '=') --n;
  out.resize(n);
  return out;
}

class AzureStore : public Store {
 public:
  explicit AzureStore(AzureSettings s) : s_(std::move(s)) {
    std::string ep = s_.endpoint.empty() ? fmt::format("https://{}.blob.core.windows.net", s_.account) : s_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    base_ = ep + "/" + s_.container + "/";
    // The resource path as the service sees it (an emulator endpoint carries the account in its path).
    const auto scheme = ep.find("://");
    const auto slash = ep.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    path_prefix_ = (slash == std::string::npos ? std::string() : ep.substr(slash)) + "/" + s_.container + "/";
    key_ = unbase64(s_.shared_key);
    sas_ = s_.sas_token;
    if (!sas_.empty() && sas_.front() == '?') sas_.erase(0, 1);
  }
  std::string describe() const override { return fmt::format("azure blob {}", base_); }

  bool put(const std::string& key, const std::string& body, const std::string& content_type,
           PutError* error) override {
    const std::string path = encodeKey(key);
    char date[64];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    std::vector<std::string> headers = {"x-ms-blob-type: BlockBlob", std::string("x-ms-date: ") + date,
                                        "x-ms-version: 2021-08-06", "Content-Type: " + content_type};
    std::string url = base_ + path;
    if (!sas_.empty()) {
      url += "?" + sas_;
    } else {
      // Shared Key: HMAC-SHA256 over the canonical request, keyed by the account key.
      const std::string sts = fmt::format(
          "PUT\n\n\n{}\n\n{}\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:{}\nx-ms-version:2021-08-06\n/{}{}{}",
          body.empty() ? std::string() : std::to_string(body.size()), content_type, date, s_.account,
          path_prefix_, path);
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int mac_len = 0;
      HMAC(EVP_sha256(), key_.data(), int(key_.size()), reinterpret_cast<const unsigned char*>(sts.data()),
           sts.size(), mac, &mac_len);
      headers.push_back(fmt::format("Authorization: SharedKey {}:{}", s_.account, base64(mac, mac_len)));
    }
    Http h;
    if (!http_.perform("PUT", url, headers, body, "", "", &h, error)) return false;
    return httpStatusOk(h, "Put Blob " + key, error);
  }

 private:
  AzureSettings s_;
  std::string base_, path_prefix_, key_, sas_;
  HttpClient http_;
};

}  // namespace

std::unique_ptr<Store> makeStore(const SinkConfig& cfg) {
  switch (cfg.type) {
    case SinkConfig::Type::kS3: return std::make_unique<S3Store>(cfg.s3);
    case SinkConfig::Type::kAzure: return std::make_unique<AzureStore>(cfg.azure);
    default: return std::make_unique<LocalStore>(cfg.local);
  }
}

}  // namespace rampart::gateway::sinks
