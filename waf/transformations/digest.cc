// Shared by t:md5 and t:sha1. Why not EVP_Digest(): in OpenSSL 3 it fetches the
// algorithm and allocates a context on every call (about 1.5 us per value
// here); we fetch each algorithm once per process and keep one context per
// thread, so a digest allocates nothing after the first.
#include <openssl/evp.h>

#include <memory>

#include "waf/transformations/internal.h"

namespace rampart::waf::transformations::detail {

namespace {

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* algorithm(Digest which) {
  // Fetched once; nullptr when the provider lacks it (FIPS without MD5).
  static const std::unique_ptr<EVP_MD, MdFree> kMd5(EVP_MD_fetch(nullptr, "MD5", nullptr));
  static const std::unique_ptr<EVP_MD, MdFree> kSha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  return which == Digest::kMd5 ? kMd5.get() : kSha1.get();
}

}  // namespace

bool digest(Digest which, std::string_view in, std::string& out) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* alg = algorithm(which);
  if (alg == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), alg, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), in.data(), in.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) {
    len = 0;  // no provider: an empty value, never an exception
  }
  return assignIfDifferent(in, std::string_view(reinterpret_cast<const char*>(md), len), out);
}

}  // namespace rampart::waf::transformations::detail
