#include "openssl_common.h"

#include <openssl/err.h>

#include <fstream>
#include <sstream>

namespace kiln::cli {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

Result<std::string> read_pem_file(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_argument(flag + " " + path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) return invalid_argument(flag + " " + path + ": not a PEM file");
  return text.str();
}

}  // namespace kiln::cli
