#include "serve_json_writer.h"

#include "kiln/float_types.h"

namespace kiln::cli::serve {

void write_json_element(JsonWriter& w, const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kBool: w.Bool(t.data<bool>()[i]); break;
    case DType::kUInt8: w.Uint(t.data<uint8_t>()[i]); break;
    case DType::kUInt16: w.Uint(t.data<uint16_t>()[i]); break;
    case DType::kUInt32: w.Uint(t.data<uint32_t>()[i]); break;
    case DType::kUInt64: w.Uint64(t.data<uint64_t>()[i]); break;
    case DType::kInt8: w.Int(t.data<int8_t>()[i]); break;
    case DType::kInt16: w.Int(t.data<int16_t>()[i]); break;
    case DType::kInt32: w.Int(t.data<int32_t>()[i]); break;
    case DType::kInt64: w.Int64(t.data<int64_t>()[i]); break;
    case DType::kFloat16: w.Double(static_cast<float>(t.data<Float16>()[i])); break;
    case DType::kBFloat16: w.Double(static_cast<float>(t.data<BFloat16>()[i])); break;
    case DType::kFloat32: w.Double(t.data<float>()[i]); break;
    case DType::kFloat64: w.Double(t.data<double>()[i]); break;
    case DType::kBytes: {
      const std::string& s = t.strings()[static_cast<size_t>(i)];
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      break;
    }
    default: w.Null(); break;
  }
}

void write_json_string(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace kiln::cli::serve
