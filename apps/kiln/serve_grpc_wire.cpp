#include "serve_grpc_wire.h"

#include <cstring>
#include <string>

namespace kiln::cli::serve {
namespace {

// ModelInferRequest.raw_input_contents (grpc_service.proto).
constexpr uint32_t kRawInputContentsField = 7;
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };
constexpr int kMaxVarintBytes = 10;

// Reads forward through the pieces as one byte stream.
class PieceReader {
 public:
  explicit PieceReader(const std::vector<std::string_view>& pieces) : pieces_(pieces) {
    for (std::string_view piece : pieces) left_ += piece.size();
  }
  bool done() const { return left_ == 0; }
  size_t left() const { return left_; }

  // Copies the next n bytes to `out` (appending) or `dst`; false when fewer are left.
  bool take(size_t n, std::string* out, uint8_t* dst) {
    if (n > left_) return false;
    left_ -= n;
    while (n > 0) {
      std::string_view piece = pieces_[index_].substr(offset_);
      const size_t step = std::min(n, piece.size());
      if (out != nullptr) out->append(piece.data(), step);
      if (dst != nullptr) {
        std::memcpy(dst, piece.data(), step);
        dst += step;
      }
      n -= step;
      offset_ += step;
      if (offset_ == pieces_[index_].size()) {
        ++index_;
        offset_ = 0;
      }
    }
    return true;
  }

  // A base-128 varint, its bytes also appended to `tee` when given.
  bool varint(uint64_t& value, std::string* tee) {
    value = 0;
    for (int i = 0; i < kMaxVarintBytes; ++i) {
      uint8_t byte = 0;
      if (!take(1, nullptr, &byte)) return false;
      if (tee != nullptr) tee->push_back(static_cast<char>(byte));
      value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

 private:
  const std::vector<std::string_view>& pieces_;
  size_t index_ = 0;
  size_t offset_ = 0;
  size_t left_ = 0;
};

Status malformed(const std::string& what) { return invalid_argument("malformed ModelInferRequest: " + what); }

}  // namespace

Status split_model_infer_request(const std::vector<std::string_view>& pieces, serving::TransferBufferPool& pool,
                                 inference::ModelInferRequest& message, std::vector<InferBody>& raw_contents) {
  raw_contents.clear();
  PieceReader reader(pieces);
  std::string rest;  // every field but the raw contents, as it was on the wire
  while (!reader.done()) {
    uint64_t tag = 0;
    const size_t before_tag = rest.size();
    if (!reader.varint(tag, &rest)) return malformed("a field tag is cut off or too long");
    const auto field = static_cast<uint32_t>(tag >> 3);
    const auto wire_type = static_cast<uint32_t>(tag & 7);
    if (field == 0) return malformed("field number 0");
    switch (wire_type) {
      case kVarint: {
        uint64_t ignored = 0;
        if (!reader.varint(ignored, &rest)) return malformed("field " + std::to_string(field) + ": a varint is cut off");
        break;
      }
      case kFixed64:
      case kFixed32: {
        const size_t size = wire_type == kFixed64 ? 8 : 4;
        if (!reader.take(size, &rest, nullptr)) return malformed("field " + std::to_string(field) + " is cut off");
        break;
      }
      case kLengthDelimited: {
        uint64_t length = 0;
        const bool raw = field == kRawInputContentsField;
        if (!reader.varint(length, raw ? nullptr : &rest)) return malformed("field " + std::to_string(field) + ": its length is cut off");
        if (length > reader.left()) {
          return malformed("field " + std::to_string(field) + " claims " + std::to_string(length) + " bytes but " +
                           std::to_string(reader.left()) + " are left: truncated request");
        }
        if (!raw) {
          reader.take(static_cast<size_t>(length), &rest, nullptr);
          break;
        }
        rest.resize(before_tag);  // the tag of a raw entry is not kept either
        std::shared_ptr<uint8_t> buffer = pool.acquire(static_cast<size_t>(length));
        reader.take(static_cast<size_t>(length), nullptr, buffer.get());
        InferBody body;
        body.bytes = std::string_view(reinterpret_cast<const char*>(buffer.get()), static_cast<size_t>(length));
        body.owner = std::move(buffer);
        raw_contents.push_back(std::move(body));
        break;
      }
      default:
        return malformed("field " + std::to_string(field) + " has wire type " + std::to_string(wire_type) +
                         ", which this message never uses");
    }
  }
  if (!message.ParseFromString(rest)) return malformed("its fields do not parse as a ModelInferRequest");
  if (message.raw_input_contents_size() != 0) return malformed("raw_input_contents appears in an unexpected encoding");
  return {};
}

}  // namespace kiln::cli::serve
