#pragma once

#include <string>

namespace kiln::cli {

// The oldest error on OpenSSL's queue of this thread as text ("unknown OpenSSL error" when empty),
// for messages about TLS setup and handshakes on both the server and the client side.
std::string openssl_error();

}  // namespace kiln::cli
