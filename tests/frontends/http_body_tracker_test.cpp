#include "http_body_tracker.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace kiln::cli::serve {
namespace {

std::string post(size_t body_bytes, const std::string& extra_headers = "") {
  return "POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\n" + extra_headers + "Content-Length: " + std::to_string(body_bytes) +
         "\r\n\r\n" + std::string(body_bytes, 'b');
}

constexpr uint64_t kLarge = HttpBodyTracker::kCoalesceFromBytes * 8;

TEST(HttpBodyTrackerTest, WaitsForTheRestOfALargeBodyCappedAtTheMaximum) {
  HttpBodyTracker tracker;
  const std::string request = post(kLarge);
  const size_t header = request.size() - kLarge;
  tracker.on_bytes(std::string_view(request).substr(0, header));
  EXPECT_EQ(tracker.body_left(), kLarge);
  EXPECT_EQ(tracker.low_water_mark(), static_cast<int>(HttpBodyTracker::kMaxLowWaterMark));
  const uint64_t tail = 1000;
  tracker.on_bytes(std::string_view(request).substr(header, kLarge - tail));
  EXPECT_EQ(tracker.low_water_mark(), static_cast<int>(tail)) << "the tail is waited for whole, never more";
  tracker.on_bytes(std::string_view(request).substr(request.size() - tail));
  EXPECT_EQ(tracker.body_left(), 0u);
  EXPECT_EQ(tracker.low_water_mark(), 1) << "between requests any byte wakes the loop";
}

TEST(HttpBodyTrackerTest, SmallBodiesAndBodylessRequestsWakeOnAnyByte) {
  HttpBodyTracker tracker;
  const std::string small = post(HttpBodyTracker::kCoalesceFromBytes - 1);
  tracker.on_bytes(std::string_view(small).substr(0, 100));
  EXPECT_EQ(tracker.low_water_mark(), 1);
  tracker.on_bytes(std::string_view(small).substr(100));
  tracker.on_bytes("GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(tracker.body_left(), 0u);
  EXPECT_FALSE(tracker.passing_through());
  const std::string large = post(kLarge);
  tracker.on_bytes(std::string_view(large).substr(0, large.size() - kLarge + 10));
  EXPECT_EQ(tracker.body_left(), kLarge - 10) << "the requests before were followed exactly";
}

TEST(HttpBodyTrackerTest, FindsAHeaderEndSplitAcrossReads) {
  const std::string request = post(kLarge);
  const size_t terminator = request.find("\r\n\r\n");
  for (size_t split = terminator; split <= terminator + 4; ++split) {
    HttpBodyTracker tracker;
    tracker.on_bytes(std::string_view(request).substr(0, split));
    tracker.on_bytes(std::string_view(request).substr(split, terminator + 4 - split));
    EXPECT_EQ(tracker.body_left(), kLarge) << "split at " << split;
  }
}

TEST(HttpBodyTrackerTest, FollowsPipelinedRequestsInOneRead) {
  HttpBodyTracker tracker;
  const std::string second = post(kLarge);
  tracker.on_bytes(post(10) + second.substr(0, second.size() - kLarge + 5));
  EXPECT_EQ(tracker.body_left(), kLarge - 5);
}

TEST(HttpBodyTrackerTest, HeaderNamesAreCaseInsensitiveAndValuesTrimmed) {
  HttpBodyTracker tracker;
  tracker.on_bytes("POST / HTTP/1.1\r\ncontent-LENGTH: \t" + std::to_string(kLarge) + " \r\n\r\n");
  EXPECT_EQ(tracker.body_left(), kLarge);
}

TEST(HttpBodyTrackerTest, GivesUpOnFramingItDoesNotFollow) {
  const std::vector<std::string> requests = {
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",
      "POST / HTTP/1.1\r\nno colon here\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
  };
  for (const std::string& request : requests) {
    HttpBodyTracker tracker;
    tracker.on_bytes(request);
    EXPECT_TRUE(tracker.passing_through()) << request;
    tracker.on_bytes(post(kLarge));
    EXPECT_EQ(tracker.low_water_mark(), 1) << "after giving up, never waits: " << request;
  }
  HttpBodyTracker endless;
  endless.on_bytes("POST / HTTP/1.1\r\nX: " + std::string(HttpBodyTracker::kMaxHeaderBytes, 'a'));
  EXPECT_TRUE(endless.passing_through());
  EXPECT_EQ(endless.low_water_mark(), 1);
}

// Any split of a stream of requests: the low-water mark never asks for more bytes than the
// current request still sends, which is what keeps a request from stalling.
TEST(HttpBodyTrackerTest, NeverWaitsForMoreThanTheCurrentBodyHolds) {
  std::mt19937 random(20261203);
  for (int round = 0; round < 20; ++round) {
    std::string stream;
    std::vector<std::pair<size_t, size_t>> bodies;  // [begin, end) of each body in the stream
    for (int r = 0; r < 6; ++r) {
      const size_t size = std::uniform_int_distribution<size_t>(0, 3)(random) == 0 ? 0 : std::uniform_int_distribution<size_t>(1, 3 << 20)(random);
      const std::string request = post(size);
      bodies.emplace_back(stream.size() + request.size() - size, stream.size() + request.size());
      stream += request;
    }
    HttpBodyTracker tracker;
    size_t at = 0;
    while (at < stream.size()) {
      const size_t piece = std::min(stream.size() - at, std::uniform_int_distribution<size_t>(1, 300000)(random));
      tracker.on_bytes(std::string_view(stream).substr(at, piece));
      at += piece;
      size_t left_in_body = 0;
      for (const auto& [begin, end] : bodies) {
        if (at >= begin && at < end) left_in_body = end - at;
      }
      ASSERT_LE(static_cast<size_t>(tracker.low_water_mark()), std::max<size_t>(left_in_body, 1)) << "round " << round << " at " << at;
      ASSERT_EQ(tracker.body_left(), left_in_body) << "round " << round << " at " << at;
    }
    EXPECT_FALSE(tracker.passing_through());
  }
}

}  // namespace
}  // namespace kiln::cli::serve
