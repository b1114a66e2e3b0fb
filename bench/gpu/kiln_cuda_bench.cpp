// Times kiln's CUDA kernels on BERT-large (seq 384, batch 32) and ResNet-50 (batch 64 and 1) shapes in
// FP16 with CUDA events and prints one line per case: "<case> <milliseconds>" (lines starting
// with '#' are per-algorithm details). compare_torch.py runs the same cases
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
#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/kernels/elementwise.h"
#include "backends/cuda/kernels/row_ops.h"
#include "backends/cuda/stream.h"
#include "backends/cuda/vendor/cublaslt_matmul.h"
#include "backends/cuda/vendor/cudnn_conv.h"
#include "backends/cuda/vendor/cudnn_conv_graph.h"

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

// Fused attention on [batch, heads, seq, dim] FP16 ([batch, seq, heads, dim] when
// sequence_major), optionally with a [batch, 1, 1, seq] mask, with `block_rows` query rows
// per block (the attention tactics).
Status bench_attention(const char* name, cudaStream_t stream, int64_t batch, int64_t heads, int64_t seq, int64_t dim, bool mask,
                       bool sequence_major = false, int block_rows = 128) {
  const int64_t elems = batch * heads * seq * dim;
  KILN_ASSIGN_OR_RETURN(DeviceBuffer q, filled(elems));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer k, filled(elems));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer v, filled(elems));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer o, filled(elems));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer m, filled(batch * seq));
  AttentionArgs args;
  args.q = q.data();
  args.k = k.data();
  args.v = v.data();
  args.out = o.data();
  args.batch = batch;
  args.heads = heads;
  args.seq_q = args.seq_k = seq;
  args.head_dim = dim;
  args.scale = 0.125f;
  args.block_rows = block_rows;
  set_dense_attention_strides(args, sequence_major);
  if (mask) {
    args.mask = m.data();
    args.mask_strides[0] = seq;
    args.mask_strides[3] = 1;
  }
  return report(name, time_ms(stream, [&] { return scaled_dot_product_attention(DType::kFloat16, args, stream); }));
}

// The fastest of a set of timed alternatives, and its name.
struct Fastest {
  double ms = -1.0;
  std::string name;
  void offer(double candidate_ms, const std::string& candidate) {
    if (ms < 0.0 || candidate_ms < ms) {
      ms = candidate_ms;
      name = candidate;
    }
  }
};

// Conv + bias + ReLU through cuDNN (FP16), timing every legacy algorithm and every graph-API
// engine cuDNN offers ("#" lines) and reporting the fastest of all, as the builder's tactic
// timing would pick it.
Status bench_conv(const char* name, std::shared_ptr<CudnnHandle> cudnn, cudaStream_t stream, ConvLayout layout, ConvGeometry g) {
  ConvConfig config;
  config.dtype = DType::kFloat16;
  config.layout = layout;
  config.geometry = g;
  config.fusion = ConvFusion::kBiasResidualRelu;
  KILN_ASSIGN_OR_RETURN(DeviceBuffer x, filled(g.batch * g.in_channels * g.in_h * g.in_w));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer w, filled(g.out_channels * g.in_channels / g.groups * g.kernel_h * g.kernel_w));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer b, filled(g.out_channels));
  KILN_ASSIGN_OR_RETURN(DeviceBuffer y, filled(g.batch * g.out_channels * g.out_h() * g.out_w()));
  Fastest legacy, graph;
  Result<std::vector<ConvAlgorithm>> algorithms = ConvPlan::algorithms(cudnn, config);
  if (algorithms.ok()) {
    for (const ConvAlgorithm& algorithm : *algorithms) {
      Result<ConvPlan> plan = ConvPlan::create(cudnn, config, algorithm.id);
      if (!plan.ok()) continue;
      Result<DeviceBuffer> workspace = DeviceBuffer::allocate(plan->workspace_bytes());
      if (!workspace.ok()) continue;
      Result<double> ms = time_ms(stream, [&] { return plan->run(x.data(), w.data(), b.data(), nullptr, y.data(), workspace->data(), stream); });
      if (!ms.ok()) {
        (void)cudaGetLastError();
        continue;
      }
      std::printf("# %s %s %.5f\n", name, algorithm.name.c_str(), *ms);
      legacy.offer(*ms, algorithm.name);
    }
  }
  // The same relu(conv + bias) as one cuDNN graph-API operation graph, every engine offered.
  ConvGraphConfig graph_config;
  graph_config.dtype = config.dtype;
  graph_config.layout = layout;
  graph_config.geometry = g;
  graph_config.has_bias = true;
  graph_config.activation = GraphActivation::kRelu;
  Result<std::vector<ConvGraphEngine>> engines = ConvGraphPlan::engines(cudnn, graph_config);
  if (!engines.ok()) std::printf("# %s graph API: %s\n", name, engines.status().to_string().c_str());
  if (engines.ok()) {
    for (const ConvGraphEngine& engine : *engines) {
      Result<ConvGraphPlan> plan = ConvGraphPlan::create(cudnn, graph_config, engine.tactic);
      if (!plan.ok()) {
        std::printf("# %s %s: %s\n", name, engine.name.c_str(), plan.status().to_string().c_str());
        continue;
      }
      Result<DeviceBuffer> workspace = DeviceBuffer::allocate(plan->workspace_bytes());
      if (!workspace.ok()) continue;
      Result<double> ms = time_ms(stream, [&] { return plan->run(x.data(), w.data(), b.data(), nullptr, y.data(), workspace->data(), stream); });
      if (!ms.ok()) {
        std::printf("# %s %s: %s\n", name, engine.name.c_str(), ms.status().to_string().c_str());
        (void)cudaGetLastError();
        continue;
      }
      std::printf("# %s %s %.5f\n", name, engine.name.c_str(), *ms);
      graph.offer(*ms, engine.name);
    }
  }
  if (legacy.ms < 0.0 && graph.ms < 0.0) return internal_error(std::string(name) + ": no cuDNN tactic ran");
  // The unfused convolution, to see what the fused bias+ReLU call costs or saves.
  ConvConfig plain = config;
  plain.fusion = ConvFusion::kNone;
  Result<std::vector<ConvAlgorithm>> plain_algorithms = ConvPlan::algorithms(cudnn, plain);
  if (plain_algorithms.ok()) {
    for (const ConvAlgorithm& algorithm : *plain_algorithms) {
      Result<ConvPlan> plan = ConvPlan::create(cudnn, plain, algorithm.id);
      if (!plan.ok()) continue;
      Result<DeviceBuffer> workspace = DeviceBuffer::allocate(plan->workspace_bytes());
      if (!workspace.ok()) continue;
      Result<double> ms = time_ms(stream, [&] { return plan->run(x.data(), w.data(), nullptr, nullptr, y.data(), workspace->data(), stream); });
      if (ms.ok()) std::printf("# %s unfused %s %.5f\n", name, algorithm.name.c_str(), *ms);
      (void)cudaGetLastError();
    }
  }
  if (legacy.ms >= 0.0) std::printf("# %s fastest legacy: %s %.5f\n", name, legacy.name.c_str(), legacy.ms);
  if (graph.ms >= 0.0) std::printf("# %s fastest graph: %s %.5f\n", name, graph.name.c_str(), graph.ms);
  Fastest best = legacy;
  if (graph.ms >= 0.0) best.offer(graph.ms, graph.name);
  return report(name, best.ms);
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
  {  // the erf GELU pass after FFN1 at BERT-large batch 128 (cuBLASLt has no erf epilogue)
    const int64_t n = int64_t{128} * kSeq * kFfn;
    KILN_ASSIGN_OR_RETURN(DeviceBuffer x, filled(n));
    BiasActivationArgs args;
    args.x = x.data();
    args.y = x.data();
    args.n = n;
    args.channels = kFfn;
    args.op = UnaryOp::kGeluErf;
    KILN_RETURN_IF_ERROR(report("gelu_erf_fp16_49152x4096", time_ms(stream.get(), [&] {
      return bias_activation(DType::kFloat16, args, stream.get());
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

  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b32h16s384d64_mask", stream.get(), kBatch, kHeads, kSeq, kHeadDim, true));
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b32h16s384d64", stream.get(), kBatch, kHeads, kSeq, kHeadDim, false));
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b8h16s1024d128", stream.get(), 8, 16, 1024, 128, false));
  // Q, K, V straight from the [B, S, H*D] projections (qkv_layout BSHD): no head-split copies.
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b32s384h16d64_bshd_mask", stream.get(), kBatch, kHeads, kSeq, kHeadDim, true, true));
  // The 64-row tactic, and batch 1 (BERT-large's 16 heads x 384 queries: 48 blocks of 128 rows).
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b32h16s384d64_mask_rows64", stream.get(), kBatch, kHeads, kSeq, kHeadDim, true,
                                       false, 64));
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b1h16s384d64_mask", stream.get(), 1, kHeads, kSeq, kHeadDim, true));
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b1h16s384d64_mask_rows64", stream.get(), 1, kHeads, kSeq, kHeadDim, true, false, 64));
  KILN_RETURN_IF_ERROR(bench_attention("sdpa_fp16_b8h16s1024d128_rows64", stream.get(), 8, 16, 1024, 128, false, false, 64));

  KILN_ASSIGN_OR_RETURN(std::shared_ptr<CudnnHandle> cudnn, CudnnHandle::create());
  // ResNet-50 at batch 64 and 1: the stem, a 3x3 and a 1x1 of stage 1, a 3x3 of stage 4.
  struct ConvCase {
    const char* name;
    ConvGeometry geometry;  // batch filled in below
  };
  const ConvCase convs[] = {
      {"stem7x7s2", {0, 3, 224, 224, 64, 7, 7, 1, 3, 3, 2, 2, 1, 1}},
      {"3x3_64c56", {0, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
      {"1x1_256to64c56", {0, 256, 56, 56, 64, 1, 1, 1, 0, 0, 1, 1, 1, 1}},
      {"3x3_512c7", {0, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
  };
  for (int64_t batch : {64, 1}) {
    for (ConvLayout layout : {ConvLayout::kNHWC, ConvLayout::kNCHW}) {
      const std::string suffix = "_b" + std::to_string(batch) + (layout == ConvLayout::kNHWC ? "_nhwc" : "_nchw");
      for (const ConvCase& c : convs) {
        ConvGeometry g = c.geometry;
        g.batch = batch;
        KILN_RETURN_IF_ERROR(bench_conv(("conv_relu_fp16_" + std::string(c.name) + suffix).c_str(), cudnn, stream.get(), layout, g));
      }
    }
  }
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
