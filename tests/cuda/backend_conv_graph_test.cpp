// cuDNN graph-API convolution tactics (vendor/cudnn_conv_graph.h): every graph tactic the
// CudaBackend offers for a 3x3/1 pad 1, a 1x1 and a 7x7/2 stem, bare and with bias, Z and ReLU,
// in NHWC FP16, NHWC FP32 and NCHW FP16, against the reference backend; plus the raw plan's
// enumeration (whose error, if any, is the one to read in the log), rebuilding a plan from its
// id, a bogus id, CUDA-graph capture and concurrent execution of one plan on several streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backend_test_util.h"
#include "backends/cuda/stream.h"
#include "backends/cuda/vendor/cudnn_conv_graph.h"
#include "core/channels_last.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

struct Shape2d {
  const char* name;
  int64_t n, c, h, w, m, k, stride, pad;
  int64_t out_h() const { return (h + 2 * pad - k) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - k) / stride + 1; }
};

// Small enough that the reference runs fast; the channel counts are ResNet-50's.
constexpr Shape2d kShapes[] = {
    {"3x3/1 64->64 14x14", 2, 64, 14, 14, 64, 3, 1, 1},
    {"1x1 256->64 14x14", 2, 256, 14, 14, 64, 1, 1, 0},
    {"stem 7x7/2 3->64 48x48", 1, 3, 48, 48, 64, 7, 2, 3},
};

struct Epilogue {
  const char* name;
  bool bias, residual;
  const char* activation;
};
constexpr Epilogue kBare{"bare", false, false, ""};
constexpr Epilogue kBias{"bias", true, false, ""};
constexpr Epilogue kBiasRelu{"bias+relu", true, false, "Relu"};
constexpr Epilogue kBiasResidualRelu{"bias+Z+relu", true, true, "Relu"};
constexpr Epilogue kBiasGelu{"bias+gelu", true, false, "Gelu"};

struct Variant {
  const char* name;
  DType dtype;
  bool nhwc;
};
constexpr Variant kVariants[] = {
    {"NHWC fp16", DType::kFloat16, true},
    {"NHWC fp32", DType::kFloat32, true},
    {"NCHW fp16", DType::kFloat16, false},
};

// The node: FusedConv (channels_last needs it; NCHW with a Z or an activation too), else Conv.
OpCase make_case(const Shape2d& s, const Epilogue& e, const Variant& v, uint32_t& salt) {
  OpCase c;
  const bool fused = v.nhwc || e.residual || std::string(e.activation).size() > 0;
  c.op = fused ? OpKind::FusedConv : OpKind::Conv;
  if (v.nhwc) c.attrs.set(kChannelsLastAttr, int64_t{1});
  c.attrs.set("pads", std::vector<int64_t>{s.pad, s.pad, s.pad, s.pad});
  c.attrs.set("strides", std::vector<int64_t>{s.stride, s.stride});
  if (fused) c.attrs.set("activation", std::string(e.activation));
  const Shape x = v.nhwc ? Shape{s.n, s.h, s.w, s.c} : Shape{s.n, s.c, s.h, s.w};
  const Shape w = v.nhwc ? Shape{s.m, s.k, s.k, s.c} : Shape{s.m, s.c, s.k, s.k};
  const Shape y = v.nhwc ? Shape{s.n, s.out_h(), s.out_w(), s.m} : Shape{s.n, s.m, s.out_h(), s.out_w()};
  c.inputs.push_back(float_input(v.dtype, x, -1, 1, ++salt));
  c.inputs.push_back(float_input(v.dtype, w, -0.1f, 0.1f, ++salt, true));
  if (e.bias) c.inputs.push_back(float_input(v.dtype, Shape{s.m}, -1, 1, ++salt, true));
  if (e.residual) {
    if (!e.bias) {
      CaseInput absent;
      absent.absent = true;
      c.inputs.push_back(absent);
    }
    c.inputs.push_back(float_input(v.dtype, y, -1, 1, ++salt));
  }
  return c;
}

// The NodeDesc the backend sees for `c` (storage dtypes, the output shape from the reference).
backends::NodeDesc node_of(const OpCase& c, DType dtype, const Shape& y) {
  backends::NodeDesc node;
  node.op = c.op;
  node.name = "graph conv";
  node.attributes = &c.attrs;
  for (const CaseInput& in : c.inputs) node.inputs.push_back(in.absent ? backends::TensorDesc{} : backends::TensorDesc{dtype, in.value.shape()});
  node.outputs = {{dtype, y}};
  return node;
}

// Runs every graph tactic of one problem; returns how many there were.
size_t expect_every_graph_tactic_matches(const Shape2d& s, const Epilogue& e, const Variant& v, uint32_t& salt) {
  const CudaBackend* backend = test_backend();
  EXPECT_NE(backend, nullptr);
  if (backend == nullptr) return 0;
  OpCase c = make_case(s, e, v, salt);
  const std::string label = std::string("graph conv ") + s.name + " " + e.name + " " + v.name;
  // The reference once per problem, not once per tactic.
  std::vector<const Tensor*> ref_inputs;
  for (const CaseInput& in : c.inputs) ref_inputs.push_back(in.absent ? nullptr : &in.value);
  c.expected = reference_outputs(c.op, ref_inputs, c.attrs, 1);
  EXPECT_EQ(c.expected.size(), 1u) << label;
  if (c.expected.size() != 1) return 0;
  const backends::NodeDesc node = node_of(c, v.dtype, c.expected[0].shape());
  size_t count = 0;
  for (const backends::Tactic& t : backend->tactics(node)) {
    if (!is_conv_graph_tactic(t.id)) continue;
    ++count;
    c.tactic = t.id;
    expect_case_matches(c, label + " tactic " + t.name);
  }
  std::printf("graph_tactics %-56s %zu\n", label.c_str(), count);
  return count;
}

TEST(CudaConvGraph, EveryGraphTacticMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 900;
  for (const Shape2d& s : kShapes) {
    const bool resnet_body = s.c % 8 == 0;  // not the 3-channel stem
    for (const Variant& v : kVariants) {
      for (const Epilogue& e : {kBare, kBiasResidualRelu}) {
        const size_t count = expect_every_graph_tactic_matches(s, e, v, salt);
        // The case the graph path exists for: cuDNN must offer it something.
        if (resnet_body && v.nhwc && v.dtype == DType::kFloat16) {
          EXPECT_GT(count, 0u) << "no graph tactic for " << s.name << " " << e.name << " " << v.name
                               << " (see CudaConvGraph.RawPlanEnumeratesEngines for cuDNN's refusal)";
        }
      }
    }
  }
  // Bias without a residual, with and without ReLU, on the 3x3 only: the two- and three-op
  // graphs (NHWC FP16), and NCHW Conv with a bias (the plain Conv op's usual form).
  for (const Epilogue& e : {kBias, kBiasRelu}) expect_every_graph_tactic_matches(kShapes[0], e, kVariants[0], salt);
  expect_every_graph_tactic_matches(kShapes[0], kBias, kVariants[2], salt);
  // GELU through cuDNN's pointwise GELU_FWD, where an engine takes it (none is fine: legacy).
  expect_every_graph_tactic_matches(kShapes[0], kBiasGelu, kVariants[0], salt);
}

ConvGraphConfig resnet_config(DType dtype, ConvLayout layout) {
  ConvGraphConfig c;
  c.dtype = dtype;
  c.layout = layout;
  c.geometry = ConvGeometry{8, 64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  c.has_bias = true;
  c.has_residual = true;
  c.activation = GraphActivation::kRelu;
  return c;
}

std::shared_ptr<CudnnHandle> make_handle() {
  Result<std::shared_ptr<CudnnHandle>> handle = CudnnHandle::create();
  EXPECT_TRUE(handle.ok()) << handle.status().to_string();
  return handle.ok() ? *handle : nullptr;
}

// Straight through the vendor wrapper, so that a refusal shows cuDNN's own message.
TEST(CudaConvGraph, RawPlanEnumeratesEnginesAndRebuildsThemFromTheirIds) {
  KILN_REQUIRE_GPU();
  std::shared_ptr<CudnnHandle> handle = make_handle();
  ASSERT_NE(handle, nullptr);
  for (const ConvGraphConfig& config : {resnet_config(DType::kFloat16, ConvLayout::kNHWC), resnet_config(DType::kFloat32, ConvLayout::kNHWC),
                                        resnet_config(DType::kFloat16, ConvLayout::kNCHW)}) {
    Result<std::vector<ConvGraphEngine>> engines = ConvGraphPlan::engines(handle, config);
    const std::string what = std::string(config.layout == ConvLayout::kNHWC ? "NHWC " : "NCHW ") + std::string(dtype_name(config.dtype));
    if (config.layout == ConvLayout::kNHWC && config.dtype == DType::kFloat16) {
      ASSERT_TRUE(engines.ok()) << what << ": " << engines.status().to_string();
    } else if (!engines.ok()) {
      std::printf("graph_engines %s: none (%s)\n", what.c_str(), engines.status().to_string().c_str());
      continue;
    }
    std::vector<int32_t> ids;
    for (const ConvGraphEngine& e : *engines) {
      std::printf("graph_engine %s %s workspace %zu\n", what.c_str(), e.name.c_str(), e.workspace_bytes);
      EXPECT_TRUE(is_conv_graph_tactic(e.tactic)) << e.name;
      for (int32_t seen : ids) EXPECT_NE(seen, e.tactic) << "duplicate id for " << e.name;
      ids.push_back(e.tactic);
      // The plan file keeps only the id: it must bring back the same configuration.
      Result<ConvGraphPlan> plan = ConvGraphPlan::create(handle, config, e.tactic);
      ASSERT_TRUE(plan.ok()) << e.name << ": " << plan.status().to_string();
      EXPECT_EQ(plan->name(), e.name);
      EXPECT_EQ(plan->workspace_bytes(), e.workspace_bytes) << e.name;
    }
  }
}

TEST(CudaConvGraph, UnknownTacticIdIsAnError) {
  KILN_REQUIRE_GPU();
  std::shared_ptr<CudnnHandle> handle = make_handle();
  ASSERT_NE(handle, nullptr);
  const int32_t bogus = kConvGraphTacticBase | (1000 << 20) | 12345;
  Result<ConvGraphPlan> plan = ConvGraphPlan::create(handle, resnet_config(DType::kFloat16, ConvLayout::kNHWC), bogus);
  ASSERT_FALSE(plan.ok());
  std::printf("unknown graph tactic: %s\n", plan.status().to_string().c_str());
  EXPECT_FALSE(ConvGraphPlan::create(handle, resnet_config(DType::kFloat16, ConvLayout::kNHWC), 3).ok()) << "a legacy id";
}

// The runtime captures every kernel into a CUDA graph: cudnnBackendExecute must be capturable.
TEST(CudaConvGraph, GraphTacticRunsInsideACudaGraphCapture) {
  KILN_REQUIRE_GPU();
  const CudaBackend* backend = test_backend();
  ASSERT_NE(backend, nullptr);
  uint32_t salt = 990;
  OpCase c = make_case(kShapes[0], kBiasResidualRelu, kVariants[0], salt);
  std::vector<const Tensor*> ref_inputs;
  for (const CaseInput& in : c.inputs) ref_inputs.push_back(&in.value);
  c.expected = reference_outputs(c.op, ref_inputs, c.attrs, 1);
  ASSERT_EQ(c.expected.size(), 1u);
  const backends::NodeDesc node = node_of(c, DType::kFloat16, c.expected[0].shape());
  size_t captured = 0;
  for (const backends::Tactic& t : backend->tactics(node)) {
    if (!is_conv_graph_tactic(t.id) || captured >= 3) continue;
    c.tactic = t.id;
    c.capture = true;
    expect_case_matches(c, "captured graph conv tactic " + t.name);
    ++captured;
  }
  EXPECT_GT(captured, 0u) << "no graph tactic to capture";
}

// One plan, several threads, each with its own stream and buffers (several execution contexts
// sharing one engine's kernel): every thread's result matches the single-threaded one.
TEST(CudaConvGraph, OnePlanRunsConcurrentlyOnSeveralStreams) {
  KILN_REQUIRE_GPU();
  std::shared_ptr<CudnnHandle> handle = make_handle();
  ASSERT_NE(handle, nullptr);
  const ConvGraphConfig config = resnet_config(DType::kFloat16, ConvLayout::kNHWC);
  Result<std::vector<ConvGraphEngine>> engines = ConvGraphPlan::engines(handle, config);
  ASSERT_TRUE(engines.ok() && !engines->empty()) << engines.status().to_string();
  Result<ConvGraphPlan> plan = ConvGraphPlan::create(handle, config, engines->front().tactic);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  const ConvGeometry& g = config.geometry;
  const int64_t x_n = g.batch * g.in_channels * g.in_h * g.in_w, w_n = g.out_channels * g.in_channels * g.kernel_h * g.kernel_w;
  const int64_t y_n = g.batch * g.out_channels * g.out_h() * g.out_w();
  const DType dtype = config.dtype;
  DeviceBuffer x = upload(dtype, random_values(dtype, x_n, -1, 1, 1)), w = upload(dtype, random_values(dtype, w_n, -0.1f, 0.1f, 2));
  DeviceBuffer b = upload(dtype, random_values(dtype, g.out_channels, -1, 1, 3)), z = upload(dtype, random_values(dtype, y_n, -1, 1, 4));

  constexpr int kThreads = 4, kRuns = 20;
  std::vector<DeviceBuffer> outputs, workspaces;
  for (int t = 0; t <= kThreads; ++t) {
    outputs.push_back(upload(dtype, std::vector<float>(static_cast<size_t>(y_n), 0.0f)));
    Result<DeviceBuffer> ws = DeviceBuffer::allocate(std::max<size_t>(plan->workspace_bytes(), 1));
    ASSERT_TRUE(ws.ok());
    workspaces.push_back(std::move(ws).value());
  }
  // Index kThreads: the single-threaded run on the default stream.
  ASSERT_TRUE(plan->run(x.data(), w.data(), b.data(), z.data(), outputs[kThreads].data(), workspaces[kThreads].data(), nullptr).ok());
  ASSERT_TRUE(cuda_status(cudaDeviceSynchronize(), "cudaDeviceSynchronize").ok());
  const std::vector<float> expected = download(dtype, outputs[kThreads], y_n);

  std::vector<Status> results(kThreads, Status::ok_status());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Result<CudaStream> stream = CudaStream::create();
      if (!stream.ok()) {
        results[static_cast<size_t>(t)] = stream.status();
        return;
      }
      for (int r = 0; r < kRuns; ++r) {
        Status s = plan->run(x.data(), w.data(), b.data(), z.data(), outputs[static_cast<size_t>(t)].data(),
                             workspaces[static_cast<size_t>(t)].data(), stream->get());
        if (!s.ok()) {
          results[static_cast<size_t>(t)] = s;
          return;
        }
      }
      results[static_cast<size_t>(t)] = stream->synchronize();
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(results[static_cast<size_t>(t)].ok()) << results[static_cast<size_t>(t)].to_string();
    expect_within(max_relative_error(download(dtype, outputs[static_cast<size_t>(t)], y_n), expected), kHalfTolerance,
                  "graph conv thread " + std::to_string(t) + " vs single-threaded");
  }
}

}  // namespace
}  // namespace kiln::cuda
