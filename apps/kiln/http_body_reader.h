// Big reads for large request bodies on an HTTP I/O loop's plain (not TLS) connections.
// libevent 2.1 reads at most 4 KiB a call (EVBUFFER_MAX_READ), one read per loop round: a 9.6 MB
// body took ~2,400 rounds of epoll_wait + FIONREAD + readv. Each hooked connection follows its
// requests' framing (http_body_tracker.h); while a large body comes, the hook reads the rest of
// what the socket holds itself, inside bufferevent's read (bufferevent then hands it all to
// evhttp), and sets SO_RCVLOWAT to what is left of the body, so the loop wakes per large chunk.
// TLS connections are not hooked: OpenSSL may hold decrypted-ahead bytes the socket no longer
// shows, and a low-water mark above what the socket still gets would stall the request.
#pragma once

#include <event2/bufferevent.h>

#include <memory>
#include <unordered_map>

namespace kiln::cli::serve {

// One per I/O loop, used on its thread only.
class HttpBodyReaders {
 public:
  HttpBodyReaders();
  ~HttpBodyReaders();
  HttpBodyReaders(const HttpBodyReaders&) = delete;
  HttpBodyReaders& operator=(const HttpBodyReaders&) = delete;

  // Hooks a new connection's bufferevent (before it has a socket). One at the address of a
  // freed one replaces that one's (stale) state.
  void attach(bufferevent* bev);
  // Unhooks the bufferevent of a connection that closed. A connection that never completes a
  // request keeps its state until a new bufferevent takes the same address.
  void forget(bufferevent* bev);

 private:
  struct Reader;
  std::unordered_map<bufferevent*, std::unique_ptr<Reader>> readers_;
};

}  // namespace kiln::cli::serve
