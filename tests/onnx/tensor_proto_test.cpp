// TensorProto -> Tensor for every data type and storage field.
#include "onnx/tensor_proto.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "core/dtype_dispatch.h"

namespace kiln::onnx_test {
namespace {

using onnx::TensorProto;
constexpr uint64_t kSeed = 20240611;
constexpr int64_t kRows = 3;
constexpr int64_t kCols = 5;
constexpr size_t kCount = kRows * kCols;

template <class T>
std::vector<T> random_values(std::mt19937_64& rng) {
  std::vector<T> out(kCount);
  for (auto& v : out) {
    if constexpr (std::is_floating_point_v<T>) {
      v = static_cast<T>(std::uniform_real_distribution<double>(-100.0, 100.0)(rng));
    } else {
      v = static_cast<T>(rng());  // every bit pattern of the type
    }
  }
  return out;
}

TensorProto base_proto(int32_t type) {
  TensorProto p;
  p.set_name("t");
  p.set_data_type(type);
  p.add_dims(kRows);
  p.add_dims(kCols);
  return p;
}

Result<Tensor> parse(const TensorProto& proto) { return onnx_import::tensor_from_proto_bytes(proto.SerializeAsString()); }

template <class T>
void expect_values(const Result<Tensor>& t, DType dtype, const std::vector<T>& expected) {
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), dtype);
  EXPECT_EQ(t->shape(), (Shape{kRows, kCols}));
  for (size_t i = 0; i < expected.size(); ++i) {
    if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>)
      EXPECT_EQ(t->template data<T>()[i].bits, expected[i].bits) << i;
    else
      EXPECT_EQ(t->template data<T>()[i], expected[i]) << i;
  }
}

// Checks the raw_data form and the typed-field form (filled by `add`) of one data type.
template <class T, class Add>
void check_type(int32_t onnx_type, DType dtype, const std::vector<T>& values, Add add) {
  SCOPED_TRACE(std::string(dtype_name(dtype)));
  TensorProto raw = base_proto(onnx_type);
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  raw.set_raw_data(bytes);
  expect_values(parse(raw), dtype, values);

  TensorProto typed = base_proto(onnx_type);
  for (const T& v : values) add(typed, v);
  expect_values(parse(typed), dtype, values);

  typed.add_dims(2);  // the field now has half the values the shape needs
  auto mismatch = parse(typed);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(mismatch.status().message().find("'t'"), std::string::npos) << mismatch.status().message();
}

TEST(TensorProto, EveryNumericTypeFromRawAndTypedFields) {
  std::mt19937_64 rng(kSeed);
  check_type(TensorProto::FLOAT, DType::kFloat32, random_values<float>(rng), [](TensorProto& p, float v) { p.add_float_data(v); });
  check_type(TensorProto::DOUBLE, DType::kFloat64, random_values<double>(rng), [](TensorProto& p, double v) { p.add_double_data(v); });
  check_type(TensorProto::INT64, DType::kInt64, random_values<int64_t>(rng), [](TensorProto& p, int64_t v) { p.add_int64_data(v); });
  check_type(TensorProto::UINT64, DType::kUInt64, random_values<uint64_t>(rng), [](TensorProto& p, uint64_t v) { p.add_uint64_data(v); });
  check_type(TensorProto::UINT32, DType::kUInt32, random_values<uint32_t>(rng), [](TensorProto& p, uint32_t v) { p.add_uint64_data(v); });
  check_type(TensorProto::INT32, DType::kInt32, random_values<int32_t>(rng), [](TensorProto& p, int32_t v) { p.add_int32_data(v); });
  check_type(TensorProto::INT16, DType::kInt16, random_values<int16_t>(rng), [](TensorProto& p, int16_t v) { p.add_int32_data(v); });
  check_type(TensorProto::INT8, DType::kInt8, random_values<int8_t>(rng), [](TensorProto& p, int8_t v) { p.add_int32_data(v); });
  check_type(TensorProto::UINT16, DType::kUInt16, random_values<uint16_t>(rng), [](TensorProto& p, uint16_t v) { p.add_int32_data(v); });
  check_type(TensorProto::UINT8, DType::kUInt8, random_values<uint8_t>(rng), [](TensorProto& p, uint8_t v) { p.add_int32_data(v); });
  std::vector<Float16> halves;
  std::vector<BFloat16> bhalves;
  for (float f : random_values<float>(rng)) {
    halves.push_back(Float16(f));
    bhalves.push_back(BFloat16(f));
  }
  check_type(TensorProto::FLOAT16, DType::kFloat16, halves, [](TensorProto& p, Float16 v) { p.add_int32_data(v.bits); });
  check_type(TensorProto::BFLOAT16, DType::kBFloat16, bhalves, [](TensorProto& p, BFloat16 v) { p.add_int32_data(v.bits); });
}

TEST(TensorProto, BoolFromRawAndInt32Data) {
  std::mt19937_64 rng(kSeed + 2);
  std::vector<uint8_t> values(kCount);
  for (auto& v : values) v = static_cast<uint8_t>(rng() & 1);
  TensorProto raw = base_proto(TensorProto::BOOL);
  raw.set_raw_data(std::string(values.begin(), values.end()));
  TensorProto typed = base_proto(TensorProto::BOOL);
  for (uint8_t v : values) typed.add_int32_data(v);
  for (const TensorProto* p : {&raw, &typed}) {
    auto t = parse(*p);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->dtype(), DType::kBool);
    for (size_t i = 0; i < kCount; ++i) EXPECT_EQ(t->data<bool>()[i], values[i] != 0) << i;
  }
}

TEST(TensorProto, StringsFromStringData) {
  TensorProto p = base_proto(TensorProto::STRING);
  std::vector<std::string> values;
  for (size_t i = 0; i < kCount; ++i) values.push_back("s" + std::to_string(i * 7) + std::string(i, '\0'));
  for (const auto& s : values) p.add_string_data(s);
  auto t = parse(p);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DType::kBytes);
  EXPECT_EQ(t->strings(), values);

  p.set_raw_data("abc");
  auto raw = parse(p);
  EXPECT_FALSE(raw.ok());
}

TEST(TensorProto, Float8FromNewerOnnxEnumValue) {
  constexpr int32_t kFloat8E4M3FN = 17;
  TensorProto p;
  p.set_name("f8");
  p.set_data_type(kFloat8E4M3FN);
  p.add_dims(2);
  p.add_int32_data(Float8E4M3(1.5f).bits);
  p.add_int32_data(Float8E4M3(-3.0f).bits);
  auto t = parse(p);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DType::kFloat8E4M3);
  EXPECT_EQ(static_cast<float>(t->data<Float8E4M3>()[0]), 1.5f);
  EXPECT_EQ(static_cast<float>(t->data<Float8E4M3>()[1]), -3.0f);
}

TEST(TensorProto, BoolRawBytesAreNormalised) {
  TensorProto p;
  p.set_name("b");
  p.set_data_type(TensorProto::BOOL);
  p.add_dims(3);
  p.set_raw_data(std::string("\x00\x02\xff", 3));
  auto t = parse(p);
  ASSERT_TRUE(t.ok());
  const auto* bytes = static_cast<const uint8_t*>(t->raw_data());
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 1);
  EXPECT_EQ(bytes[2], 1);
}

TEST(TensorProto, ScalarAndEmptyTensors) {
  TensorProto scalar;
  scalar.set_data_type(TensorProto::INT64);
  scalar.add_int64_data(-42);
  auto s = parse(scalar);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->rank(), 0u);
  EXPECT_EQ(s->data<int64_t>()[0], -42);

  TensorProto empty;
  empty.set_data_type(TensorProto::FLOAT);
  empty.add_dims(0);
  empty.add_dims(4);
  auto e = parse(empty);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->numel(), 0);
}

TEST(TensorProto, RawSizeMismatchIsDataLoss) {
  TensorProto p = base_proto(TensorProto::FLOAT);
  p.set_raw_data(std::string(kCount * sizeof(float) - 1, '\1'));
  auto t = parse(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(t.status().message().find("raw_data"), std::string::npos);
}

TEST(TensorProto, NegativeDimIsRejected) {
  TensorProto p;
  p.set_name("neg");
  p.set_data_type(TensorProto::FLOAT);
  p.add_dims(-2);
  auto t = parse(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("negative"), std::string::npos);
}

TEST(TensorProto, HugeDimsDoNotOverflowOrAllocate) {
  TensorProto p;
  p.set_name("huge");
  p.set_data_type(TensorProto::DOUBLE);
  for (int i = 0; i < 4; ++i) p.add_dims(std::numeric_limits<int64_t>::max() / 3);
  p.add_dims(0);  // even with a zero dim the other dims must not overflow the product
  auto t = parse(p);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("too large"), std::string::npos);

  TensorProto big;
  big.set_data_type(TensorProto::FLOAT);
  big.add_dims(int64_t{1} << 40);  // valid dims, but no data: must fail without allocating 4 TiB
  auto b = parse(big);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kDataLoss);
}

TEST(TensorProto, UnsupportedTypesNameTheType) {
  for (int32_t type : {static_cast<int32_t>(TensorProto::COMPLEX64), static_cast<int32_t>(TensorProto::COMPLEX128),
                       static_cast<int32_t>(TensorProto::UNDEFINED), 99}) {
    TensorProto p;
    p.set_name("c");
    p.set_data_type(type);
    auto t = parse(p);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kUnimplemented);
  }
  TensorProto c;
  c.set_name("c");
  c.set_data_type(TensorProto::COMPLEX64);
  EXPECT_NE(parse(c).status().message().find("COMPLEX64"), std::string::npos);
}

TEST(TensorProto, ExternalDataIsRejectedWithoutADirectory) {
  TensorProto p = base_proto(TensorProto::FLOAT);
  p.set_data_location(TensorProto::EXTERNAL);
  auto* entry = p.add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  auto t = parse(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
}

TEST(TensorProto, GarbageBytesAreDataLoss) {
  auto t = onnx_import::tensor_from_proto_bytes(std::string("\xff\xff\xff\xff\x0f", 5));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
}

TEST(TensorProto, ReadTensorFileReturnsNameAndData) {
  const auto dir = std::filesystem::temp_directory_path() / ("kiln_tensor_file_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  TensorProto p = base_proto(TensorProto::INT32);
  p.set_name("input_0");
  std::mt19937_64 rng(kSeed + 1);
  auto values = random_values<int32_t>(rng);
  for (int32_t v : values) p.add_int32_data(v);
  const auto path = (dir / "input_0.pb").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << p.SerializeAsString();
  }
  std::string name;
  auto t = onnx_import::read_tensor_file(path, &name);
  expect_values(t, DType::kInt32, values);
  EXPECT_EQ(name, "input_0");

  auto missing = onnx_import::read_tensor_file((dir / "nope.pb").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln::onnx_test
