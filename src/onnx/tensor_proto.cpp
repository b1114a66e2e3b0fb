// TensorProto -> Tensor. Every size is validated against the bytes actually present before
// anything is allocated, so a corrupt model cannot make us allocate more than it contains.
#include "onnx/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <bit>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/dtype_dispatch.h"
#include "onnx/external_data.h"
#include "onnx/proto_tensor.h"

namespace kiln::onnx_import {
namespace {

using onnx::TensorProto;

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; a big-endian host would need byte swapping here");

// TensorProto.DataType FLOAT8E4M3FN was added after onnx 1.12 (the enum we compile against), so
// its wire value is spelled out here.
constexpr int32_t kOnnxFloat8E4M3FN = 17;
// Keeps numel * (widest element size) and every partial product of dims inside int64.
constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 16;

std::string tensor_label(const TensorProto& proto) {
  return "tensor '" + (proto.name().empty() ? std::string("<unnamed>") : proto.name()) + "'";
}

Result<Shape> checked_shape(const TensorProto& proto) {
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  int64_t nonzero_product = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return invalid_argument(tensor_label(proto) + " has a negative dimension " + std::to_string(d));
    if (d == 0) continue;
    if (nonzero_product > kMaxElements / d)
      return invalid_argument(tensor_label(proto) + " is too large: its dims overflow the element count");
    nonzero_product *= d;
  }
  return Shape(std::move(dims));
}

Status count_mismatch(const TensorProto& proto, const char* field, int64_t found, const Shape& shape) {
  return data_loss(tensor_label(proto) + " has " + std::to_string(found) + " values in " + field +
                   " but its shape " + shape.to_string() + " needs " + std::to_string(shape.numel()));
}

// Bools must hold 0 or 1 before they are read as bool.
void normalize_bools(Tensor& t) {
  auto* bytes = static_cast<uint8_t*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = bytes[i] != 0 ? 1 : 0;
}

Result<Tensor> from_raw(const TensorProto& proto, DType dtype, const Shape& shape) {
  if (dtype == DType::kBytes)
    return invalid_argument(tensor_label(proto) + " is a STRING tensor with raw_data; strings must use string_data");
  const uint64_t expected = static_cast<uint64_t>(shape.numel()) * dtype_size(dtype);
  if (proto.raw_data().size() != expected)
    return data_loss(tensor_label(proto) + " has " + std::to_string(proto.raw_data().size()) +
                     " bytes of raw_data but its shape " + shape.to_string() + " of " +
                     std::string(dtype_name(dtype)) + " needs " + std::to_string(expected));
  Tensor t(dtype, shape);
  if (expected > 0) std::memcpy(t.raw_data(), proto.raw_data().data(), expected);
  if (dtype == DType::kBool) normalize_bools(t);
  return t;
}

template <class Storage, class Field, class Convert>
Result<Tensor> from_field(const TensorProto& proto, DType dtype, const Shape& shape, const Field& field,
                          const char* field_name, Convert convert) {
  if (static_cast<int64_t>(field.size()) != shape.numel())
    return count_mismatch(proto, field_name, field.size(), shape);
  Tensor t(dtype, shape);
  Storage* out = t.data<Storage>();
  for (int i = 0; i < field.size(); ++i) out[i] = convert(field.Get(i));
  return t;
}

template <class Storage>
Result<Tensor> from_int32_field(const TensorProto& proto, DType dtype, const Shape& shape) {
  return from_field<Storage>(proto, dtype, shape, proto.int32_data(), "int32_data", [](int32_t v) {
    if constexpr (std::is_same_v<Storage, bool>) {
      return v != 0;
    } else if constexpr (std::is_same_v<Storage, Float16> || std::is_same_v<Storage, BFloat16>) {
      return Storage::from_bits(static_cast<uint16_t>(v));   // the field carries the bit pattern
    } else if constexpr (std::is_same_v<Storage, Float8E4M3>) {
      return Storage::from_bits(static_cast<uint8_t>(v));
    } else {
      return static_cast<Storage>(v);
    }
  });
}

Result<Tensor> from_typed_fields(const TensorProto& proto, DType dtype, const Shape& shape) {
  auto same = [](auto v) { return v; };
  switch (dtype) {
    case DType::kFloat32: return from_field<float>(proto, dtype, shape, proto.float_data(), "float_data", same);
    case DType::kFloat64: return from_field<double>(proto, dtype, shape, proto.double_data(), "double_data", same);
    case DType::kInt64: return from_field<int64_t>(proto, dtype, shape, proto.int64_data(), "int64_data", same);
    case DType::kUInt64: return from_field<uint64_t>(proto, dtype, shape, proto.uint64_data(), "uint64_data", same);
    case DType::kUInt32:
      return from_field<uint32_t>(proto, dtype, shape, proto.uint64_data(), "uint64_data",
                                  [](uint64_t v) { return static_cast<uint32_t>(v); });
    case DType::kInt32: return from_int32_field<int32_t>(proto, dtype, shape);
    case DType::kInt16: return from_int32_field<int16_t>(proto, dtype, shape);
    case DType::kInt8: return from_int32_field<int8_t>(proto, dtype, shape);
    case DType::kUInt16: return from_int32_field<uint16_t>(proto, dtype, shape);
    case DType::kUInt8: return from_int32_field<uint8_t>(proto, dtype, shape);
    case DType::kBool: return from_int32_field<bool>(proto, dtype, shape);
    case DType::kFloat16: return from_int32_field<Float16>(proto, dtype, shape);
    case DType::kBFloat16: return from_int32_field<BFloat16>(proto, dtype, shape);
    case DType::kFloat8E4M3: return from_int32_field<Float8E4M3>(proto, dtype, shape);
    case DType::kBytes: {
      if (static_cast<int64_t>(proto.string_data_size()) != shape.numel())
        return count_mismatch(proto, "string_data", proto.string_data_size(), shape);
      return Tensor::from_strings(shape, {proto.string_data().begin(), proto.string_data().end()});
    }
    default: break;
  }
  return internal_error("no storage field for " + std::string(dtype_name(dtype)));
}

Result<uint64_t> parse_external_number(const TensorProto& proto, const std::string& key, const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty())
    return invalid_argument(tensor_label(proto) + " has external data " + key + " '" + text +
                            "', which is not a non-negative integer");
  return value;
}

Result<Tensor> from_external(const TensorProto& proto, DType dtype, const Shape& shape, const std::string& base_dir) {
  if (base_dir.empty())
    return invalid_argument(tensor_label(proto) +
                            " stores its data in an external file, which needs the model's directory "
                            "(load the model with import_file)");
  if (dtype == DType::kBytes)
    return unimplemented(tensor_label(proto) + " is a STRING tensor with external data, which kiln does not support");
  ExternalLocation where;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      where.location = entry.value();
    } else if (entry.key() == "offset") {
      KILN_ASSIGN_OR_RETURN(where.offset, parse_external_number(proto, "offset", entry.value()));
    } else if (entry.key() == "length") {
      KILN_ASSIGN_OR_RETURN(where.length, parse_external_number(proto, "length", entry.value()));
    }  // "checksum" and unknown keys carry nothing we need
  }
  const std::string name = proto.name().empty() ? std::string("<unnamed>") : proto.name();
  KILN_RETURN_IF_ERROR(check_external_location(where.location, name));
  const uint64_t expected = static_cast<uint64_t>(shape.numel()) * dtype_size(dtype);
  KILN_RETURN_IF_ERROR(check_external_data(base_dir, where, name, expected));  // before allocating
  Tensor t(dtype, shape);
  if (expected > 0) KILN_RETURN_IF_ERROR(read_external_data(base_dir, where, name, expected, t.raw_data()));
  if (dtype == DType::kBool) normalize_bools(t);
  return t;
}

}  // namespace

std::string onnx_dtype_name(int32_t onnx_type) {
  if (onnx_type == kOnnxFloat8E4M3FN) return "FLOAT8E4M3FN";
  if (onnx::TensorProto_DataType_IsValid(onnx_type))
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(onnx_type));
  return "<unknown type " + std::to_string(onnx_type) + ">";
}

Result<DType> dtype_from_onnx(int32_t onnx_type, const std::string& what) {
  switch (onnx_type) {
    case TensorProto::FLOAT: return DType::kFloat32;
    case TensorProto::FLOAT16: return DType::kFloat16;
    case TensorProto::BFLOAT16: return DType::kBFloat16;
    case TensorProto::DOUBLE: return DType::kFloat64;
    case TensorProto::INT8: return DType::kInt8;
    case TensorProto::INT16: return DType::kInt16;
    case TensorProto::INT32: return DType::kInt32;
    case TensorProto::INT64: return DType::kInt64;
    case TensorProto::UINT8: return DType::kUInt8;
    case TensorProto::UINT16: return DType::kUInt16;
    case TensorProto::UINT32: return DType::kUInt32;
    case TensorProto::UINT64: return DType::kUInt64;
    case TensorProto::BOOL: return DType::kBool;
    case TensorProto::STRING: return DType::kBytes;
    case kOnnxFloat8E4M3FN: return DType::kFloat8E4M3;
    default: break;
  }
  return unimplemented(what + " has ONNX data type " + onnx_dtype_name(onnx_type) + ", which kiln does not support");
}

Result<Tensor> tensor_from_proto(const TensorProto& proto, const std::string& base_dir) {
  KILN_ASSIGN_OR_RETURN(DType dtype, dtype_from_onnx(proto.data_type(), tensor_label(proto)));
  KILN_ASSIGN_OR_RETURN(Shape shape, checked_shape(proto));
  if (proto.has_segment()) return unimplemented(tensor_label(proto) + " is segmented, which kiln does not support");
  if (proto.data_location() == TensorProto::EXTERNAL) return from_external(proto, dtype, shape, base_dir);
  if (proto.has_raw_data()) return from_raw(proto, dtype, shape);
  return from_typed_fields(proto, dtype, shape);
}

Result<Tensor> tensor_from_proto_bytes(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return invalid_argument("a serialized TensorProto of " + std::to_string(bytes.size()) +
                            " bytes is larger than protobuf's 2 GiB limit");
  TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return data_loss("not a valid serialized ONNX TensorProto (truncated or corrupt)");
  return tensor_from_proto(proto, "");
}

Result<Tensor> read_tensor_file(const std::string& path, std::string* name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open tensor file '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return invalid_argument("tensor file '" + path + "' is larger than protobuf's 2 GiB limit");
  TensorProto proto;
  if (!proto.ParseFromString(bytes))
    return data_loss("'" + path + "' is not a valid serialized ONNX TensorProto (truncated or corrupt)");
  auto tensor = tensor_from_proto(proto, "");
  if (!tensor.ok()) return tensor.status().with_context(path);
  if (name) *name = proto.name();
  return tensor;
}

}  // namespace kiln::onnx_import
