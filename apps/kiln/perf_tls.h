// TLS for kiln perf's clients (perf_analyzer's --ssl-https-* and --ssl-grpc-* options): the
// HTTP client's connections through OpenSSL, verifying the server's certificate and name
// against a CA file or the system's CAs; the gRPC client through gRPC's SSL credentials.
#pragma once

#include <memory>
#include <string>

#include "kiln/status.h"

struct ssl_ctx_st;
struct ssl_st;

namespace kiln::cli::perf {

struct TlsSettings {
  bool enabled = false;
  std::string ca_file;  // PEM CA certificates; empty: the system's
};

// One client context per kiln perf run, shared by its connections.
class TlsClientContext {
 public:
  static Result<std::shared_ptr<TlsClientContext>> make(const TlsSettings& settings);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // PEM text of the CA file (empty for the system's), for gRPC's credentials.
  const std::string& ca_pem() const { return ca_pem_; }
  ssl_ctx_st* context() const { return ctx_; }

 private:
  TlsClientContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::string ca_pem_;
};

// One TLS session over a connected socket, verifying that the certificate names `host`.
class TlsSession {
 public:
  static Result<std::unique_ptr<TlsSession>> connect(const TlsClientContext& context, int fd, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // As send()/recv(): bytes moved, 0 at a clean end of stream, -1 on error (errno as the
  // socket left it, so a receive timeout still reads as EAGAIN).
  long write(const char* data, size_t size);
  long read(char* data, size_t size);

 private:
  TlsSession() = default;
  ssl_st* ssl_ = nullptr;
};

}  // namespace kiln::cli::perf
