#include "http_body_tracker.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace kiln::cli::serve {
namespace {

constexpr std::string_view kHeaderEnd = "\r\n\r\n";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_length(std::string_view value) {
  value = trim(value);
  uint64_t length = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (error != std::errc() || end != value.data() + value.size() || value.empty()) return std::nullopt;
  return length;
}

}  // namespace

bool HttpBodyTracker::start_body(std::string_view header_block) {
  std::optional<uint64_t> length;
  size_t line_start = header_block.find("\r\n");  // skips the request line
  while (line_start != std::string_view::npos && line_start + 2 < header_block.size()) {
    const size_t begin = line_start + 2;
    const size_t end = header_block.find("\r\n", begin);
    const std::string_view line = header_block.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    line_start = end;
    if (line.empty()) continue;
    // Folded (obsolete) continuation lines and transfer codings: not followed.
    if (line.front() == ' ' || line.front() == '\t') return false;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    if (equals_ignoring_case(name, "transfer-encoding")) return false;
    if (equals_ignoring_case(name, "content-length")) {
      std::optional<uint64_t> value = parse_length(line.substr(colon + 1));
      if (!value || (length && *length != *value)) return false;
      length = value;
    }
  }
  body_size_ = length.value_or(0);
  body_left_ = body_size_;
  state_ = body_left_ > 0 ? State::kBody : State::kHeaders;
  return true;
}

void HttpBodyTracker::on_bytes(std::string_view bytes) {
  while (!bytes.empty() && state_ != State::kPassThrough) {
    if (state_ == State::kBody) {
      const uint64_t taken = std::min<uint64_t>(body_left_, bytes.size());
      body_left_ -= taken;
      bytes.remove_prefix(taken);
      if (body_left_ == 0) state_ = State::kHeaders;
      continue;
    }
    // The terminator may straddle two reads: search from just before the new bytes.
    const size_t search_from = header_bytes_.size() >= kHeaderEnd.size() - 1 ? header_bytes_.size() - (kHeaderEnd.size() - 1) : 0;
    const size_t room = kMaxHeaderBytes - header_bytes_.size();
    const size_t appended = std::min(room, bytes.size());
    header_bytes_.append(bytes.data(), appended);
    const size_t end = header_bytes_.find(kHeaderEnd, search_from);
    if (end == std::string::npos) {
      if (appended < bytes.size() || header_bytes_.size() >= kMaxHeaderBytes) state_ = State::kPassThrough;
      return;
    }
    const size_t block_end = end + kHeaderEnd.size();
    // What came after the block in this read: body bytes, or a pipelined next request.
    const size_t consumed_from_bytes = appended - (header_bytes_.size() - block_end);
    const std::string header_block = header_bytes_.substr(0, block_end);
    header_bytes_.clear();
    bytes.remove_prefix(consumed_from_bytes);
    if (!start_body(header_block)) state_ = State::kPassThrough;
  }
}

int HttpBodyTracker::low_water_mark() const {
  if (state_ != State::kBody || body_size_ < kCoalesceFromBytes) return 1;
  return static_cast<int>(std::max<uint64_t>(1, std::min(body_left_, kMaxLowWaterMark)));
}

}  // namespace kiln::cli::serve
