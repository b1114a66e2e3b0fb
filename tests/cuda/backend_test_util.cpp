#include "backend_test_util.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "backends/cuda/device_buffer.h"
#include "backends/cuda/stream.h"
#include "backends/reference/kernel.h"
#include "cuda_test_util.h"
#include "kiln/float_types.h"

namespace kiln::cuda::testing {
namespace {

constexpr int kPoisonByte = 0x7b;  // finite in every float dtype, far from any result

bool is_float_storage_dtype(DType d) { return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16; }

// The host bytes of `t` in `storage` (float32 values converted; other dtypes copied).
Tensor to_storage(const Tensor& t, DType storage) {
  if (storage == t.dtype() || storage == DType::kUndefined) return t;
  Tensor out(storage, t.shape());
  const float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (storage == DType::kFloat16) out.data<Float16>()[i] = Float16(v[i]);
    else if (storage == DType::kBFloat16) out.data<BFloat16>()[i] = BFloat16(v[i]);
  }
  return out;
}

std::vector<float> download_any(DType dtype, const DeviceBuffer& buffer, int64_t n) {
  Tensor host(dtype, Shape{n});
  const Status copied = buffer.copy_to_host(host.raw_data(), host.nbytes());
  EXPECT_TRUE(copied.ok()) << copied.to_string();
  return as_floats(host);
}

}  // namespace

const CudaBackend* test_backend() {
  static std::unique_ptr<CudaBackend> backend = [] {
    Result<std::unique_ptr<CudaBackend>> created = CudaBackend::create();
    return created.ok() ? std::move(created).value() : nullptr;
  }();
  return backend.get();
}

CaseInput float_input(DType storage, const Shape& shape, float lo, float hi, uint32_t salt, bool constant) {
  CaseInput in;
  in.value = float_tensor(shape, random_values(storage, shape.numel(), lo, hi, salt));
  in.storage = storage;
  in.constant = constant;
  return in;
}

std::vector<float> as_floats(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t.dtype()) {
      case DType::kFloat32: v[i] = t.data<float>()[i]; break;
      case DType::kFloat16: v[i] = static_cast<float>(t.data<Float16>()[i]); break;
      case DType::kBFloat16: v[i] = static_cast<float>(t.data<BFloat16>()[i]); break;
      case DType::kInt64: v[i] = static_cast<float>(t.data<int64_t>()[i]); break;
      case DType::kInt32: v[i] = static_cast<float>(t.data<int32_t>()[i]); break;
      case DType::kBool: v[i] = t.data<bool>()[i] ? 1.0f : 0.0f; break;
      default: ADD_FAILURE() << "as_floats: dtype " << dtype_name(t.dtype()); return v;
    }
  }
  return v;
}

std::vector<Tensor> reference_outputs(OpKind op, const std::vector<const Tensor*>& inputs, const Attributes& attrs,
                                      size_t output_count) {
  const reference::KernelFn kernel = reference::find_kernel(op);
  EXPECT_NE(kernel, nullptr) << "no reference kernel for " << op_kind_name(op);
  if (kernel == nullptr) return {};
  reference::KernelContext ctx;
  ctx.op = op;
  ctx.inputs = inputs;
  ctx.attrs = &attrs;
  ctx.outputs.resize(output_count);
  ctx.output_wanted.assign(output_count, true);
  const Status status = kernel(ctx);
  EXPECT_TRUE(status.ok()) << status.to_string();
  return ctx.outputs;
}

void expect_case_matches(const OpCase& c, const std::string& label) {
  SCOPED_TRACE(label);
  const CudaBackend* backend = test_backend();
  ASSERT_NE(backend, nullptr) << "CudaBackend::create failed";

  std::vector<const Tensor*> ref_inputs;
  for (const CaseInput& in : c.inputs) ref_inputs.push_back(in.absent ? nullptr : &in.value);
  const size_t output_count = !c.expected.empty() ? c.expected.size() : std::max<size_t>(c.output_storage.size(), 1);
  const std::vector<Tensor> expected = !c.expected.empty() ? c.expected : reference_outputs(c.op, ref_inputs, c.attrs, output_count);
  ASSERT_EQ(expected.size(), output_count);

  std::vector<Tensor> storage_values(c.inputs.size());
  backends::NodeDesc node;
  node.op = c.op;
  node.name = label;
  node.attributes = &c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const CaseInput& in = c.inputs[i];
    if (in.absent) {
      node.inputs.push_back({});
      node.constants.push_back(nullptr);
      continue;
    }
    storage_values[i] = to_storage(in.value, in.storage);
    node.inputs.push_back({storage_values[i].dtype(), storage_values[i].shape()});
    node.constants.push_back(in.constant ? &storage_values[i] : nullptr);
  }
  const DType first_storage = node.inputs.empty() ? DType::kFloat32 : node.inputs[0].dtype;
  for (size_t o = 0; o < output_count; ++o) {
    const DType storage = o < c.output_storage.size() ? c.output_storage[o] : first_storage;
    node.outputs.push_back({storage, expected[o].shape()});
  }
  const Status supported = backend->check(node);
  ASSERT_TRUE(supported.ok()) << supported.to_string();
  Result<std::unique_ptr<backends::Kernel>> kernel = backend->prepare(node, c.tactic);
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();

  std::vector<DeviceBuffer> input_buffers(c.inputs.size());
  backends::ExecuteArgs args;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].absent) {
      args.inputs.push_back(nullptr);
      continue;
    }
    auto buffer = DeviceBuffer::allocate(std::max<size_t>(storage_values[i].nbytes(), 1));
    ASSERT_TRUE(buffer.ok());
    ASSERT_TRUE(buffer->copy_from_host(storage_values[i].raw_data(), storage_values[i].nbytes()).ok());
    input_buffers[i] = std::move(buffer).value();
    args.inputs.push_back(input_buffers[i].data());
  }
  std::vector<DeviceBuffer> output_buffers(output_count);
  for (size_t o = 0; o < output_count; ++o) {
    const size_t bytes = std::max<size_t>(static_cast<size_t>(node.outputs[o].shape.numel()) * dtype_size(node.outputs[o].dtype), 1);
    auto buffer = DeviceBuffer::allocate(bytes);
    ASSERT_TRUE(buffer.ok());
    ASSERT_TRUE(cuda_status(cudaMemset(buffer->data(), kPoisonByte, bytes), "cudaMemset").ok());
    output_buffers[o] = std::move(buffer).value();
    args.outputs.push_back(output_buffers[o].data());
  }
  DeviceBuffer workspace;
  if ((*kernel)->workspace_bytes() > 0) {
    auto buffer = DeviceBuffer::allocate((*kernel)->workspace_bytes());
    ASSERT_TRUE(buffer.ok());
    workspace = std::move(buffer).value();
    args.workspace = workspace.data();
  }
  auto stream = CudaStream::create();
  ASSERT_TRUE(stream.ok());
  args.stream = stream->get();
  ASSERT_TRUE(cuda_status(cudaDeviceSynchronize(), "cudaDeviceSynchronize").ok());
  if (c.capture) {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    ASSERT_TRUE(cuda_status(cudaStreamBeginCapture(stream->get(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture").ok());
    const Status executed = (*kernel)->execute(args);
    const Status ended = cuda_status(cudaStreamEndCapture(stream->get(), &graph), "cudaStreamEndCapture");
    ASSERT_TRUE(executed.ok()) << executed.to_string();
    ASSERT_TRUE(ended.ok()) << ended.to_string();
    ASSERT_TRUE(cuda_status(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate").ok());
    ASSERT_TRUE(cuda_status(cudaGraphLaunch(exec, stream->get()), "cudaGraphLaunch").ok());
    ASSERT_TRUE(stream->synchronize().ok());
    (void)cudaGraphExecDestroy(exec);
    (void)cudaGraphDestroy(graph);
  } else {
    const Status executed = (*kernel)->execute(args);
    ASSERT_TRUE(executed.ok()) << executed.to_string();
    const Status synced = stream->synchronize();
    ASSERT_TRUE(synced.ok()) << synced.to_string();
  }

  for (size_t o = 0; o < output_count; ++o) {
    const std::vector<float> got = download_any(node.outputs[o].dtype, output_buffers[o], node.outputs[o].shape.numel());
    const std::vector<float> ref = as_floats(expected[o]);
    const DType storage = node.outputs[o].dtype;
    const double tolerance = c.tolerance != 0.0 ? c.tolerance : is_float_storage_dtype(storage) ? tolerance_for(storage) : -1.0;
    const std::string name = label + (output_count > 1 ? " out" + std::to_string(o) : "") + " [" + (*kernel)->describe() + "]";
    if (tolerance < 0.0) {
      EXPECT_EQ(got, ref) << name;
      std::printf("exact_match   %-48s %s\n", name.c_str(), got == ref ? "yes" : "NO");
    } else {
      expect_within(max_relative_error(got, ref), tolerance, name);
    }
  }
}

}  // namespace kiln::cuda::testing
