#include "serving/model_config_loader.h"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_session.h"
#include "serving/model_repository.h"

namespace kiln::serving {
namespace {

using testing::FakeSession;
constexpr const char* kPath = "repo/adder/config.pbtxt";

TEST(ModelConfigLoader, ParsesKilnConfig) {
  const char* text = R"(
name: "adder"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { count: 2 kind: KIND_CPU } ]
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
  default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 5000 max_queue_size: 16 }
}
version_policy: { specific { versions: [ 1, 3 ] } }
parameters { key: "k" value: { string_value: "v" } }
)";
  Result<ModelConfig> config = parse_model_config(text, kPath);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->max_batch_size(), 8);
  EXPECT_EQ(config->instance_group(0).count(), 2);
  EXPECT_EQ(config->dynamic_batching().preferred_batch_size_size(), 2);
  EXPECT_EQ(config->dynamic_batching().default_queue_policy().max_queue_size(), 16u);
  EXPECT_EQ(config->version_policy().specific().versions_size(), 2);
  EXPECT_EQ(config->parameters().at("k").string_value(), "v");
  ModelConfig validated = *config;
  ASSERT_TRUE(validate_model_config(validated, "adder", kPath).ok());
  FakeSession session(4, std::chrono::milliseconds(0));
  Status completed = complete_model_config(validated, session, kPath);
  EXPECT_TRUE(completed.ok()) << completed.message();
}

TEST(ModelConfigLoader, AcceptsTritonFieldsKilnIgnores) {
  const char* text = R"(
name: "adder"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "x" data_type: TYPE_FP32 format: FORMAT_NONE dims: [ -1 ] allow_ragged_batch: false } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ -1 ] label_filename: "labels.txt" } ]
optimization { execution_accelerators { cpu_execution_accelerator : [ { name : "openvino" } ] }
               input_pinned_memory { enable: true } }
model_warmup [ { name: "w" batch_size: 1 inputs { key: "x" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]
response_cache { enable: false }
)";
  Result<ModelConfig> config = parse_model_config(text, kPath);
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_TRUE(validate_model_config(*config, "adder", kPath).ok());
  EXPECT_EQ(config->version_policy().latest().num_versions(), 1u);  // the default policy
  EXPECT_EQ(config->instance_group_size(), 1);
}

TEST(ModelConfigLoader, SyntaxErrorNamesFileLineAndColumn) {
  Result<ModelConfig> config = parse_model_config("name: \"adder\"\nmax_batch_size: 4\nbogus_field: 3\n", kPath);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(std::string(kPath) + ":3:"), std::string::npos) << config.status().message();
  EXPECT_NE(config.status().message().find("bogus_field"), std::string::npos) << config.status().message();

  Result<ModelConfig> bad_enum = parse_model_config("input [ { name: \"x\"\n  data_type: TYPE_FLOAT } ]", kPath);
  ASSERT_FALSE(bad_enum.ok());
  EXPECT_NE(bad_enum.status().message().find(":2:"), std::string::npos) << bad_enum.status().message();
}

TEST(ModelConfigLoader, ValidationErrorsNameTheField) {
  struct Case {
    const char* text;
    const char* field;
  };
  const Case cases[] = {
      {"name: \"other\"", "name"},
      {"max_batch_size: -1", "max_batch_size"},
      {"max_batch_size: 4 dynamic_batching { preferred_batch_size: 8 }", "preferred_batch_size"},
      {"platform: \"tensorrt_plan\"", "platform"},
      {"instance_group [ { count: -1 } ]", "count"},
      {"dynamic_batching { priority_levels: 2 default_priority_level: 3 }", "default_priority_level"},
  };
  for (const Case& c : cases) {
    Result<ModelConfig> config = parse_model_config(c.text, kPath);
    ASSERT_TRUE(config.ok()) << c.text;
    Status status = validate_model_config(*config, "adder", kPath);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.message().find(kPath), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status.message();
  }
}

TEST(ModelConfigLoader, CompletesAndChecksAgainstTheModel) {
  FakeSession session(4, std::chrono::milliseconds(0));
  Result<ModelConfig> empty = parse_model_config("max_batch_size: 2", kPath);
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(validate_model_config(*empty, "adder", kPath).ok());
  ASSERT_TRUE(complete_model_config(*empty, session, kPath).ok());
  ASSERT_EQ(empty->input_size(), 1);
  EXPECT_EQ(empty->input(0).name(), "x");
  EXPECT_EQ(empty->input(0).data_type(), TYPE_FP32);
  ASSERT_EQ(empty->input(0).dims_size(), 1);  // the batch dimension is implicit
  EXPECT_EQ(empty->input(0).dims(0), 4);
  ASSERT_EQ(empty->output_size(), 1);

  const char* wrong[] = {
      "max_batch_size: 2 input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 5 ] } ]",
      "max_batch_size: 2 input [ { name: \"x\" data_type: TYPE_INT32 dims: [ 4 ] } ]",
      "max_batch_size: 2 input [ { name: \"nope\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
      "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]",  // no batching: rank 2 expected
  };
  for (const char* text : wrong) {
    Result<ModelConfig> config = parse_model_config(text, kPath);
    ASSERT_TRUE(config.ok()) << text;
    ASSERT_TRUE(validate_model_config(*config, "adder", kPath).ok()) << text;
    Status status = complete_model_config(*config, session, kPath);
    EXPECT_FALSE(status.ok()) << text;
    EXPECT_NE(status.message().find(kPath), std::string::npos) << status.message();
  }
}

TEST(ModelRepository, RejectsPathTraversal) {
  for (const char* name : {"..", ".", "../etc", "a/b", "a\\b", ".hidden", ""}) {
    EXPECT_FALSE(check_model_name(name).ok()) << name;
  }
  EXPECT_TRUE(check_model_name("resnet50_v1-5").ok());
  for (const char* version : {"../1", "1/..", "-1", "", "1a", "99999999999999999999"}) {
    EXPECT_FALSE(parse_version(version).ok()) << version;
  }
  Result<int64_t> version = parse_version("12");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 12);
  ModelRepository repository("some/repo");
  EXPECT_FALSE(repository.list_versions("../outside").ok());
}

TEST(ModelRepository, VersionPolicies) {
  const std::vector<int64_t> available = {1, 3, 2, 7};
  ModelVersionPolicy latest;
  latest.mutable_latest()->set_num_versions(2);
  EXPECT_EQ(select_versions(latest, available), (std::vector<int64_t>{7, 3}));
  ModelVersionPolicy all;
  all.mutable_all();
  EXPECT_EQ(select_versions(all, available), (std::vector<int64_t>{7, 3, 2, 1}));
  ModelVersionPolicy specific;
  specific.mutable_specific()->add_versions(2);
  specific.mutable_specific()->add_versions(5);
  EXPECT_EQ(select_versions(specific, available), (std::vector<int64_t>{2}));
  EXPECT_EQ(select_versions(ModelVersionPolicy{}, available), (std::vector<int64_t>{7}));
}

}  // namespace
}  // namespace kiln::serving
