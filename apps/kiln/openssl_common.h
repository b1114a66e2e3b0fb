// What kiln serve's and kiln perf's TLS code share: OpenSSL's error text and reading PEM files
// named by a flag.
#pragma once

#include <string>

#include "kiln/status.h"

namespace kiln::cli {

// The oldest error on OpenSSL's queue of this thread as text ("unknown OpenSSL error" when empty),
// for messages about TLS setup and handshakes on both the server and the client side.
std::string openssl_error();

// The whole file, or an error naming the flag and the file (unreadable, or not PEM).
Result<std::string> read_pem_file(const std::string& flag, const std::string& path);

}  // namespace kiln::cli
