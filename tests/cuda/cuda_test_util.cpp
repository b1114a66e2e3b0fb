#include "cuda_test_util.h"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "backends/reference/kernel.h"
#include "kiln/float_types.h"

namespace kiln::cuda::testing {
namespace {

float round_to(DType dtype, float v) {
  switch (dtype) {
    case DType::kFloat16: return static_cast<float>(Float16(v));
    case DType::kBFloat16: return static_cast<float>(BFloat16(v));
    default: return v;
  }
}

}  // namespace

double tolerance_for(DType dtype) { return dtype == DType::kFloat32 ? kFloat32Tolerance : kHalfTolerance; }

std::vector<float> random_values(DType dtype, int64_t n, float lo, float hi, uint32_t salt) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "";
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(name)) ^ (salt * 2654435761u));
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = round_to(dtype, dist(rng));
  return values;
}

DeviceBuffer upload(DType dtype, const std::vector<float>& values) {
  const size_t n = values.size();
  std::vector<uint8_t> bytes(n * dtype_size(dtype));
  for (size_t i = 0; i < n; ++i) {
    if (dtype == DType::kFloat16) {
      const uint16_t bits = Float16(values[i]).bits;
      std::memcpy(bytes.data() + 2 * i, &bits, 2);
    } else if (dtype == DType::kBFloat16) {
      const uint16_t bits = BFloat16(values[i]).bits;
      std::memcpy(bytes.data() + 2 * i, &bits, 2);
    } else {
      std::memcpy(bytes.data() + 4 * i, &values[i], 4);
    }
  }
  auto buffer = DeviceBuffer::allocate(bytes.size());
  EXPECT_TRUE(buffer.ok()) << buffer.status().to_string();
  if (!buffer.ok()) return DeviceBuffer();
  const Status copied = buffer->copy_from_host(bytes.data(), bytes.size());
  EXPECT_TRUE(copied.ok()) << copied.to_string();
  return std::move(buffer).value();
}

std::vector<float> download(DType dtype, const DeviceBuffer& buffer, int64_t n) {
  const size_t count = static_cast<size_t>(n);
  std::vector<uint8_t> bytes(count * dtype_size(dtype));
  const Status sync = cuda_status(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  EXPECT_TRUE(sync.ok()) << sync.to_string();
  const Status copied = buffer.copy_to_host(bytes.data(), bytes.size());
  EXPECT_TRUE(copied.ok()) << copied.to_string();
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) {
    uint16_t bits = 0;
    if (dtype == DType::kFloat16) {
      std::memcpy(&bits, bytes.data() + 2 * i, 2);
      values[i] = static_cast<float>(Float16::from_bits(bits));
    } else if (dtype == DType::kBFloat16) {
      std::memcpy(&bits, bytes.data() + 2 * i, 2);
      values[i] = static_cast<float>(BFloat16::from_bits(bits));
    } else {
      std::memcpy(&values[i], bytes.data() + 4 * i, 4);
    }
  }
  return values;
}

Tensor float_tensor(const Shape& shape, const std::vector<float>& values) {
  return Tensor::from_vector(DType::kFloat32, shape, values);
}

std::vector<float> tensor_values(const Tensor& tensor) {
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.numel());
}

Tensor run_reference(OpKind op, const std::vector<const Tensor*>& inputs, const Attributes& attrs) {
  const reference::KernelFn kernel = reference::find_kernel(op);
  EXPECT_NE(kernel, nullptr) << "no reference kernel for " << op_kind_name(op);
  if (kernel == nullptr) return Tensor();
  reference::KernelContext ctx;
  ctx.op = op;
  ctx.inputs = inputs;
  ctx.attrs = &attrs;
  ctx.outputs.resize(1);
  ctx.output_wanted.assign(1, true);
  const Status status = kernel(ctx);
  EXPECT_TRUE(status.ok()) << status.to_string();
  return ctx.outputs[0];
}

double max_relative_error(const std::vector<float>& got, const std::vector<float>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  if (got.size() != ref.size() || ref.empty()) return INFINITY;
  double squares = 0.0;
  for (float r : ref) squares += static_cast<double>(r) * r;
  const double rms = std::sqrt(squares / static_cast<double>(ref.size()));
  constexpr double kTinyScale = 1e-30;
  double worst = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - ref[i]);
    const double scale = std::max({std::fabs(static_cast<double>(ref[i])), rms, kTinyScale});
    if (std::isnan(got[i])) return INFINITY;
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

void expect_within(double error, double tolerance, const std::string& label) {
  EXPECT_LT(error, tolerance) << label;
  std::printf("max_rel_error %-48s %.3e (bound %.0e)\n", label.c_str(), error, tolerance);
}

}  // namespace kiln::cuda::testing
