#include "serve_tls.h"

#include <openssl/ssl.h>

#include "openssl_common.h"

namespace kiln::cli::serve {

Status check_tls_files(const TlsFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return invalid_argument("--tls-cert and --tls-key go together: give both or neither");
  }
  if (!files.enabled()) return {};
  KILN_ASSIGN_OR_RETURN(std::string cert, read_pem_file("--tls-cert", files.cert_file));
  KILN_ASSIGN_OR_RETURN(std::string key, read_pem_file("--tls-key", files.key_file));
  (void)cert;
  (void)key;
  return {};
}

Result<SslContext> make_server_ssl_context(const TlsFiles& files) {
  SslContext context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!context) return internal_error("cannot create an OpenSSL context: " + openssl_error());
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(context.get(), files.cert_file.c_str()) != 1) {
    return invalid_argument("--tls-cert " + files.cert_file + ": " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(context.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return invalid_argument("--tls-key " + files.key_file + ": " + openssl_error());
  }
  if (SSL_CTX_check_private_key(context.get()) != 1) {
    return invalid_argument("--tls-key " + files.key_file + " does not match the certificate in " + files.cert_file);
  }
  return context;
}

}  // namespace kiln::cli::serve
