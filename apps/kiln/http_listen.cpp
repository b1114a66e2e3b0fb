#include "http_listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln::cli::serve {
namespace {

uint16_t bound_port(evutil_socket_t fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

}  // namespace

Result<evutil_socket_t> listen_on(const std::string& address, uint16_t port, bool shared) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string where = address + ":" + std::to_string(port);
  if (const int e = getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found); e != 0)
    return unavailable("cannot listen on " + where + ": " + gai_strerror(e));
  std::string why = "no usable address";
  evutil_socket_t listening = -1;
  for (addrinfo* a = found; a != nullptr && listening < 0; a = a->ai_next) {
    const evutil_socket_t fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
        (!shared || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0) && bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        listen(fd, SOMAXCONN) == 0) {
      listening = fd;
    } else {
      why = std::strerror(errno);
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (listening < 0) return unavailable("cannot listen on " + where + " (is the port in use?): " + why);
  return listening;
}

Result<uint16_t> claim_port(const std::string& address, uint16_t port) {
  KILN_ASSIGN_OR_RETURN(const evutil_socket_t probe, listen_on(address, port, false));
  const uint16_t claimed = port != 0 ? port : bound_port(probe);
  close(probe);
  return claimed;
}

}  // namespace kiln::cli::serve
