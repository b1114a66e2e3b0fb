#include "http_body_reader.h"

#include <event2/buffer.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "http_body_tracker.h"

namespace kiln::cli::serve {
namespace {

// The most one read of a large body takes from the socket.
constexpr uint64_t kMaxBodyRead = uint64_t{1} << 20;

}  // namespace

struct HttpBodyReaders::Reader {
  HttpBodyTracker tracker;
  bufferevent* bev = nullptr;
  int low_water_mark = 1;
  bool reading = false;  // the hook's own reads re-enter it

  // Feeds the last `added` bytes of the input buffer to the tracker.
  void follow(evbuffer* input, size_t added) {
    evbuffer_ptr start;
    if (evbuffer_ptr_set(input, &start, evbuffer_get_length(input) - added, EVBUFFER_PTR_SET) != 0) return;
    constexpr int kMaxChains = 16;
    evbuffer_iovec chains[kMaxChains];
    while (added > 0) {
      const int n = evbuffer_peek(input, static_cast<ev_ssize_t>(added), &start, chains, kMaxChains);
      if (n <= 0) return;
      size_t seen = 0;
      for (int i = 0; i < std::min(n, kMaxChains) && added > 0; ++i) {
        const size_t take = std::min(chains[i].iov_len, added);
        tracker.on_bytes(std::string_view(static_cast<const char*>(chains[i].iov_base), take));
        added -= take;
        seen += take;
      }
      if (added > 0 && evbuffer_ptr_set(input, &start, seen, EVBUFFER_PTR_ADD) != 0) return;
    }
  }

  // Reads the rest of a large body that the socket holds into `input`, at most to the body's end
  // (what follows is the next request's), and feeds it to the tracker.
  void read_body(evbuffer* input, evutil_socket_t fd) {
    reading = true;
    while (tracker.body_left() >= HttpBodyTracker::kCoalesceFromBytes / 4) {
      const size_t wanted = static_cast<size_t>(std::min<uint64_t>(tracker.body_left(), kMaxBodyRead));
      evbuffer_iovec space[2];
      const int chains = evbuffer_reserve_space(input, static_cast<ev_ssize_t>(wanted), space, 2);
      if (chains <= 0) break;
      iovec parts[2];
      size_t room = wanted;
      for (int i = 0; i < chains; ++i) {
        parts[i] = {space[i].iov_base, std::min(space[i].iov_len, room)};
        room -= parts[i].iov_len;
      }
      const ssize_t got = ::readv(fd, parts, chains);
      if (got <= 0) {  // nothing more yet, or EOF / an error that bufferevent's next read reports
        evbuffer_commit_space(input, space, 0);
        break;
      }
      size_t left = static_cast<size_t>(got);
      for (int i = 0; i < chains; ++i) {
        space[i].iov_len = std::min(parts[i].iov_len, left);
        left -= space[i].iov_len;
        tracker.on_bytes(std::string_view(static_cast<const char*>(space[i].iov_base), space[i].iov_len));
      }
      evbuffer_commit_space(input, space, chains);
      if (static_cast<size_t>(got) < wanted) break;  // the socket is empty
    }
    reading = false;
  }

  // Runs on the loop thread after each change of the input buffer: a socket read (inside
  // bufferevent's read, where the buffer takes bytes) or a drain, which it ignores.
  static void on_change(evbuffer* input, const evbuffer_cb_info* info, void* self) {
    auto* reader = static_cast<Reader*>(self);
    if (info->n_added == 0 || reader->reading) return;
    if (reader->tracker.passing_through() && reader->low_water_mark == 1) return;
    reader->follow(input, info->n_added);
    const evutil_socket_t fd = bufferevent_getfd(reader->bev);
    if (fd < 0) return;
    reader->read_body(input, fd);
    const int mark = reader->tracker.low_water_mark();
    if (mark != reader->low_water_mark && setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &mark, sizeof mark) == 0)
      reader->low_water_mark = mark;
  }
};

HttpBodyReaders::HttpBodyReaders() = default;
HttpBodyReaders::~HttpBodyReaders() = default;

void HttpBodyReaders::attach(bufferevent* bev) {
  auto& reader = readers_[bev];
  reader = std::make_unique<Reader>();
  reader->bev = bev;
  evbuffer_add_cb(bufferevent_get_input(bev), &Reader::on_change, reader.get());
}

void HttpBodyReaders::forget(bufferevent* bev) {
  auto it = readers_.find(bev);
  if (it == readers_.end()) return;
  evbuffer_remove_cb(bufferevent_get_input(bev), &Reader::on_change, it->second.get());
  readers_.erase(it);
}

}  // namespace kiln::cli::serve
