// Times kiln's CUDA kernels on BERT-large (seq 384, batch 32) shapes in FP16 with CUDA events
// and prints one line per case: "<case> <milliseconds>". compare_torch.py runs the same cases
// in PyTorch and prints the ratios. Inputs are filled with a fixed pattern; the timing does not
// depend on the values.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "backends/cuda/cuda_status.h"
#include "backends/cuda/device_buffer.h"
#include "backends/cuda/kernels/row_ops.h"
#include "backends/cuda/stream.h"
#include "backends/cuda/vendor/cublaslt_matmul.h"

namespace {

using namespace kiln;
using namespace kiln::cuda;

constexpr int64_t kBatch = 32, kSeq = 384, kHidden = 1024, kHeads = 16, kHeadDim = 64, kFfn = 4096;
constexpr int kWarmups = 5, kIterations = 50;
constexpr size_t kHalfBytes = 2;

// Median milliseconds of one launch of `body`, timed as kIterations back-to-back launches.
Result<double> time_ms(cudaStream_t stream, const std::function<Status()>& body) {
  for (int i = 0; i < kWarmups; ++i) KILN_RETURN_IF_ERROR(body());
  cudaEvent_t start = nullptr, stop = nullptr;
  KILN_RETURN_IF_ERROR(cuda_status(cudaEventCreate(&start), "cudaEventCreate"));
  KILN_RETURN_IF_ERROR(cuda_status(cudaEventCreate(&stop), "cudaEventCreate"));
  constexpr int kRepeats = 5;
  std::vector<double> samples;
  for (int r = 0; r < kRepeats; ++r) {
    KILN_RETURN_IF_ERROR(cuda_status(cudaEventRecord(start, stream), "cudaEventRecord"));
    for (int i = 0; i < kIterations; ++i) KILN_RETURN_IF_ERROR(body());
    KILN_RETURN_IF_ERROR(cuda_status(cudaEventRecord(stop, stream), "cudaEventRecord"));
    KILN_RETURN_IF_ERROR(cuda_status(cudaEventSynchronize(stop), "cudaEventSynchronize"));
    float ms = 0.0f;
    KILN_RETURN_IF_ERROR(cuda_status(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime"));
    samples.push_back(static_cast<double>(ms) / kIterations);
  }
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

Result<DeviceBuffer> filled(int64_t elements) {
  KILN_ASSIGN_OR_RETURN(DeviceBuffer buffer, DeviceBuffer::allocate(static_cast<size_t>(elements) * kHalfBytes));
  constexpr int kPattern = 0x3c;  // bytes 0x3c3c: a small positive half value
  KILN_RETURN_IF_ERROR(cuda_status(cudaMemset(buffer.data(), kPattern, buffer.size()), "cudaMemset"));
  return buffer;
}

Status report(const char* name, Result<double> ms) {
  if (!ms.ok()) return ms.status().with_context(name);
  std::printf("%s %.5f\n", name, *ms);
  return Status::ok_status();
}

Status bench_matmul(const char* name, const CublasLtHandle& handle, cudaStream_t stream, MatmulShape shape,
                    MatmulEpilogue epilogue) {
  const int64_t b_batches = shape.batch_stride_b == 0 ? 1 : shape.batch;
  KILN_ASSIGN_OR_RETURN(DeviceBuffer a, filled(shape.batch * shape.m * shape.k));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer b, filled(b_batches * shape.k * shape.n));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer c, filled(shape.batch * shape.m * shape.n));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer bias, filled(shape.n));
  KILN_ASSIGN_OR_RETURN(MatmulPlan plan, MatmulPlan::create(handle, MatmulPrecision::kFloat16, epilogue, shape, bias.data()));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer workspace, DeviceBuffer::allocate(plan.workspace_bytes()));
  return report(name, time_ms(stream, [&] { return plan.run(a.data(), b.data(), c.data(), workspace.data(), stream); }));
}

Status run() {
  if (cuda_device_count() == 0) return unavailable("no CUDA device");
  KILN_ASSIGN_OR_RETURN(CudaStream stream, CudaStream::create());
  KILN_ASSIGN_OR_RETURN(CublasLtHandle handle, CublasLtHandle::create());

  {  // attention probabilities: softmax over keys
    const int64_t rows = kBatch * kHeads * kSeq;
    KILN_ASSIGN_OR_RETURN(DeviceBuffer x, filled(rows * kSeq));
    KILN_ASSIGN_OR_RETURN(DeviceBuffer y, filled(rows * kSeq));
    KILN_RETURN_IF_ERROR(report("softmax_fp16_196608x384", time_ms(stream.get(), [&] {
      return softmax_last_axis(DType::kFloat16, x.data(), y.data(), rows, kSeq, stream.get());
    })));
  }
  {  // post-attention residual + LayerNorm
    const int64_t rows = kBatch * kSeq;
    KILN_ASSIGN_OR_RETURN(DeviceBuffer x, filled(rows * kHidden));
    KILN_ASSIGN_OR_RETURN(DeviceBuffer r, filled(rows * kHidden));
    KILN_ASSIGN_OR_RETURN(DeviceBuffer y, filled(rows * kHidden));
    KILN_ASSIGN_OR_RETURN(DeviceBuffer gamma, filled(kHidden));
    KILN_ASSIGN_OR_RETURN(DeviceBuffer beta, filled(kHidden));
    LayerNormArgs args;
    args.x = x.data();
    args.residual = r.data();
    args.gamma = gamma.data();
    args.beta = beta.data();
    args.y = y.data();
    args.rows = rows;
    args.cols = kHidden;
    KILN_RETURN_IF_ERROR(report("layernorm_residual_fp16_12288x1024", time_ms(stream.get(), [&] {
      return layer_norm_last_axis(DType::kFloat16, args, stream.get());
    })));
  }
  const int64_t tokens = kBatch * kSeq;
  // nn.Linear layout: weight is [out, in], so B is transposed.
  KILN_RETURN_IF_ERROR(bench_matmul("linear_qkv_bias_fp16_12288x1024x3072", handle, stream.get(),
                                    MatmulShape{tokens, 3 * kHidden, kHidden, 1, false, true}, MatmulEpilogue::kBias));
  KILN_RETURN_IF_ERROR(bench_matmul("linear_ffn1_bias_gelu_fp16_12288x1024x4096", handle, stream.get(),
                                    MatmulShape{tokens, kFfn, kHidden, 1, false, true}, MatmulEpilogue::kBiasGelu));
  KILN_RETURN_IF_ERROR(bench_matmul("linear_ffn2_bias_fp16_12288x4096x1024", handle, stream.get(),
                                    MatmulShape{tokens, kHidden, kFfn, 1, false, true}, MatmulEpilogue::kBias));
  // Attention scores Q * K^T per (batch, head).
  KILN_RETURN_IF_ERROR(bench_matmul("bmm_qk_fp16_512x384x384x64", handle, stream.get(),
                                    MatmulShape{kSeq, kSeq, kHeadDim, kBatch * kHeads, false, true, kSeq * kHeadDim,
                                                kSeq * kHeadDim, kSeq * kSeq},
                                    MatmulEpilogue::kNone));
  return Status::ok_status();
}

}  // namespace

int main() {
  const Status status = run();
  if (!status.ok()) {
    std::fprintf(stderr, "kiln_cuda_bench: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
