#include "core/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include <unistd.h>

#include "core/dtype_dispatch.h"

namespace kiln {
namespace {

constexpr uint64_t kSeed = 20240611;
constexpr DType kNpyDTypes[] = {DType::kFloat16, DType::kFloat32, DType::kFloat64, DType::kInt8,
                                DType::kInt16,   DType::kInt32,   DType::kInt64,   DType::kUInt8,
                                DType::kUInt16,  DType::kUInt32,  DType::kUInt64,  DType::kBool};

Tensor random_tensor(DType dtype, const Shape& shape, uint64_t seed) {
  Tensor t(dtype, shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> real(-100.0, 100.0);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* data = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, bool>) data[i] = (rng() & 1) != 0;
      else if constexpr (std::is_integral_v<T>) data[i] = static_cast<T>(rng());
      else data[i] = convert_element<T>(real(rng));
    }
  });
  return t;
}

// Builds a .npy file by hand from a header dict, independently of serialize_npy.
std::string make_npy(const std::string& dict, std::string_view payload, uint8_t major = 1) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  std::string header = dict + "\n";
  uint32_t len = static_cast<uint32_t>(header.size());
  size_t len_size = major == 1 ? 2 : 4;
  for (size_t i = 0; i < len_size; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  return out + header + std::string(payload);
}

std::string bytes_of(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

class NpyRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(NpyRoundTrip, EveryShapeSurvivesWriteAndRead) {
  const DType dtype = GetParam();
  const Shape shapes[] = {Shape{}, Shape{7}, Shape{2, 3}, Shape{2, 0, 4}, Shape{3, 1, 5, 2}};
  uint64_t seed = kSeed + static_cast<uint64_t>(dtype);
  for (const Shape& shape : shapes) {
    Tensor original = random_tensor(dtype, shape, seed++);
    auto bytes = serialize_npy(original);
    ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
    EXPECT_EQ(bytes->find('\n') % 64, 63u) << "data must start 64-byte aligned";
    auto back = parse_npy(*bytes, "roundtrip.npy");
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->dtype(), dtype);
    EXPECT_EQ(back->shape(), shape);
    ASSERT_EQ(back->nbytes(), original.nbytes());
    if (original.nbytes() > 0) {
      EXPECT_EQ(std::memcmp(back->raw_data(), original.raw_data(), original.nbytes()), 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, NpyRoundTrip, ::testing::ValuesIn(kNpyDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Npy, FileRoundTrip) {
  auto path = (std::filesystem::temp_directory_path() / ("kiln_npy_test_" + std::to_string(::getpid()) + ".npy")).string();
  Tensor original = random_tensor(DType::kFloat32, Shape{4, 5}, kSeed);
  ASSERT_TRUE(write_npy(path, original).ok());
  auto back = read_npy(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(std::memcmp(back->raw_data(), original.raw_data(), original.nbytes()), 0);
}

TEST(Npy, ReadsHandWrittenHeadersOfEveryVersion) {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  const std::string dicts[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      "{\"shape\": (2,3), \"descr\": \"<f4\", \"fortran_order\": False}",
      "{'fortran_order': False, 'shape': (2L, 3L), 'descr': '<f4'}   ",
  };
  for (uint8_t major : {1, 2, 3}) {
    for (const std::string& dict : dicts) {
      auto t = parse_npy(make_npy(dict, bytes_of(values), major), "hand.npy");
      ASSERT_TRUE(t.ok()) << dict << ": " << t.status().to_string();
      EXPECT_EQ(t->shape(), (Shape{2, 3}));
      ASSERT_EQ(t->dtype(), DType::kFloat32);
      for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(t->data<float>()[i], values[i]);
    }
  }
}

TEST(Npy, BoolBytesAreNormalised) {
  const std::string payload = {0, 1, 2, static_cast<char>(0xFF)};
  auto t = parse_npy(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,)}", payload), "b.npy");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  const bool expected[] = {false, true, true, true};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(t->data<bool>()[i], expected[i]);
}

TEST(Npy, EveryTruncationIsAnErrorNotACrash) {
  Tensor original = random_tensor(DType::kInt32, Shape{3, 3}, kSeed);
  auto bytes = serialize_npy(original);
  ASSERT_TRUE(bytes.ok());
  for (size_t len = 0; len < bytes->size(); ++len) {
    auto t = parse_npy(std::string_view(*bytes).substr(0, len), "cut.npy");
    ASSERT_FALSE(t.ok()) << "prefix of " << len << " bytes parsed";
    EXPECT_NE(t.status().message().find("cut.npy"), std::string::npos) << t.status().to_string();
  }
}

struct MalformedCase {
  const char* what;
  std::string dict;
  StatusCode code;
  const char* message_part;
};

TEST(Npy, MalformedHeadersNameTheProblem) {
  const std::string four_floats = bytes_of({1, 2, 3, 4});
  const MalformedCase cases[] = {
      {"missing shape", "{'descr': '<f4', 'fortran_order': False}", StatusCode::kInvalidArgument, "'shape'"},
      {"missing descr", "{'fortran_order': False, 'shape': (4,)}", StatusCode::kInvalidArgument, "'descr'"},
      {"duplicate key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}",
       StatusCode::kInvalidArgument, "duplicate"},
      {"unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}",
       StatusCode::kInvalidArgument, "'x'"},
      {"not a dict", "['descr', '<f4']", StatusCode::kInvalidArgument, "'{'"},
      {"negative dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}", StatusCode::kInvalidArgument,
       "shape"},
      {"shape not a tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': [4]}",
       StatusCode::kInvalidArgument, "tuple"},
      {"unterminated", "{'descr': '<f4, 'fortran_order': False, 'shape': (4,)}", StatusCode::kInvalidArgument,
       "header"},
      {"bad bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,)}", StatusCode::kInvalidArgument,
       "fortran_order"},
      {"trailing text", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} junk",
       StatusCode::kInvalidArgument, "after the header"},
      {"garbage descr", "{'descr': 'float', 'fortran_order': False, 'shape': (4,)}", StatusCode::kInvalidArgument,
       "descr"},
      {"big endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,)}", StatusCode::kUnimplemented,
       "big-endian"},
      {"complex", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}", StatusCode::kUnimplemented, "<c8"},
      {"fortran", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", StatusCode::kUnimplemented,
       "Fortran"},
      {"huge shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16)}",
       StatusCode::kInvalidArgument, "too large"},
      {"overflowing dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
       StatusCode::kInvalidArgument, "too large"},
      {"too little data", "{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}", StatusCode::kDataLoss,
       "truncated"},
      {"too much data", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", StatusCode::kDataLoss, "16"},
  };
  for (const MalformedCase& c : cases) {
    auto t = parse_npy(make_npy(c.dict, four_floats), "bad.npy");
    ASSERT_FALSE(t.ok()) << c.what;
    EXPECT_EQ(t.status().code(), c.code) << c.what << ": " << t.status().to_string();
    EXPECT_NE(t.status().message().find(c.message_part), std::string::npos) << c.what << ": " << t.status().to_string();
    EXPECT_NE(t.status().message().find("bad.npy"), std::string::npos) << c.what;
  }
}

TEST(Npy, BadMagicAndVersion) {
  auto not_npy = parse_npy("PK\x03\x04 this is a zip file", "x.npy");
  ASSERT_FALSE(not_npy.ok());
  EXPECT_EQ(not_npy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_npy.status().message().find("magic"), std::string::npos);

  std::string v9 = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", bytes_of({1}));
  v9[6] = 9;
  auto bad_version = parse_npy(v9, "v9.npy");
  ASSERT_FALSE(bad_version.ok());
  EXPECT_EQ(bad_version.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(bad_version.status().message().find("9.0"), std::string::npos);
}

TEST(Npy, MissingFileIsNotFound) {
  auto t = read_npy("/nonexistent-dir/kiln/missing.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("missing.npy"), std::string::npos);
}

TEST(Npy, UnsupportedDTypeIsNotWritten) {
  Tensor t(DType::kBFloat16, Shape{2});
  auto bytes = serialize_npy(t);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(bytes.status().message().find("bfloat16"), std::string::npos);
}

}  // namespace
}  // namespace kiln
