// The listening sockets of kiln serve's HTTP I/O loops: one per loop on the same address and
// port (SO_REUSEPORT), so the kernel spreads new connections over the loops.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <string>

#include "kiln/status.h"

namespace kiln::cli::serve {

// A non-blocking listening TCP socket on address:port; `shared`: other sockets may join it
// (SO_REUSEPORT, only from processes of the same user).
Result<evutil_socket_t> listen_on(const std::string& address, uint16_t port, bool shared);

// The port the loops will share, checked free first by an exclusive bind (a bind without
// SO_REUSEPORT fails wherever any socket holds the port), so a second server on a busy port
// is refused instead of quietly joining the first; port 0 becomes the kernel's choice.
Result<uint16_t> claim_port(const std::string& address, uint16_t port);

}  // namespace kiln::cli::serve
