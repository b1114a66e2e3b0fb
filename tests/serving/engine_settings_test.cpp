#include "serving/engine_settings.h"

#include <gtest/gtest.h>

#include "serving/model_config_loader.h"

namespace kiln::serving {
namespace {

constexpr const char* kPath = "repo/adder/config.pbtxt";

struct Parsed {
  ModelConfig config;
  ConfigLocations locations;
};

Parsed parse(const std::string& text) {
  Parsed parsed;
  Result<ModelConfig> config = parse_model_config(text, kPath, &parsed.locations);
  EXPECT_TRUE(config.ok()) << config.status().message();
  if (config.ok()) parsed.config = *config;
  EXPECT_TRUE(validate_model_config(parsed.config, "adder", kPath).ok());
  return parsed;
}

struct Logged {
  std::vector<std::string> lines;
  LogFn fn() {
    return [this](const std::string& line) { lines.push_back(line); };
  }
  bool contains(const std::string& text) const {
    for (const std::string& line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
};

TEST(ConfigLocations, NamesLinesOfNestedRepeatedAndMapFields) {
  const Parsed p = parse(
      "name: \"adder\"\n"                                              // 1
      "max_batch_size: 8\n"                                            // 2
      "instance_group [\n"                                             // 3
      "  { count: 1 kind: KIND_CPU },\n"                               // 4
      "  { count: 2\n"                                                 // 5
      "    kind: KIND_CPU } ]\n"                                       // 6
      "parameters { key: \"a\" value: { string_value: \"1\" } }\n"     // 7
      "parameters {\n"                                                 // 8
      "  key: \"precision\"\n"                                         // 9
      "  value: { string_value: \"fp16\" } }\n");                      // 10
  EXPECT_EQ(p.locations.line("max_batch_size"), 2);
  EXPECT_EQ(p.locations.line("instance_group[0].kind"), 4);
  EXPECT_EQ(p.locations.line("instance_group[1].kind"), 6);
  EXPECT_EQ(p.locations.line("parameters[\"a\"]"), 7);
  EXPECT_EQ(p.locations.line("parameters[\"precision\"]"), 9);
  EXPECT_FALSE(p.locations.line("input[0].dims").has_value());
  EXPECT_EQ(p.locations.error(kPath, "max_batch_size", "bad"), std::string(kPath) + ":2: max_batch_size: bad");
  EXPECT_EQ(p.locations.error(kPath, "output", "bad"), std::string(kPath) + ": output: bad");
}

TEST(EngineSettings, CpuInstancesBuildHostEnginesInTheConfiguredPrecision) {
  Logged log;
  Parsed p = parse("instance_group [ { count: 2 kind: KIND_CPU } ]\n"
                   "parameters { key: \"precision\" value: { string_value: \"BF16\" } }\n");
  Result<EngineSettings> settings = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
  ASSERT_TRUE(settings.ok()) << settings.status().message();
  EXPECT_TRUE(settings->build_engine);
  EXPECT_EQ(settings->kind, ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(settings->backends, (std::vector<std::string>{"cpu", "reference"}));
  EXPECT_EQ(settings->target.device_kind, "host");
  EXPECT_FALSE(settings->target.kiln_version.empty());
  EXPECT_EQ(settings->precision, "bf16");
  EXPECT_TRUE(settings->cuda_graphs);
}

TEST(EngineSettings, TensorRtPrecisionModeAppliesToGpuInstancesOnly) {
  Logged log;
  Parsed p = parse(
      "instance_group [ { kind: KIND_CPU } ]\n"
      "optimization { execution_accelerators { gpu_execution_accelerator [ { name: \"tensorrt\"\n"
      "  parameters { key: \"precision_mode\" value: \"FP16\" }\n"
      "  parameters { key: \"max_workspace_size_bytes\" value: \"1073741824\" } } ] }\n"
      "  cuda { graphs: false } }\n");
  Result<EngineSettings> settings = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
  ASSERT_TRUE(settings.ok()) << settings.status().message();
  EXPECT_EQ(settings->precision, "fp32");
  EXPECT_FALSE(settings->cuda_graphs);
  EXPECT_TRUE(log.contains(std::string(kPath) + ":3: optimization.execution_accelerators.gpu_execution_accelerator[0]"
                                                ".parameters[\"precision_mode\"]: ignored: the model's instances run on the CPU"));
  EXPECT_TRUE(log.contains("max_workspace_size_bytes\"]: ignored"));
}

TEST(EngineSettings, BadValuesNameFileLineAndField) {
  struct Case {
    const char* text;
    const char* where;  // "path:LINE: field"
  };
  const Case cases[] = {
      {"max_batch_size: 1\nparameters { key: \"precision\" value: { string_value: \"fp17\" } }",
       ":2: parameters[\"precision\"]: 'fp17' is not a precision"},
      {"optimization { execution_accelerators {\n gpu_execution_accelerator [ { name: \"tensorrt\"\n"
       "  parameters { key: \"precision_mode\" value: \"INT8\" } } ] } }",
       ":3: optimization.execution_accelerators.gpu_execution_accelerator[0].parameters[\"precision_mode\"]: 'INT8'"},
      {"optimization { execution_accelerators {\n gpu_execution_accelerator [ { name: \"openvino\" } ] } }",
       ":2: optimization.execution_accelerators.gpu_execution_accelerator[0].name"},
      {"instance_group [ { kind: KIND_CPU },\n { kind: KIND_GPU } ]", ":2: instance_group[1].kind: KIND_GPU differs"},
      {"instance_group [ { kind: KIND_MODEL } ]", ":1: instance_group[0].kind: KIND_MODEL"},
      {"instance_group [ { kind: KIND_GPU gpus: [ 1 ] } ]", ":1: instance_group[0].gpus"},
      {"parameters { key: \"executor\" value: { string_value: \"fast\" } }", ":1: parameters[\"executor\"]"},
  };
  for (const Case& c : cases) {
    Logged log;
    Parsed p = parse(c.text);
    Result<EngineSettings> settings = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
    ASSERT_FALSE(settings.ok()) << c.text;
    EXPECT_NE(settings.status().message().find(std::string(kPath) + c.where), std::string::npos) << settings.status().message();
  }
}

TEST(EngineSettings, CpuThreadsFromKilnsOrTritonsParameter) {
  for (const char* key : {"cpu_threads", "intra_op_thread_count"}) {
    Logged log;
    Parsed p = parse(std::string("instance_group [ { kind: KIND_CPU } ]\nparameters { key: \"") + key +
                     "\" value: { string_value: \"3\" } }\n");
    Result<EngineSettings> settings = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
    ASSERT_TRUE(settings.ok()) << settings.status().message();
    EXPECT_EQ(settings->cpu_threads, 3) << key;
  }
  Logged log;
  Parsed none = parse("instance_group [ { kind: KIND_CPU } ]\n");
  Result<EngineSettings> settings = engine_settings_from_config(none.config, none.locations, kPath, log.fn());
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->cpu_threads, 0) << "no parameter: the server's default";
  for (const char* bad : {"-1", "two", "4x", "100000"}) {
    Parsed p = parse(std::string("parameters { key: \"cpu_threads\" value: { string_value: \"") + bad + "\" } }");
    Result<EngineSettings> refused = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find(std::string(kPath) + ":1: parameters[\"cpu_threads\"]: '" + bad + "'"),
              std::string::npos)
        << refused.status().message();
  }
  Parsed both = parse("parameters { key: \"cpu_threads\" value: { string_value: \"2\" } }\n"
                      "parameters { key: \"intra_op_thread_count\" value: { string_value: \"4\" } }\n");
  Result<EngineSettings> contradiction = engine_settings_from_config(both.config, both.locations, kPath, log.fn());
  ASSERT_FALSE(contradiction.ok());
  EXPECT_NE(contradiction.status().message().find("contradicts"), std::string::npos) << contradiction.status().message();
}

TEST(EngineSettings, GpuInstancesWithoutAGpuFailNamingTheField) {
  if (build_target({"cuda"}).ok()) GTEST_SKIP() << "this machine has a GPU";
  Logged log;
  Parsed p = parse("max_batch_size: 4\ninstance_group [ { count: 1 kind: KIND_GPU } ]\n");
  Result<EngineSettings> settings = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
  ASSERT_FALSE(settings.ok());
  EXPECT_NE(settings.status().message().find(std::string(kPath) + ":2: instance_group[0].kind: KIND_GPU cannot be used here"),
            std::string::npos)
      << settings.status().message();
}

TEST(EngineSettings, ReferenceExecutorOnRequest) {
  Logged log;
  Parsed p = parse("parameters { key: \"executor\" value: { string_value: \"reference\" } }");
  Result<EngineSettings> settings = engine_settings_from_config(p.config, p.locations, kPath, log.fn());
  ASSERT_TRUE(settings.ok()) << settings.status().message();
  EXPECT_FALSE(settings->build_engine);
}

TEST(EngineProfiles, BatchSizesFromPreferredSizesOrALadder) {
  EXPECT_EQ(profile_batch_sizes(parse("max_batch_size: 0").config), std::vector<int64_t>{});
  EXPECT_EQ(profile_batch_sizes(parse("max_batch_size: 1").config), std::vector<int64_t>{1});
  EXPECT_EQ(profile_batch_sizes(parse("max_batch_size: 12").config), (std::vector<int64_t>{1, 2, 4, 8, 12}));
  EXPECT_EQ(profile_batch_sizes(parse("max_batch_size: 8 dynamic_batching { }").config), (std::vector<int64_t>{1, 2, 4, 8}));
  EXPECT_EQ(profile_batch_sizes(parse("max_batch_size: 16 dynamic_batching { preferred_batch_size: [ 8, 4, 8 ] }").config),
            (std::vector<int64_t>{4, 8, 16}));
}

TEST(EngineProfiles, ShapesPerProfileAndVariableDimsRefused) {
  Parsed p = parse("max_batch_size: 4\n"
                   "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 3, 2 ] },\n"
                   "        { name: \"z\" data_type: TYPE_FP32 dims: [ 6 ] reshape { shape: [ 2, 3 ] } } ]\n");
  Result<std::vector<std::map<std::string, Shape>>> profiles = engine_profiles(p.config, p.locations, kPath);
  ASSERT_TRUE(profiles.ok()) << profiles.status().message();
  ASSERT_EQ(profiles->size(), 3u);
  EXPECT_EQ(profiles->at(0).at("x"), Shape({1, 3, 2}));
  EXPECT_EQ(profiles->at(2).at("x"), Shape({4, 3, 2}));
  EXPECT_EQ(profiles->at(1).at("z"), Shape({2, 2, 3}));  // the reshape target is the model's view

  Parsed unbatched = parse("input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 2, 4 ] } ]");
  profiles = engine_profiles(unbatched.config, unbatched.locations, kPath);
  ASSERT_TRUE(profiles.ok());
  ASSERT_EQ(profiles->size(), 1u);
  EXPECT_EQ(profiles->at(0).at("x"), Shape({2, 4}));

  Parsed variable = parse("max_batch_size: 2\n\ninput [ { name: \"tokens\" data_type: TYPE_INT64 dims: [ -1 ] } ]");
  profiles = engine_profiles(variable.config, variable.locations, kPath);
  ASSERT_FALSE(profiles.ok());
  EXPECT_NE(profiles.status().message().find(std::string(kPath) + ":3: input[0].dims: input 'tokens' has the variable dimension 0"),
            std::string::npos)
      << profiles.status().message();
}

}  // namespace
}  // namespace kiln::serving
