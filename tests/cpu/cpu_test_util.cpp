#include "cpu_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/kernel.h"

namespace kiln::backends::cpu::testing {

Tensor random_tensor(const Shape& shape, uint32_t salt, float lo, float hi) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "";
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(name)) ^ (salt * 2654435761u));
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor int64_tensor(const Shape& shape, const std::vector<int64_t>& values) {
  return Tensor::from_vector(DType::kInt64, shape, values);
}

NodeDesc describe(const OpCase& c, const std::vector<Tensor>& reference_outputs) {
  NodeDesc node;
  node.op = c.op;
  node.name = std::string(op_kind_name(c.op)) + "_under_test";
  node.attributes = &c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& t = c.inputs[i];
    node.inputs.push_back(t.defined() ? TensorDesc{t.dtype(), t.shape()} : TensorDesc{});
    const bool constant = std::find(c.constant_inputs.begin(), c.constant_inputs.end(), i) != c.constant_inputs.end();
    node.constants.push_back(constant && t.defined() ? &t : nullptr);
  }
  for (const Tensor& t : reference_outputs)
    node.outputs.push_back(t.defined() ? TensorDesc{t.dtype(), t.shape()} : TensorDesc{});
  return node;
}

std::vector<Tensor> run_reference(const OpCase& c) {
  const reference::KernelFn kernel = reference::find_kernel(c.op);
  EXPECT_NE(kernel, nullptr) << "no reference kernel for " << op_kind_name(c.op);
  if (kernel == nullptr) return {};
  reference::KernelContext ctx;
  ctx.op = c.op;
  for (const Tensor& t : c.inputs) ctx.inputs.push_back(t.defined() ? &t : nullptr);
  ctx.attrs = &c.attrs;
  ctx.outputs.resize(c.outputs);
  ctx.output_wanted.assign(c.outputs, true);
  const Status status = kernel(ctx);
  EXPECT_TRUE(status.ok()) << status.to_string();
  return ctx.outputs;
}

Result<std::vector<Tensor>> run_cpu(const OpCase& c, const std::vector<Tensor>& expected, int32_t tactic, int threads) {
  const CpuBackend backend(CpuBackendOptions{threads});
  const NodeDesc node = describe(c, expected);
  if (!backend.supports(node)) return unimplemented("the CPU backend does not support this node");
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, backend.prepare(node, tactic));
  std::vector<Tensor> outputs;
  ExecuteArgs args;
  for (const Tensor& t : c.inputs) args.inputs.push_back(t.defined() ? t.raw_data() : nullptr);
  for (const Tensor& t : expected) {
    outputs.emplace_back(t.dtype(), t.shape());
    // Garbage in the output buffer: a kernel that skips elements cannot pass by accident.
    std::memset(outputs.back().raw_data(), 0x7f, outputs.back().nbytes());
    args.outputs.push_back(outputs.back().raw_data());
  }
  std::vector<std::byte> workspace(kernel->workspace_bytes() + 64);
  args.workspace = workspace.data();
  KILN_RETURN_IF_ERROR(kernel->execute(args));
  return outputs;
}

double max_relative_error(const Tensor& got, const Tensor& ref) {
  EXPECT_EQ(got.shape(), ref.shape());
  EXPECT_EQ(got.dtype(), ref.dtype());
  if (got.shape() != ref.shape() || got.dtype() != ref.dtype()) return INFINITY;
  if (ref.dtype() != DType::kFloat32)
    return std::memcmp(got.raw_data(), ref.raw_data(), ref.nbytes()) == 0 ? 0.0 : INFINITY;
  const float* g = got.data<float>();
  const float* r = ref.data<float>();
  const auto n = static_cast<size_t>(ref.numel());
  double squares = 0.0;
  for (size_t i = 0; i < n; ++i) squares += static_cast<double>(r[i]) * r[i];
  const double rms = n ? std::sqrt(squares / static_cast<double>(n)) : 0.0;
  constexpr double kTinyScale = 1e-30;
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(r[i]) != std::isnan(g[i])) return INFINITY;
    if (std::isnan(r[i])) continue;
    const double diff = std::fabs(static_cast<double>(g[i]) - r[i]);
    worst = std::max(worst, diff / std::max({std::fabs(static_cast<double>(r[i])), rms, kTinyScale}));
  }
  return worst;
}

void expect_matches_reference(const OpCase& c, double tolerance, const std::string& label, int threads) {
  const std::vector<Tensor> expected = run_reference(c);
  ASSERT_FALSE(expected.empty());
  const CpuBackend backend(CpuBackendOptions{threads});
  const NodeDesc node = describe(c, expected);
  ASSERT_TRUE(backend.supports(node)) << label << ": the CPU backend should support this node";
  for (const Tactic& tactic : backend.tactics(node)) {
    auto got = run_cpu(c, expected, tactic.id, threads);
    ASSERT_TRUE(got.ok()) << label << " tactic " << tactic.name << ": " << got.status().to_string();
    const double error = max_relative_error((*got)[0], expected[0]);
    const std::string full = label + " [" + tactic.name + "]";
    EXPECT_LE(error, tolerance) << full;
    std::printf("max_rel_error %-56s %.3e (bound %.0e)\n", full.c_str(), error, tolerance);
  }
}

}  // namespace kiln::backends::cpu::testing
