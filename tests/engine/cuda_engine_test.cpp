// Engines on the GPU against the reference executor: FP32 (tight), TF32 and FP16 (loose), with
// and without CUDA-graph replay, several contexts on one engine at once. Skipped, visibly,
// where this build or machine has no GPU.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <thread>

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

bool have_gpu() { return backends::find_backend("cuda") != nullptr; }

#define SKIP_WITHOUT_GPU()                                                            \
  if (!have_gpu()) GTEST_SKIP() << "NOTE: no CUDA backend or GPU here; GPU engine test skipped"

Result<std::shared_ptr<runtime::Engine>> cuda_engine(Precision precision, const std::string& name) {
  BuildOptions options;
  options.backends = {"cuda"};
  options.precision = precision;
  return engine_test::build_and_load(small_cnn(), options, "cuda_" + name);
}

std::vector<Tensor> reference(const std::map<std::string, Tensor>& feeds) {
  auto executor = GraphExecutor::create(small_cnn());
  auto out = (*executor)->run(feeds);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return *out;
}

struct Case {
  Precision precision;
  double tolerance;
};

TEST(CudaEngine, MatchesTheReferenceInEveryPrecisionWithAndWithoutGraphs) {
  SKIP_WITHOUT_GPU();
  for (Case c : {Case{Precision::kFloat32, 1e-5}, Case{Precision::kTF32, 2e-3}, Case{Precision::kFloat16, 1e-2},
                 Case{Precision::kBFloat16, 3e-2}}) {
    auto engine = cuda_engine(c.precision, precision_name(c.precision));
    ASSERT_TRUE(engine.ok()) << precision_name(c.precision) << ": " << engine.status().to_string();
    for (const runtime::StepInfo& s : (*engine)->steps())
      EXPECT_TRUE(s.backend.empty() || s.backend == "cuda") << s.name << " ran on " << s.backend;
    for (bool graphs : {true, false}) {
      auto context = (*engine)->create_context(0, graphs);
      ASSERT_TRUE(context.ok()) << context.status().to_string();
      for (uint32_t seed : {3u, 4u}) {  // the second run replays the captured graph
        auto feeds = random_feeds(small_cnn(), seed);
        auto expected = reference(feeds);
        runtime::RunTimings timings;
        auto got = (*context)->run({feeds.at("x")}, &timings);
        ASSERT_TRUE(got.ok()) << got.status().to_string();
        for (size_t i = 0; i < expected.size(); ++i)
          EXPECT_LT(relative_error((*got)[i], expected[i]), c.tolerance)
              << precision_name(c.precision) << " graphs=" << graphs << " output " << i;
        EXPECT_GT(timings.compute_ms, 0.0);
      }
    }
  }
}

TEST(CudaEngine, ContextsRunConcurrentlyOnOneEngine) {
  SKIP_WITHOUT_GPU();
  auto engine = cuda_engine(Precision::kFloat16, "concurrent");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  constexpr int kThreads = 4, kRuns = 20;
  std::vector<std::thread> threads;
  std::vector<double> worst(kThreads, 0.0);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto context = (*engine)->create_context();
      if (!context.ok()) {
        worst[t] = 1e9;
        return;
      }
      for (int r = 0; r < kRuns; ++r) {
        auto feeds = random_feeds(small_cnn(), static_cast<uint32_t>(100 * t + r));
        auto got = (*context)->run({feeds.at("x")});
        if (!got.ok()) {
          worst[t] = 1e9;
          return;
        }
        worst[t] = std::max(worst[t], relative_error((*got)[1], reference(feeds)[1]));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_LT(worst[t], 1e-2) << "thread " << t;
}

TEST(CudaEngine, PageLockedInputsAndSmallerBatchesMatchTheReference) {
  SKIP_WITHOUT_GPU();
  BuildOptions options;
  options.backends = {"cuda"};
  options.shapes["x"] = Shape{4, 3, 8, 8};
  auto engine = engine_test::build_and_load(small_cnn("N"), options, "cuda_rows");
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto context = (*engine)->create_context(0);
  ASSERT_TRUE(context.ok());
  for (int64_t rows : {4, 3, 1}) {
    const Tensor plain = engine_test::random_tensor(DType::kFloat32, Shape{rows, 3, 8, 8}, 70 + static_cast<uint32_t>(rows));
    Tensor locked = allocate_transfer_tensor(DType::kFloat32, plain.shape());
    std::memcpy(locked.raw_data(), plain.raw_data(), plain.nbytes());
    EXPECT_EQ((*engine)->device().memory_kind(locked.raw_data()), backends::Device::MemoryKind::kPageLocked);
    EXPECT_EQ((*engine)->device().memory_kind(plain.raw_data()), backends::Device::MemoryKind::kPageable);
    auto executor = GraphExecutor::create(small_cnn("N"));
    ASSERT_TRUE(executor.ok());
    auto expected = (*executor)->run({{"x", plain}});
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    for (const Tensor& x : {plain, locked}) {
      auto got = (*context)->run_rows({x}, rows);
      ASSERT_TRUE(got.ok()) << got.status().to_string();
      for (size_t i = 0; i < expected->size(); ++i) {
        EXPECT_EQ((*got)[i].shape(), (*expected)[i].shape());
        EXPECT_LT(relative_error((*got)[i], (*expected)[i]), 1e-5)
            << rows << " rows, " << (x.shares_buffer_with(locked) ? "page-locked" : "pageable") << ", output " << i;
      }
    }
  }
}

TEST(CudaEngine, PlanForTheGpuIsRefusedOnTheHostBackendsList) {
  SKIP_WITHOUT_GPU();
  BuildOptions options;
  options.backends = {"cuda", "reference"};
  auto built = build_engine(small_cnn(), options);
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.status().message().find("different devices"), std::string::npos) << built.status().message();
}

}  // namespace
}  // namespace kiln::engine
