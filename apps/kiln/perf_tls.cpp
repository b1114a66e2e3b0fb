#include "perf_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>

#include "openssl_common.h"

namespace kiln::cli::perf {
namespace {

bool is_ip_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::make(const TlsSettings& settings) {
  auto context = std::shared_ptr<TlsClientContext>(new TlsClientContext());
  context->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!context->ctx_) return internal_error("TLS client context: " + openssl_error());
  SSL_CTX_set_min_proto_version(context->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(context->ctx_, SSL_VERIFY_PEER, nullptr);
  if (settings.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(context->ctx_) != 1)
      return internal_error("TLS: the system's CA certificates: " + openssl_error());
    return context;
  }
  KILN_ASSIGN_OR_RETURN(context->ca_pem_, read_pem_file("--tls-ca", settings.ca_file));
  if (SSL_CTX_load_verify_locations(context->ctx_, settings.ca_file.c_str(), nullptr) != 1)
    return invalid_argument("--tls-ca: '" + settings.ca_file + "' holds no PEM certificate: " + openssl_error());
  return context;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<TlsSession>> TlsSession::connect(const TlsClientContext& context, int fd, const std::string& host) {
  auto session = std::unique_ptr<TlsSession>(new TlsSession());
  session->ssl_ = SSL_new(context.context());
  if (!session->ssl_ || SSL_set_fd(session->ssl_, fd) != 1) return internal_error("TLS session: " + openssl_error());
  // The certificate must name what the user asked for: an IP SAN for an address, a DNS name
  // (also sent as SNI) otherwise.
  X509_VERIFY_PARAM* verify = SSL_get0_param(session->ssl_);
  if (is_ip_address(host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str()) != 1) return internal_error("TLS: " + openssl_error());
  } else {
    X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(verify, host.c_str(), host.size()) != 1 ||
        SSL_set_tlsext_host_name(session->ssl_, host.c_str()) != 1)
      return internal_error("TLS: " + openssl_error());
  }
  if (SSL_connect(session->ssl_) != 1) {
    const long verdict = SSL_get_verify_result(session->ssl_);
    if (verdict != X509_V_OK)
      return unavailable("TLS handshake with " + host + ": the server's certificate is not trusted (" +
                         X509_verify_cert_error_string(verdict) + "; --tls-ca names the CA to trust)");
    return unavailable("TLS handshake with " + host + " failed (is the server serving TLS?): " + openssl_error());
  }
  return session;
}

TlsSession::~TlsSession() {
  if (ssl_) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
}

long TlsSession::write(const char* data, size_t size) {
  size_t written = 0;
  const int ok = SSL_write_ex(ssl_, data, size, &written);
  return ok == 1 ? static_cast<long>(written) : -1;
}

long TlsSession::read(char* data, size_t size) {
  size_t got = 0;
  if (SSL_read_ex(ssl_, data, size, &got) == 1) return static_cast<long>(got);
  const int error = SSL_get_error(ssl_, 0);
  if (error == SSL_ERROR_ZERO_RETURN) return 0;
  // A socket timeout surfaces as SSL_ERROR_WANT_READ or SYSCALL with errno EAGAIN; keep errno.
  if (error == SSL_ERROR_WANT_READ) errno = EAGAIN;
  return -1;
}

}  // namespace kiln::cli::perf
