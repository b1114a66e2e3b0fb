// Builder -> plan file -> runtime on the host, against the node-by-node reference executor on
// the same graph and the same random inputs; and the plan file's refusals.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "backends/cpu/cpu_backend.h"
#include "backends/registry/registry.h"
#include "engine/builder/engine_builder.h"
#include "engine/graph_executor.h"
#include "engine_test_graphs.h"
#include "plan/plan_file.h"
#include "kiln/transfer_tensor.h"
#include "runtime/engine.h"
#include "runtime/execution_context.h"

namespace kiln::engine {
namespace {

using engine_test::random_feeds;
using engine_test::relative_error;
using engine_test::small_cnn;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("kiln_engine_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

Result<std::string> build_to_file(const BuildOptions& options, const std::string& name) {
  KILN_ASSIGN_OR_RETURN(BuildResult built, build_engine(small_cnn(), options));
  const std::string path = temp_path(name);
  KILN_RETURN_IF_ERROR(plan::write_plan(path, built.header, built.weights));
  return path;
}

std::vector<Tensor> reference_outputs(const std::map<std::string, Tensor>& feeds) {
  auto executor = GraphExecutor::create(small_cnn());
  EXPECT_TRUE(executor.ok());
  auto outputs = (*executor)->run(feeds);
  EXPECT_TRUE(outputs.ok()) << outputs.status().to_string();
  return *outputs;
}

BuildOptions reference_options(Precision precision = Precision::kFloat32) {
  BuildOptions options;
  options.backends = {"reference"};
  options.precision = precision;
  return options;
}

TEST(PlanEngine, HostPlanMatchesTheReferenceExecutor) {
  auto path = build_to_file(reference_options(), "fp32.plan");
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  auto engine = runtime::Engine::load(*path);
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  ASSERT_EQ((*engine)->inputs().size(), 1u);
  ASSERT_EQ((*engine)->outputs().size(), 2u);
  EXPECT_EQ((*engine)->outputs()[0].name, "probs");
  auto context = (*engine)->create_context();
  ASSERT_TRUE(context.ok()) << context.status().to_string();
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto feeds = random_feeds(small_cnn(), seed);
    const std::vector<Tensor> expected = reference_outputs(feeds);
    runtime::RunTimings timings;
    auto got = (*context)->run({feeds.at("x")}, &timings);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), 2u);
    for (size_t i = 0; i < 2; ++i) EXPECT_LT(relative_error((*got)[i], expected[i]), 1e-6) << "output " << i;
    EXPECT_GE(timings.compute_ms, 0.0);
  }
  std::filesystem::remove(*path);
}

// What CUDA builds get, forced on the reference backend: the plan runs the conv and pool
// channels-last between two Transposes and still computes what the graph does.
TEST(PlanEngine, ChannelsLastBuildMatchesTheReferenceExecutor) {
  BuildOptions options = reference_options();
  options.channels_last = true;
  auto built = build_engine(small_cnn(), options);
  ASSERT_TRUE(built.ok()) << built.status().to_string();
  const plan::Profile& h = built->header.profiles(0);
  int transposes = 0;
  for (int i = 0; i < h.steps_size(); ++i) transposes += h.steps(i).op() == "Transpose" ? 1 : 0;
  EXPECT_EQ(transposes, 2);
  const std::string path = temp_path("channels_last.plan");
  ASSERT_TRUE(plan::write_plan(path, built->header, built->weights).ok());
  auto engine = runtime::Engine::load(path);
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto context = (*engine)->create_context();
  ASSERT_TRUE(context.ok()) << context.status().to_string();
  const auto feeds = random_feeds(small_cnn(), 7);
  const std::vector<Tensor> expected = reference_outputs(feeds);
  auto got = (*context)->run({feeds.at("x")}, nullptr);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_LT(relative_error((*got)[i], expected[i]), 1e-6) << "output " << i;
  std::filesystem::remove(path);
}

TEST(PlanEngine, ViewsShareMemoryAndTheArenaIsSmallerThanTheSum) {
  auto built = build_engine(small_cnn(), reference_options());
  ASSERT_TRUE(built.ok()) << built.status().to_string();
  const plan::Profile& h = built->header.profiles(0);
  int views = 0;
  for (const plan::Step& s : h.steps()) {
    if (s.op() != "Flatten") continue;
    EXPECT_TRUE(s.backend().empty()) << "Flatten should be a view";
    EXPECT_EQ(h.values(s.inputs(0)).arena_offset(), h.values(s.outputs(0)).arena_offset());
    ++views;
  }
  EXPECT_EQ(views, 1);
  EXPECT_LT(h.arena_bytes(), h.naive_activation_bytes());
  EXPECT_GT(built->header.weights_bytes(), 0u);
}

TEST(PlanEngine, Float16PlanStaysCloseToFloat32) {
  auto path = build_to_file(reference_options(Precision::kFloat16), "fp16.plan");
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  auto engine = runtime::Engine::load(*path);
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  EXPECT_EQ((*engine)->inputs()[0].dtype, DType::kFloat32) << "the interface keeps the model's dtypes";
  bool any_half = false;
  for (const plan::Value& v : (*engine)->header().profiles(0).values()) any_half |= static_cast<DType>(v.dtype()) == DType::kFloat16;
  EXPECT_TRUE(any_half) << "weights and activations should be stored in float16";
  auto context = (*engine)->create_context();
  ASSERT_TRUE(context.ok());
  auto feeds = random_feeds(small_cnn(), 7);
  const std::vector<Tensor> expected = reference_outputs(feeds);
  auto got = (*context)->run({feeds.at("x")});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_LT(relative_error((*got)[1], expected[1]), 1e-2);
  EXPECT_GT(relative_error((*got)[1], expected[1]), 0.0) << "float16 storage should round somewhere";
  std::filesystem::remove(*path);
}

TEST(PlanEngine, WrongInputShapeIsAClearError) {
  auto path = build_to_file(reference_options(), "shape.plan");
  ASSERT_TRUE(path.ok());
  auto engine = runtime::Engine::load(*path);
  ASSERT_TRUE(engine.ok());
  auto context = (*engine)->create_context();
  ASSERT_TRUE(context.ok());
  auto got = (*context)->run({Tensor(DType::kFloat32, Shape{1, 3, 8, 8})});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("2x3x8x8"), std::string::npos) << got.status().message();
  std::filesystem::remove(*path);
}

TEST(PlanEngine, DynamicShapesWithoutConcreteSizesAreRefused) {
  auto built = build_engine(small_cnn("N"), reference_options());
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.status().message().find("--shapes"), std::string::npos) << built.status().message();

  ir::Graph fixed = small_cnn("N");
  BuildOptions options = reference_options();
  options.shapes["x"] = Shape{2, 3, 8, 8};
  EXPECT_TRUE(build_engine(std::move(fixed), options).ok());
}

ir::Graph small_cnn_any_batch() { return small_cnn("N"); }

TEST(PlanEngine, ProfilesShareWeightsAndEachRunsItsShapes) {
  BuildOptions options = reference_options();
  options.profiles = {{{"x", Shape{1, 3, 8, 8}}}, {{"x", Shape{4, 3, 8, 8}}}};
  const GraphSource source = [] { return Result<ir::Graph>(small_cnn_any_batch()); };
  auto built = build_engine(source, options);
  ASSERT_TRUE(built.ok()) << built.status().to_string();
  auto single = build_engine(small_cnn(), reference_options());
  ASSERT_TRUE(single.ok());
  ASSERT_EQ(built->header.profiles_size(), 2);
  EXPECT_EQ(built->header.weights_bytes(), single->header.weights_bytes()) << "profiles share one copy of the weights";
  EXPECT_LT(built->header.profiles(0).arena_bytes(), built->header.profiles(1).arena_bytes());

  const std::string path = temp_path("profiles.plan");
  ASSERT_TRUE(plan::write_plan(path, built->header, built->weights).ok());
  auto engine = runtime::Engine::load(path);
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  ASSERT_EQ((*engine)->profile_count(), 2u);
  for (size_t p = 0; p < 2; ++p) {
    const Shape shape = (*engine)->inputs(p)[0].shape;
    EXPECT_EQ(shape[0], p == 0 ? 1 : 4);
    Tensor x = engine_test::random_tensor(DType::kFloat32, shape, 40 + static_cast<uint32_t>(p));
    ir::Graph reference_graph = small_cnn_any_batch();
    auto executor = GraphExecutor::create(std::move(reference_graph));
    ASSERT_TRUE(executor.ok());
    auto expected = (*executor)->run({{"x", x}});
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    auto context = (*engine)->create_context(p);
    ASSERT_TRUE(context.ok());
    auto got = (*context)->run({x});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_LT(relative_error((*got)[0], (*expected)[0]), 1e-6) << "profile " << p;
  }
  EXPECT_FALSE((*engine)->create_context(2).ok());
  std::filesystem::remove(path);
}

TEST(PlanEngine, AContextRunsASmallerBatchInItsProfileAndReturnsOnlyThoseRows) {
  BuildOptions options = reference_options();
  options.shapes["x"] = Shape{4, 3, 8, 8};
  auto engine = engine_test::build_and_load(small_cnn_any_batch(), options, "rows");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto context = (*engine)->create_context(0);
  ASSERT_TRUE(context.ok());
  // A full batch first, so the rows past the smaller batch hold another run's data.
  ASSERT_TRUE((*context)->run({engine_test::random_tensor(DType::kFloat32, Shape{4, 3, 8, 8}, 51)}).ok());
  for (int64_t rows : {3, 1, 4}) {
    Tensor x = engine_test::random_tensor(DType::kFloat32, Shape{rows, 3, 8, 8}, 52 + static_cast<uint32_t>(rows));
    auto executor = GraphExecutor::create(small_cnn_any_batch());
    ASSERT_TRUE(executor.ok());
    auto expected = (*executor)->run({{"x", x}});
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    auto got = (*context)->run_rows({x}, rows);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), expected->size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].shape(), (*expected)[i].shape()) << "output " << i << " at " << rows << " rows";
      EXPECT_LT(relative_error((*got)[i], (*expected)[i]), 1e-6) << "output " << i << " at " << rows << " rows";
    }
  }
  auto too_many = (*context)->run_rows({engine_test::random_tensor(DType::kFloat32, Shape{5, 3, 8, 8}, 60)}, 5);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("4x3x8x8"), std::string::npos) << too_many.status().to_string();
  auto wrong_image = (*context)->run_rows({engine_test::random_tensor(DType::kFloat32, Shape{2, 3, 8, 9}, 61)}, 2);
  ASSERT_FALSE(wrong_image.ok());
  EXPECT_NE(wrong_image.status().message().find("2x3x8x8"), std::string::npos) << wrong_image.status().to_string();
}

// The dynamic batcher's path (kiln/batch_runner.h): each request's rows copied to their place in
// the arena, no host join; the result must equal a run on the joined batch.
TEST(PlanEngine, AContextJoinsRowGroupsIntoOneBatch) {
  BuildOptions options = reference_options();
  options.shapes["x"] = Shape{4, 3, 8, 8};
  auto engine = engine_test::build_and_load(small_cnn_any_batch(), options, "groups");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto context = (*engine)->create_context(0);
  ASSERT_TRUE(context.ok());
  ASSERT_TRUE((*context)->run({engine_test::random_tensor(DType::kFloat32, Shape{4, 3, 8, 8}, 70)}).ok());
  const std::vector<std::vector<int64_t>> splits = {{1, 2}, {2, 2}, {1, 1, 1, 1}, {3}};
  for (const std::vector<int64_t>& split : splits) {
    std::vector<Tensor> groups;
    int64_t rows = 0;
    for (int64_t n : split) {
      groups.push_back(engine_test::random_tensor(DType::kFloat32, Shape{n, 3, 8, 8}, 71 + static_cast<uint32_t>(rows)));
      rows += n;
    }
    // The joined batch, built by hand for the reference executor.
    Tensor joined(DType::kFloat32, Shape{rows, 3, 8, 8});
    auto* out = static_cast<unsigned char*>(joined.raw_data());
    for (const Tensor& g : groups) {
      std::memcpy(out, g.raw_data(), g.nbytes());
      out += g.nbytes();
    }
    auto executor = GraphExecutor::create(small_cnn_any_batch());
    ASSERT_TRUE(executor.ok());
    auto expected = (*executor)->run({{"x", joined}});
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    auto got = (*context)->run_parts({groups}, rows);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), expected->size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].shape(), (*expected)[i].shape()) << "output " << i << " with " << split.size() << " groups";
      EXPECT_LT(relative_error((*got)[i], (*expected)[i]), 1e-6) << "output " << i << " with " << split.size() << " groups";
    }
  }
  auto mismatched = (*context)->run_parts({{engine_test::random_tensor(DType::kFloat32, Shape{1, 3, 8, 8}, 80),
                                            engine_test::random_tensor(DType::kFloat32, Shape{1, 3, 8, 9}, 81)}},
                                          2);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("cannot be joined"), std::string::npos) << mismatched.status().to_string();
  auto too_many = (*context)->run_parts({{engine_test::random_tensor(DType::kFloat32, Shape{3, 3, 8, 8}, 82),
                                          engine_test::random_tensor(DType::kFloat32, Shape{2, 3, 8, 8}, 83)}},
                                        5);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("4x3x8x8"), std::string::npos) << too_many.status().to_string();
}

TEST(PlanEngine, CpuStepsRunOnTheSessionsOwnThreadCount) {
  BuildOptions options;
  options.backends = {"cpu", "reference"};
  auto shared = engine_test::build_and_load(small_cnn(), options, "threads_shared");
  ASSERT_TRUE(shared.ok()) << shared.status().to_string();
  EXPECT_EQ((*shared)->cpu_threads(), 0);
  const auto* one = dynamic_cast<const backends::cpu::CpuBackend*>(backends::cpu_backend_with_threads(1));
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->threads(), 1);
  EXPECT_EQ(backends::cpu_backend_with_threads(1), one) << "one backend per thread count";
  EXPECT_NE(backends::cpu_backend_with_threads(2), one);
  auto feeds = random_feeds(small_cnn(), 81);
  const std::vector<Tensor> expected = reference_outputs(feeds);
  for (int threads : {1, 2}) {
    auto engine = engine_test::build_and_load(small_cnn(), options, "threads_" + std::to_string(threads));
    ASSERT_TRUE(engine.ok());
    // The plan is the same; its loading picks the backend instance.
    auto reloaded = runtime::Engine::from_plan((*engine)->plan_file(), threads);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().to_string();
    EXPECT_EQ((*reloaded)->cpu_threads(), threads);
    bool any_cpu = false;
    for (const runtime::StepInfo& step : (*reloaded)->steps()) any_cpu |= step.backend == "cpu";
    EXPECT_TRUE(any_cpu) << "the graph should have CPU steps";
    auto context = (*reloaded)->create_context(0);
    ASSERT_TRUE(context.ok());
    auto got = (*context)->run({feeds.at("x")});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_LT(relative_error((*got)[i], expected[i]), 1e-5) << threads << " threads";
  }
  EXPECT_FALSE(runtime::Engine::from_plan((*shared)->plan_file(), -1).ok());
}

TEST(TransferTensor, HasTheShapeAndDtypeAskedForAndIsWritable) {
  Tensor t = allocate_transfer_tensor(DType::kFloat32, Shape{2, 3});
  ASSERT_EQ(t.shape(), (Shape{2, 3}));
  ASSERT_EQ(t.dtype(), DType::kFloat32);
  for (int i = 0; i < 6; ++i) t.data<float>()[i] = static_cast<float>(i) * 0.5f;
  EXPECT_EQ(t.data<float>()[5], 2.5f);
  EXPECT_EQ(allocate_transfer_tensor(DType::kInt64, Shape{0}).numel(), 0);
  EXPECT_TRUE(allocate_transfer_tensor(DType::kBytes, Shape{2}).defined());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(PlanFile, CorruptFilesAreRefusedWithTheReason) {
  auto path = build_to_file(reference_options(), "corrupt.plan");
  ASSERT_TRUE(path.ok());
  const std::string good = read_file(*path);
  const std::string bad = temp_path("bad.plan");
  struct Case {
    std::string name;
    std::string bytes;
    std::string message;
  };
  std::string wrong_version = good;
  wrong_version[8] = 99;
  std::string huge_header = good;
  huge_header[16 + 7] = 0x7f;
  std::vector<Case> cases = {
      {"empty", "", "not a kiln plan"},
      {"magic", "NOTAPLAN" + good.substr(8), "magic"},
      {"version", wrong_version, "format version 99"},
      {"truncated weights", good.substr(0, good.size() - 300), "truncated"},
      {"header length", huge_header, "truncated"},
      {"garbage header", good.substr(0, 24) + std::string(good.size() - 24, '\x01'), "corrupt"},
  };
  for (const Case& c : cases) {
    write_file(bad, c.bytes);
    auto opened = plan::PlanFile::open(bad);
    ASSERT_FALSE(opened.ok()) << c.name;
    EXPECT_NE(opened.status().message().find(c.message), std::string::npos) << c.name << ": " << opened.status().message();
  }
  std::filesystem::remove(bad);
  std::filesystem::remove(*path);
}

TEST(PlanFile, OtherKilnVersionsAndDevicesAreRefused) {
  auto built = build_engine(small_cnn(), reference_options());
  ASSERT_TRUE(built.ok());
  const std::string path = temp_path("version.plan");

  plan::PlanHeader other_version = built->header;
  other_version.set_kiln_version("0.0.1-other");
  ASSERT_TRUE(plan::write_plan(path, other_version, built->weights).ok());
  auto opened = plan::PlanFile::open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("built by kiln 0.0.1-other"), std::string::npos) << opened.status().message();

  plan::PlanHeader other_arch = built->header;
  other_arch.set_device_arch("riscv128");
  ASSERT_TRUE(plan::write_plan(path, other_arch, built->weights).ok());
  auto engine = runtime::Engine::load(path);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("built for riscv128"), std::string::npos) << engine.status().message();

  plan::PlanHeader bad_offset = built->header;
  bad_offset.mutable_profiles(0)->mutable_values(0)->set_arena_offset(bad_offset.profiles(0).arena_bytes() + 1);
  ASSERT_TRUE(plan::write_plan(path, bad_offset, built->weights).ok());
  engine = runtime::Engine::load(path);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("outside the arena"), std::string::npos) << engine.status().message();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kiln::engine
