// Follows the HTTP/1.1 requests arriving on one connection, byte by byte as they are read, to
// know how much of the current request body is still to come. kiln serve's HTTP loops use it to
// set the socket's receive low-water mark (SO_RCVLOWAT) to the rest of a large body, so epoll
// wakes the loop once per large chunk instead of once per TCP segment: a 9.6 MB body used to be
// ~3,000 rounds of epoll_wait + FIONREAD + readv of ~3 KB each, 15 ms of loop CPU per request
// against ~5 ms for the same body over gRPC, which sets the low-water mark the same way.
//
// It never parses for evhttp (which stays the one HTTP parser); it only has to be exact about
// Content-Length framing and to give up (pass-through, low-water mark 1) on anything else, so a
// wrong guess can only cost speed, never hold back bytes a request needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::cli::serve {

class HttpBodyTracker {
 public:
  // Bodies smaller than this are read as they come: the wake-ups they cost are few.
  static constexpr uint64_t kCoalesceFromBytes = uint64_t{256} << 10;
  // The most one wake-up waits for; more would only delay the start of the copy.
  static constexpr uint64_t kMaxLowWaterMark = uint64_t{1} << 20;
  // Header blocks longer than this are not followed (evhttp's own limit answers them).
  static constexpr size_t kMaxHeaderBytes = size_t{64} << 10;

  // Feeds the bytes just read from the connection, in order.
  void on_bytes(std::string_view bytes);

  // The receive low-water mark the socket should have now: the rest of a large body (capped),
  // else 1 (wake on any byte). Never more than the bytes the current request still sends.
  int low_water_mark() const;

  bool passing_through() const { return state_ == State::kPassThrough; }
  uint64_t body_left() const { return body_left_; }

 private:
  enum class State { kHeaders, kBody, kPassThrough };
  // Consumes a finished header block; false when its framing is not a plain Content-Length.
  bool start_body(std::string_view header_block);

  State state_ = State::kHeaders;
  std::string header_bytes_;
  uint64_t body_left_ = 0;
  uint64_t body_size_ = 0;
};

}  // namespace kiln::cli::serve
