// Initializers stored in files next to the model (TensorProto.data_location = EXTERNAL).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "model_builder.h"

namespace kiln::onnx_test {
namespace {

namespace fs = std::filesystem;
using onnx::TensorProto;

class ExternalData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln_external_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "weights");
    std::mt19937_64 rng(1234);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    values_.resize(6);
    for (auto& v : values_) v = dist(rng);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `padding` junk bytes followed by the values.
  void write_weights(const std::string& relative, size_t padding) {
    std::ofstream out(dir_ / relative, std::ios::binary);
    out << std::string(padding, 'x');
    out.write(reinterpret_cast<const char*>(values_.data()), static_cast<std::streamsize>(values_.size() * sizeof(float)));
  }

  // A model whose initializer 'w' lives at `location`.
  ModelBuilder model(const std::string& location, const std::string& offset, const std::string& length) {
    ModelBuilder m;
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
    auto* w = m.graph().add_initializer();
    w->set_name("w");
    w->set_data_type(TensorProto::FLOAT);
    w->add_dims(2);
    w->add_dims(3);
    w->set_data_location(TensorProto::EXTERNAL);
    auto add = [&](const std::string& key, const std::string& value) {
      if (value.empty()) return;
      auto* e = w->add_external_data();
      e->set_key(key);
      e->set_value(value);
    };
    add("location", location);
    add("offset", offset);
    add("length", length);
    m.node("Add", {"x", "w"}, {"y"});
    m.output("y");
    return m;
  }

  Result<ir::Graph> import_from_file(const ModelBuilder& m) {
    const std::string path = (dir_ / "model.onnx").string();
    std::ofstream(path, std::ios::binary) << m.bytes();
    return onnx_import::import_file(path, {.infer_and_verify = false});
  }

  fs::path dir_;
  std::vector<float> values_;
};

TEST_F(ExternalData, ReadsAtOffsetRelativeToTheModel) {
  constexpr size_t kPadding = 16;
  write_weights("weights/w.bin", kPadding);
  auto graph = import_from_file(model("weights/w.bin", std::to_string(kPadding), std::to_string(6 * sizeof(float))));
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const Tensor* w = graph->find_value("w")->constant();
  ASSERT_NE(w, nullptr);
  for (size_t i = 0; i < values_.size(); ++i) EXPECT_EQ(w->data<float>()[i], values_[i]);
}

TEST_F(ExternalData, ImportBytesWithBaseDir) {
  write_weights("w.bin", 0);
  auto graph = model("w.bin", "", "").import(false, dir_.string());
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(graph->find_value("w")->constant()->data<float>()[5], values_[5]);
  auto no_dir = model("w.bin", "", "").import(false, "");
  EXPECT_EQ(no_dir.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ExternalData, PathsEscapingTheDirectoryAreRejected) {
  write_weights("w.bin", 0);
  for (const std::string location : {"../w.bin", "weights/../../w.bin", "/etc/passwd"}) {
    auto graph = import_from_file(model(location, "", ""));
    ASSERT_FALSE(graph.ok()) << location;
    EXPECT_EQ(graph.status().code(), StatusCode::kInvalidArgument) << location;
    EXPECT_NE(graph.status().message().find("'w'"), std::string::npos) << graph.status().message();
  }
}

TEST_F(ExternalData, MissingFileIsNotFoundNamingFileAndTensor) {
  auto graph = import_from_file(model("absent.bin", "", ""));
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kNotFound);
  EXPECT_NE(graph.status().message().find("absent.bin"), std::string::npos);
  EXPECT_NE(graph.status().message().find("'w'"), std::string::npos);
  EXPECT_NE(graph.status().message().find("model.onnx"), std::string::npos);
}

TEST_F(ExternalData, ShortFileOrWrongLengthIsDataLoss) {
  write_weights("w.bin", 0);
  auto past_end = import_from_file(model("w.bin", "4", ""));
  EXPECT_EQ(past_end.status().code(), StatusCode::kDataLoss);
  auto wrong_length = import_from_file(model("w.bin", "", "8"));
  EXPECT_EQ(wrong_length.status().code(), StatusCode::kDataLoss);
  auto huge_offset = import_from_file(model("w.bin", "18446744073709551615", ""));
  EXPECT_EQ(huge_offset.status().code(), StatusCode::kDataLoss);
  auto bad_number = import_from_file(model("w.bin", "-1", ""));
  EXPECT_EQ(bad_number.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::onnx_test
