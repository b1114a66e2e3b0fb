// TLS for kiln serve's listeners: one certificate chain and private key (PEM files), used by the
// HTTP front end through OpenSSL and by the gRPC front end through gRPC's own credentials.
#pragma once

#include <memory>
#include <string>

#include "kiln/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of the front ends' headers

namespace kiln::cli::serve {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain, the server's certificate first
  std::string key_file;   // PEM private key
  bool enabled() const { return !cert_file.empty(); }
};

// Both flags or neither; each file must be readable.
Status check_tls_files(const TlsFiles& files);

using SslContext = std::unique_ptr<ssl_ctx_st, void (*)(ssl_ctx_st*)>;
// A server context (TLS 1.2 or newer) holding the certificate and a key that matches it.
Result<SslContext> make_server_ssl_context(const TlsFiles& files);

}  // namespace kiln::cli::serve
