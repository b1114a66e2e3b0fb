#include "core/npy.h"

#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

namespace kiln {
namespace {

// The .npy payload is copied byte for byte, which is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr size_t kVersionSize = 2;              // major, minor
constexpr size_t kHeaderLenSizeV1 = 2;          // uint16 little-endian
constexpr size_t kHeaderLenSizeV2 = 4;          // uint32 little-endian (versions 2.0 and 3.0)
constexpr size_t kMaxHeaderLenV1 = 0xFFFF;
constexpr size_t kHeaderAlignment = 64;         // numpy aligns the data start to 64 bytes
constexpr uint8_t kMajorV1 = 1;
constexpr uint8_t kMajorV2 = 2;
constexpr uint8_t kMajorV3 = 3;
constexpr uint8_t kMinorVersion = 0;

struct NpyType {
  char kind;      // numpy type character: f, i, u, b
  size_t size;    // bytes per element
  DType dtype;
};

constexpr NpyType kNpyTypes[] = {
    {'f', 2, DType::kFloat16}, {'f', 4, DType::kFloat32}, {'f', 8, DType::kFloat64},
    {'i', 1, DType::kInt8},    {'i', 2, DType::kInt16},   {'i', 4, DType::kInt32},
    {'i', 8, DType::kInt64},   {'u', 1, DType::kUInt8},   {'u', 2, DType::kUInt16},
    {'u', 4, DType::kUInt32},  {'u', 8, DType::kUInt64},  {'b', 1, DType::kBool},
};

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A strict parser for the Python dict literal numpy writes:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Result<NpyHeader> parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_space();
    if (!consume('{')) return error("expected '{' at the start of the header dict");
    while (true) {
      skip_space();
      if (consume('}')) break;
      KILN_ASSIGN_OR_RETURN(std::string key, parse_string());
      skip_space();
      if (!consume(':')) return error("expected ':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (seen_descr) return error("duplicate key 'descr'");
        seen_descr = true;
        KILN_ASSIGN_OR_RETURN(header.descr, parse_string());
      } else if (key == "fortran_order") {
        if (seen_order) return error("duplicate key 'fortran_order'");
        seen_order = true;
        KILN_ASSIGN_OR_RETURN(header.fortran_order, parse_bool());
      } else if (key == "shape") {
        if (seen_shape) return error("duplicate key 'shape'");
        seen_shape = true;
        KILN_ASSIGN_OR_RETURN(header.shape, parse_tuple());
      } else {
        return error("unexpected key '" + key + "'");
      }
      skip_space();
      if (consume(',')) continue;
      if (consume('}')) break;
      return error("expected ',' or '}' after the value of '" + key + "'");
    }
    skip_space();
    if (pos_ != text_.size()) return error("unexpected text after the header dict");
    if (!seen_descr) return error("missing key 'descr'");
    if (!seen_order) return error("missing key 'fortran_order'");
    if (!seen_shape) return error("missing key 'shape'");
    return header;
  }

 private:
  Status error(const std::string& message) const {
    return invalid_argument(source_ + ": malformed .npy header: " + message);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
  }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Result<std::string> parse_string() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return error("expected a quoted string");
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return error("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) return error("escape sequences are not supported");
    pos_ = end + 1;
    return value;
  }

  Result<bool> parse_bool() {
    if (consume_word("True")) return true;
    if (consume_word("False")) return false;
    return error("'fortran_order' must be True or False");
  }

  Result<int64_t> parse_dim() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (start == pos_) return error("expected a non-negative integer in 'shape'");
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec != std::errc() || ptr != text_.data() + pos_) return error("dimension in 'shape' is too large");
    consume('L');  // Python 2 long suffix, still found in old files
    return value;
  }

  Result<std::vector<int64_t>> parse_tuple() {
    std::vector<int64_t> dims;
    if (!consume('(')) return error("'shape' must be a tuple");
    skip_space();
    if (consume(')')) return dims;
    while (true) {
      skip_space();
      KILN_ASSIGN_OR_RETURN(int64_t dim, parse_dim());
      dims.push_back(dim);
      skip_space();
      if (consume(')')) return dims;
      if (!consume(',')) return error("expected ',' or ')' in 'shape'");
      skip_space();
      if (consume(')')) return dims;
    }
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

Result<DType> dtype_from_descr(const std::string& descr, const std::string& source) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  bool well_formed = descr.size() >= 3 && std::string_view("<>|=").find(descr[0]) != std::string_view::npos;
  for (size_t i = 2; well_formed && i < descr.size(); ++i) well_formed = is_digit(descr[i]);
  if (!well_formed) return invalid_argument(source + ": malformed .npy header: unrecognised descr '" + descr + "'");
  char order = descr[0];
  char kind = descr[1];
  size_t size = 0;
  std::from_chars(descr.data() + 2, descr.data() + descr.size(), size);
  for (const NpyType& t : kNpyTypes) {
    if (t.kind != kind || t.size != size) continue;
    // One-byte types have no byte order: numpy writes '|', and '<' / '=' mean the same.
    bool order_ok = order == '<' || order == '=' || (order == '|' && size == 1) || (order == '>' && size == 1);
    if (!order_ok)
      return unimplemented(source + ": .npy dtype '" + descr + "' is big-endian or has no byte order; only "
                           "little-endian data is supported");
    return t.dtype;
  }
  return unimplemented(source + ": .npy dtype '" + descr +
                       "' is not supported (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)");
}

std::optional<std::string> descr_of(DType dtype) {
  for (const NpyType& t : kNpyTypes)
    if (t.dtype == dtype) return std::string(1, t.size == 1 ? '|' : '<') + t.kind + std::to_string(t.size);
  return std::nullopt;
}

uint32_t read_le(std::string_view bytes, size_t offset, size_t size) {
  uint32_t value = 0;
  for (size_t i = 0; i < size; ++i) value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
  return value;
}

void append_le(std::string& out, uint32_t value, size_t size) {
  for (size_t i = 0; i < size; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

std::string shape_tuple(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.rank(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.rank() == 1) out += ',';
  return out + ")";
}

}  // namespace

Result<Tensor> parse_npy(std::string_view bytes, const std::string& source) {
  const size_t preamble = kMagicSize + kVersionSize;
  if (bytes.size() < kMagicSize || bytes.substr(0, kMagicSize) != std::string_view(kMagic, kMagicSize)) {
    if (bytes.size() < kMagicSize && std::string_view(kMagic, kMagicSize).substr(0, bytes.size()) == bytes)
      return data_loss(source + ": truncated .npy file (" + std::to_string(bytes.size()) + " bytes)");
    return invalid_argument(source + ": not a .npy file (bad magic string)");
  }
  if (bytes.size() < preamble) return data_loss(source + ": truncated .npy file (no version)");
  auto major = static_cast<uint8_t>(bytes[kMagicSize]);
  auto minor = static_cast<uint8_t>(bytes[kMagicSize + 1]);
  if ((major != kMajorV1 && major != kMajorV2 && major != kMajorV3) || minor != kMinorVersion)
    return unimplemented(source + ": unsupported .npy format version " + std::to_string(major) + "." +
                         std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  const size_t len_size = major == kMajorV1 ? kHeaderLenSizeV1 : kHeaderLenSizeV2;
  if (bytes.size() < preamble + len_size) return data_loss(source + ": truncated .npy file (no header length)");
  const size_t header_len = read_le(bytes, preamble, len_size);
  const size_t data_start = preamble + len_size + header_len;
  if (header_len > bytes.size() - preamble - len_size)
    return data_loss(source + ": truncated .npy file: header of " + std::to_string(header_len) +
                     " bytes but only " + std::to_string(bytes.size() - preamble - len_size) + " follow");

  KILN_ASSIGN_OR_RETURN(NpyHeader header,
                        HeaderParser(bytes.substr(preamble + len_size, header_len), source).parse());
  KILN_ASSIGN_OR_RETURN(DType dtype, dtype_from_descr(header.descr, source));
  if (header.fortran_order)
    return unimplemented(source + ": Fortran-order .npy arrays are not supported (save with C order)");

  const size_t element_size = dtype_size(dtype);
  uint64_t numel = 1;
  for (int64_t d : header.shape)
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel))
      return invalid_argument(source + ": malformed .npy header: shape " + shape_tuple(Shape(header.shape)) +
                              " is too large");
  uint64_t data_bytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(element_size), &data_bytes))
    return invalid_argument(source + ": malformed .npy header: shape " + shape_tuple(Shape(header.shape)) +
                            " is too large");
  const size_t available = bytes.size() - data_start;
  const std::string declared = "shape " + shape_tuple(Shape(header.shape)) + " of " + header.descr + " needs " +
                               std::to_string(data_bytes) + " data bytes";
  if (data_bytes > available)
    return data_loss(source + ": truncated .npy file: " + declared + " but only " + std::to_string(available) +
                     " are present");
  if (data_bytes < available)
    return data_loss(source + ": corrupt .npy file: " + declared + " but " + std::to_string(available) +
                     " are present");

  Tensor tensor(dtype, Shape(header.shape));
  if (data_bytes == 0) return tensor;
  const char* payload = bytes.data() + data_start;
  if (dtype == DType::kBool) {
    // Any non-zero byte is true; normalise so that every stored bool is 0 or 1.
    bool* out = tensor.data<bool>();
    for (uint64_t i = 0; i < numel; ++i) out[i] = payload[i] != 0;
  } else {
    std::memcpy(tensor.raw_data(), payload, data_bytes);
  }
  return tensor;
}

Result<Tensor> read_npy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(path + ": no such .npy file");
  if (std::filesystem::is_directory(path, ec)) return invalid_argument(path + ": is a directory, not a .npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_argument(path + ": cannot open .npy file: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return data_loss(path + ": error while reading .npy file");
  return parse_npy(bytes, path);
}

Result<std::string> serialize_npy(const Tensor& tensor) {
  std::optional<std::string> descr = descr_of(tensor.dtype());
  if (!descr)
    return unimplemented("cannot write a " + std::string(dtype_name(tensor.dtype())) +
                         " tensor to .npy (numpy has no such dtype)");
  std::string dict = "{'descr': '" + *descr + "', 'fortran_order': False, 'shape': " +
                     shape_tuple(tensor.shape()) + ", }";
  // Pad with spaces so that the data starts on an aligned offset; the header ends with '\n'.
  auto padded_header = [&](size_t len_size) {
    size_t unpadded = kMagicSize + kVersionSize + len_size + dict.size() + 1;
    size_t padding = (kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment;
    return dict + std::string(padding, ' ') + '\n';
  };
  std::string header = padded_header(kHeaderLenSizeV1);
  uint8_t major = kMajorV1;
  size_t len_size = kHeaderLenSizeV1;
  if (header.size() > kMaxHeaderLenV1) {
    major = kMajorV2;
    len_size = kHeaderLenSizeV2;
    header = padded_header(kHeaderLenSizeV2);
  }
  std::string out(kMagic, kMagicSize);
  out.push_back(static_cast<char>(major));
  out.push_back(static_cast<char>(kMinorVersion));
  append_le(out, static_cast<uint32_t>(header.size()), len_size);
  out += header;
  if (tensor.nbytes() > 0) out.append(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  return out;
}

Status write_npy(const std::string& path, const Tensor& tensor) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, serialize_npy(tensor));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return invalid_argument(path + ": cannot create .npy file: " + std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return data_loss(path + ": error while writing .npy file");
  return {};
}

}  // namespace kiln
