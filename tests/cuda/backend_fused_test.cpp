// The fused ops (FusedConv, FusedMatMul, ScaledDotProductAttention) vs compositions of
// reference kernels: through the CudaBackend when ops.def lists them, and the attention kernel
// through its raw-pointer entry point always. Plus CUDA-graph capture of one kernel per family.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "backend_test_util.h"
#include "backends/cuda/kernels/attention.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kHalfTypes[] = {DType::kFloat16, DType::kBFloat16};
constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

Tensor ref1(OpKind op, const std::vector<const Tensor*>& inputs, const Attributes& attrs = {}) {
  std::vector<Tensor> out = reference_outputs(op, inputs, attrs, 1);
  return out.empty() ? Tensor() : out[0];
}

Tensor apply_activation(const std::string& activation, const Tensor& x) {
  if (activation.empty()) return x;
  if (activation == "Relu") return ref1(OpKind::Relu, {&x});
  Attributes a;
  a.set("approximate", std::string(activation == "GeluTanh" ? "tanh" : "none"));
  return ref1(OpKind::Gelu, {&x}, a);
}

// softmax(Q K^T * scale + mask) V from reference MatMul, Transpose, Mul, Add and Softmax.
Tensor attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, float scale) {
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{0, 1, 3, 2});
  const Tensor kt = ref1(OpKind::Transpose, {&k}, perm);
  const Tensor scores = ref1(OpKind::MatMul, {&q, &kt});
  const Tensor scale_t = float_tensor(Shape{}, {scale});
  Tensor scaled = ref1(OpKind::Mul, {&scores, &scale_t});
  if (mask != nullptr) scaled = ref1(OpKind::Add, {&scaled, mask});
  Attributes axis;
  axis.set("axis", int64_t{-1});
  const Tensor probs = ref1(OpKind::Softmax, {&scaled}, axis);
  return ref1(OpKind::MatMul, {&probs, &v});
}

// How a case's mask is filled: uniform in [-3, 0) with every 7th value -10000 (keys masked the
// way BERT exports do), or with every 5th value and every third mask row entirely -inf or the
// dtype's lowest finite value (padding masks in fp16/bf16 exports: finfo.min).
enum class MaskFill { kRandom, kInfinite, kLowest };

struct AttentionCase {
  const char* name;
  int64_t batch, heads, seq_q, seq_k, head_dim;
  std::optional<Shape> mask;
  MaskFill fill = MaskFill::kRandom;
};

// Sequence lengths on and off the kernel's 128-query / 64-key tiles, both head dims, every mask
// broadcast pattern (padding [B,1,1,Sk], per head and query, [Sq,Sk], [Sk]).
const AttentionCase kAttentionCases[] = {
    {"BERT-large seq384 mask [B,1,1,Sk]", 2, 16, 384, 384, 64, Shape{2, 1, 1, 384}},
    {"BERT-large seq128 no mask", 2, 16, 128, 128, 64, std::nullopt},
    {"d64 seq385 padding mask -inf", 2, 3, 385, 385, 64, Shape{2, 1, 1, 385}, MaskFill::kInfinite},
    {"d64 seq100 full mask -inf rows", 2, 3, 100, 100, 64, Shape{2, 3, 100, 100}, MaskFill::kInfinite},
    {"d64 seq37 lowest rows", 1, 2, 37, 37, 64, Shape{1, 1, 37, 37}, MaskFill::kLowest},
    {"d64 seq1", 3, 2, 1, 1, 64, std::nullopt},
    {"d64 short keys [Sq,Sk] mask", 1, 2, 70, 5, 64, Shape{70, 5}},
    {"d128 odd lengths full mask", 1, 3, 77, 93, 128, Shape{1, 3, 77, 93}},
    {"d128 seq 1 query", 2, 2, 1, 200, 128, Shape{200}},
    {"d128 seq385 padding mask lowest", 2, 2, 385, 385, 128, Shape{2, 1, 1, 385}, MaskFill::kLowest},
    {"d128 seq100 -inf rows", 1, 3, 100, 37, 128, Shape{1, 3, 100, 37}, MaskFill::kInfinite},
    {"d128 seq1024 no mask", 1, 2, 1024, 1024, 128, std::nullopt},
};

float lowest_finite(DType dtype) { return dtype == DType::kFloat16 ? -65504.0f : -3.38953139e38f; }

std::vector<float> mask_values(const AttentionCase& ac, DType dtype, uint32_t salt) {
  std::vector<float> m = random_values(dtype, ac.mask->numel(), -3, 0, salt);
  if (ac.fill == MaskFill::kRandom) {
    for (size_t i = 0; i < m.size(); i += 7) m[i] = -10000.0f;
    return m;
  }
  const float masked = ac.fill == MaskFill::kInfinite ? -INFINITY : lowest_finite(dtype);
  const size_t keys = static_cast<size_t>(ac.mask->dims().back());
  for (size_t i = 0; i < m.size(); ++i) {
    if (i % 5 == 0 || (i / keys) % 3 == 1) m[i] = masked;
  }
  return m;
}

// [B, X, Y, D] -> [B, Y, X, D] on host values: BHSD <-> BSHD.
std::vector<float> swap_axes_1_2(const std::vector<float>& x, int64_t b, int64_t n1, int64_t n2, int64_t d) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < n1; ++j)
      for (int64_t k = 0; k < n2; ++k)
        for (int64_t e = 0; e < d; ++e)
          y[static_cast<size_t>(((i * n2 + k) * n1 + j) * d + e)] = x[static_cast<size_t>(((i * n1 + j) * n2 + k) * d + e)];
  return y;
}

// Broadcast strides of a mask over [B, H, Sq, Sk].
void set_mask_strides(AttentionArgs& a, const Shape& ms) {
  std::vector<int64_t> dims(4, 1);
  for (size_t d = 0; d < ms.rank(); ++d) dims[4 - ms.rank() + d] = ms[d];
  int64_t stride = 1;
  for (int d = 3; d >= 0; --d) {
    a.mask_strides[d] = dims[static_cast<size_t>(d)] == 1 ? 0 : stride;
    stride *= dims[static_cast<size_t>(d)];
  }
}

// Each case in both layouts and with both query-tile heights: the BSHD run gets the same values transposed and its output is
// transposed back, so both compare against one reference. The reference computes in float32 on
// the rounded inputs; where a row's keys are all -inf it has NaN (exp(-inf - -inf)) and the
// kernel zeros, which is what the expectation holds.
TEST(CudaAttention, RawKernelMatchesReferenceComposition) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 0;
  for (const AttentionCase& ac : kAttentionCases) {
    for (DType dtype : kHalfTypes) {
      const Shape qs{ac.batch, ac.heads, ac.seq_q, ac.head_dim}, ks{ac.batch, ac.heads, ac.seq_k, ac.head_dim};
      const std::vector<float> q = random_values(dtype, qs.numel(), -2, 2, ++salt);
      const std::vector<float> k = random_values(dtype, ks.numel(), -2, 2, ++salt);
      const std::vector<float> v = random_values(dtype, ks.numel(), -1, 1, ++salt);
      const std::vector<float> m = ac.mask ? mask_values(ac, dtype, ++salt) : std::vector<float>();
      const float scale = 1.0f / std::sqrt(static_cast<float>(ac.head_dim));
      const Tensor qt = float_tensor(qs, q), kt = float_tensor(ks, k), vt = float_tensor(ks, v);
      const Tensor mt = ac.mask ? float_tensor(*ac.mask, m) : Tensor();
      std::vector<float> expected = tensor_values(attention_reference(qt, kt, vt, ac.mask ? &mt : nullptr, scale));
      for (float& e : expected) {
        if (std::isnan(e)) e = 0.0f;
      }
      DeviceBuffer md = ac.mask ? upload(dtype, m) : DeviceBuffer();
      for (int rows : kAttentionBlockRows) {
      for (bool sequence_major : {false, true}) {
        auto layout = [&](const std::vector<float>& x, int64_t seq) {
          return sequence_major ? swap_axes_1_2(x, ac.batch, ac.heads, seq, ac.head_dim) : x;
        };
        DeviceBuffer qd = upload(dtype, layout(q, ac.seq_q)), kd = upload(dtype, layout(k, ac.seq_k)),
                     vd = upload(dtype, layout(v, ac.seq_k));
        auto out = DeviceBuffer::allocate(static_cast<size_t>(qs.numel()) * 2);
        ASSERT_TRUE(out.ok());
        ASSERT_TRUE(cuda_status(cudaMemset(out->data(), 0x7b, out->size()), "cudaMemset").ok());
        AttentionArgs a;
        a.q = qd.data();
        a.k = kd.data();
        a.v = vd.data();
        a.out = out->data();
        a.batch = ac.batch;
        a.heads = ac.heads;
        a.seq_q = ac.seq_q;
        a.seq_k = ac.seq_k;
        a.head_dim = ac.head_dim;
        a.scale = scale;
        a.block_rows = rows;
        set_dense_attention_strides(a, sequence_major);
        if (ac.mask) {
          a.mask = md.data();
          set_mask_strides(a, *ac.mask);
        }
        const Status status = scaled_dot_product_attention(dtype, a, nullptr);
        ASSERT_TRUE(status.ok()) << status.to_string();
        std::vector<float> got = download(dtype, *out, qs.numel());
        if (sequence_major) got = swap_axes_1_2(got, ac.batch, ac.seq_q, ac.heads, ac.head_dim);
        expect_within(max_relative_error(got, expected), kHalfTolerance,
                      std::string("attention ") + ac.name + (sequence_major ? " BSHD " : " BHSD ") +
                          std::string(dtype_name(dtype)) + " " + std::to_string(rows) + " rows");
      }
      }
    }
  }
}

// K and V as slices of one packed [B, S, 3, H, D] projection (what a fused QKV matmul writes),
// read in place through strides, with K and V shared by all heads in a second run (head
// stride 0, multi-query attention).
TEST(CudaAttention, StridedViewsMatchDenseOperands) {
  KILN_REQUIRE_GPU();
  const DType dtype = DType::kFloat16;
  const int64_t b = 2, h = 4, s = 100, d = 64;
  const float scale = 0.125f;
  uint32_t salt = 500;
  for (bool shared_kv : {false, true}) {
    const std::vector<float> packed = random_values(dtype, b * s * 3 * h * d, -2, 2, ++salt);
    // Dense BHSD copies of the three slices (with K, V from head 0 everywhere when shared).
    std::vector<float> dense[3];
    for (int part = 0; part < 3; ++part) {
      dense[part].resize(static_cast<size_t>(b * h * s * d));
      for (int64_t i = 0; i < b; ++i)
        for (int64_t j = 0; j < h; ++j)
          for (int64_t r = 0; r < s; ++r)
            for (int64_t e = 0; e < d; ++e) {
              const int64_t head = shared_kv && part > 0 ? 0 : j;
              dense[part][static_cast<size_t>(((i * h + j) * s + r) * d + e)] =
                  packed[static_cast<size_t>((((i * s + r) * 3 + part) * h + head) * d + e)];
            }
    }
    const Shape shape{b, h, s, d};
    const Tensor qt = float_tensor(shape, dense[0]), kt = float_tensor(shape, dense[1]), vt = float_tensor(shape, dense[2]);
    const std::vector<float> expected = tensor_values(attention_reference(qt, kt, vt, nullptr, scale));
    DeviceBuffer pd = upload(dtype, packed);
    auto out = DeviceBuffer::allocate(static_cast<size_t>(shape.numel()) * 2);
    ASSERT_TRUE(out.ok());
    AttentionArgs a;
    const auto* base = static_cast<const char*>(pd.data());
    a.q = base;
    a.k = base + h * d * 2;
    a.v = base + 2 * h * d * 2;
    a.out = out->data();
    a.batch = b;
    a.heads = h;
    a.seq_q = a.seq_k = s;
    a.head_dim = d;
    a.scale = scale;
    set_dense_attention_strides(a, false);
    const AttentionStrides packed_strides{s * 3 * h * d, d, 3 * h * d};
    a.q_strides = a.k_strides = a.v_strides = packed_strides;
    if (shared_kv) a.k_strides.head = a.v_strides.head = 0;
    const Status status = scaled_dot_product_attention(dtype, a, nullptr);
    ASSERT_TRUE(status.ok()) << status.to_string();
    expect_within(max_relative_error(download(dtype, *out, shape.numel()), expected), kHalfTolerance,
                  std::string("attention packed QKV") + (shared_kv ? " shared K/V" : ""));
  }
}

TEST(CudaAttention, RejectsBadArguments) {
  KILN_REQUIRE_GPU();
  AttentionArgs a;
  EXPECT_FALSE(scaled_dot_product_attention(DType::kFloat16, a, nullptr).ok());
  auto buffer = DeviceBuffer::allocate(1 << 16);
  ASSERT_TRUE(buffer.ok());
  a.q = a.k = a.v = buffer->data();
  a.out = buffer->data();
  a.batch = a.heads = a.seq_q = a.seq_k = 1;
  a.head_dim = 64;
  EXPECT_FALSE(scaled_dot_product_attention(DType::kFloat16, a, nullptr).ok());  // strides not set
  set_dense_attention_strides(a, false);
  a.out_strides.seq = 12;  // not a multiple of 8 elements
  EXPECT_FALSE(scaled_dot_product_attention(DType::kFloat16, a, nullptr).ok());
  set_dense_attention_strides(a, true);
  a.head_dim = 96;
  const Status bad_dim = scaled_dot_product_attention(DType::kFloat16, a, nullptr);
  EXPECT_EQ(bad_dim.code(), StatusCode::kUnimplemented) << bad_dim.to_string();
  a.head_dim = 64;
  EXPECT_FALSE(scaled_dot_product_attention(DType::kFloat32, a, nullptr).ok());
  a.q = static_cast<const char*>(buffer->data()) + 2;
  EXPECT_FALSE(scaled_dot_product_attention(DType::kFloat16, a, nullptr).ok());
}

std::optional<OpKind> fused_kind(const char* name) { return op_kind_from_name(name); }

TEST(CudaBackendFused, ScaledDotProductAttentionMatchesReferenceComposition) {
  KILN_REQUIRE_GPU();
  const std::optional<OpKind> op = fused_kind("ScaledDotProductAttention");
  if (!op) GTEST_SKIP() << "ops.def has no ScaledDotProductAttention yet (branch passes)";
  uint32_t salt = 100;
  for (const AttentionCase& ac : kAttentionCases) {
    for (DType dtype : kHalfTypes) {
      OpCase c;
      c.op = *op;
      const float scale = 0.125f;
      c.attrs.set("scale", scale);
      c.inputs.push_back(float_input(dtype, Shape{ac.batch, ac.heads, ac.seq_q, ac.head_dim}, -2, 2, ++salt));
      c.inputs.push_back(float_input(dtype, Shape{ac.batch, ac.heads, ac.seq_k, ac.head_dim}, -2, 2, ++salt));
      c.inputs.push_back(float_input(dtype, Shape{ac.batch, ac.heads, ac.seq_k, ac.head_dim}, -1, 1, ++salt));
      if (ac.mask) c.inputs.push_back(float_input(dtype, *ac.mask, -3, 0, ++salt));
      c.expected = {attention_reference(c.inputs[0].value, c.inputs[1].value, c.inputs[2].value, ac.mask ? &c.inputs[3].value : nullptr, scale)};
      expect_case_matches(c, std::string("SDPA ") + ac.name + " " + std::string(dtype_name(dtype)));
      // qkv_layout BSHD: the same values sequence-major, the mask unchanged (score order).
      Attributes swap;
      swap.set("perm", std::vector<int64_t>{0, 2, 1, 3});
      OpCase seq_major = c;
      seq_major.attrs.set("qkv_layout", std::string("BSHD"));
      for (size_t i = 0; i < 3; ++i) seq_major.inputs[i].value = ref1(OpKind::Transpose, {&c.inputs[i].value}, swap);
      seq_major.expected = {ref1(OpKind::Transpose, {&c.expected[0]}, swap)};
      expect_case_matches(seq_major, std::string("SDPA BSHD ") + ac.name + " " + std::string(dtype_name(dtype)));
      // qkv_layout BS3HD (self-attention only): Q, K, V packed as slots of one [B, S, 3, H, D]
      // tensor, passed three times; the output is the BSHD one.
      if (ac.seq_q == ac.seq_k) {
        const Tensor slot_axis = Tensor::from_vector<int64_t>(DType::kInt64, Shape{1}, {2});
        Attributes concat_axis;
        concat_axis.set("axis", int64_t{2});
        std::vector<Tensor> slots;
        for (size_t i = 0; i < 3; ++i) slots.push_back(ref1(OpKind::Unsqueeze, {&seq_major.inputs[i].value, &slot_axis}));
        OpCase packed = seq_major;
        packed.attrs.set("qkv_layout", std::string("BS3HD"));
        const Tensor qkv = ref1(OpKind::Concat, {&slots[0], &slots[1], &slots[2]}, concat_axis);
        for (size_t i = 0; i < 3; ++i) packed.inputs[i].value = qkv;
        expect_case_matches(packed, std::string("SDPA BS3HD ") + ac.name + " " + std::string(dtype_name(dtype)));
      }
    }
  }
}

TEST(CudaBackendFused, FusedConvMatchesReferenceComposition) {
  KILN_REQUIRE_GPU();
  const std::optional<OpKind> op = fused_kind("FusedConv");
  if (!op) GTEST_SKIP() << "ops.def has no FusedConv yet (branch passes)";
  uint32_t salt = 200;
  for (const std::string activation : {"Relu", "", "Gelu"}) {
    for (bool residual : {true, false}) {
      for (DType dtype : kDTypes) {
        OpCase c;
        c.op = *op;
        c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
        c.attrs.set("activation", activation);
        c.inputs.push_back(float_input(dtype, Shape{2, 64, 28, 28}, -1, 1, ++salt));
        c.inputs.push_back(float_input(dtype, Shape{128, 64, 3, 3}, -0.1f, 0.1f, ++salt, true));
        c.inputs.push_back(float_input(dtype, Shape{128}, -1, 1, ++salt, true));
        if (residual) c.inputs.push_back(float_input(dtype, Shape{2, 128, 28, 28}, -1, 1, ++salt));
        Attributes conv_attrs;
        conv_attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
        Tensor y = ref1(OpKind::Conv, {&c.inputs[0].value, &c.inputs[1].value, &c.inputs[2].value}, conv_attrs);
        if (residual) y = ref1(OpKind::Add, {&y, &c.inputs[3].value});
        c.expected = {apply_activation(activation, y)};
        expect_case_matches(c, "FusedConv act=" + activation + (residual ? " +Z " : " ") + std::string(dtype_name(dtype)));
      }
    }
  }
}

TEST(CudaBackendFused, FusedMatMulMatchesReferenceComposition) {
  KILN_REQUIRE_GPU();
  const std::optional<OpKind> op = fused_kind("FusedMatMul");
  if (!op) GTEST_SKIP() << "ops.def has no FusedMatMul yet (branch passes)";
  uint32_t salt = 300;
  for (const std::string activation : {"", "Relu", "GeluTanh", "Gelu"}) {
    for (bool trans_b : {false, true}) {
      for (bool residual : {false, true}) {
        for (DType dtype : kDTypes) {
          OpCase c;
          c.op = *op;
          c.attrs.set("activation", activation);
          c.attrs.set("trans_b", int64_t{trans_b ? 1 : 0});
          const Shape b_shape = trans_b ? Shape{1024, 256} : Shape{256, 1024};
          c.inputs.push_back(float_input(dtype, Shape{2, 64, 256}, -1, 1, ++salt));
          c.inputs.push_back(float_input(dtype, b_shape, -0.2f, 0.2f, ++salt, true));
          c.inputs.push_back(float_input(dtype, Shape{1024}, -1, 1, ++salt, true));
          // Z (a transformer's residual stream) rides in cuBLASLt's C matrix, before the activation.
          if (residual) c.inputs.push_back(float_input(dtype, Shape{2, 64, 1024}, -1, 1, ++salt));
          Tensor b = c.inputs[1].value;
          if (trans_b) b = ref1(OpKind::Transpose, {&b});
          Tensor y = ref1(OpKind::MatMul, {&c.inputs[0].value, &b});
          y = ref1(OpKind::Add, {&y, &c.inputs[2].value});
          if (residual) y = ref1(OpKind::Add, {&y, &c.inputs[3].value});
          c.expected = {apply_activation(activation, y)};
          expect_case_matches(c, "FusedMatMul act=" + activation + (trans_b ? " transB" : "") + (residual ? " +Z " : " ") +
                                     std::string(dtype_name(dtype)));
        }
      }
    }
  }
}

// execute() must be capturable: one op of each family inside cudaStreamBeginCapture.
TEST(CudaBackendCapture, KernelsRunInsideACudaGraph) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 400;
  const DType dtype = DType::kFloat16;
  std::vector<std::pair<std::string, OpCase>> cases;
  {
    OpCase c;
    c.op = OpKind::Conv;
    c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    c.inputs.push_back(float_input(dtype, Shape{2, 64, 28, 28}, -1, 1, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{64, 64, 3, 3}, -0.1f, 0.1f, ++salt, true));
    c.inputs.push_back(float_input(dtype, Shape{64}, -1, 1, ++salt, true));
    cases.emplace_back("Conv", c);
  }
  {
    OpCase c;
    c.op = OpKind::MatMul;
    c.inputs.push_back(float_input(dtype, Shape{128, 1024}, -1, 1, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{1024, 1024}, -1, 1, ++salt, true));
    cases.emplace_back("MatMul", c);
  }
  {
    OpCase c;
    c.op = OpKind::MaxPool;
    c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
    c.attrs.set("strides", std::vector<int64_t>{2, 2});
    c.inputs.push_back(float_input(dtype, Shape{2, 8, 17, 17}, -1, 1, ++salt));
    cases.emplace_back("MaxPool", c);
  }
  {
    OpCase c;
    c.op = OpKind::LayerNormalization;
    c.inputs.push_back(float_input(dtype, Shape{256, 1024}, -1, 1, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{1024}, 0.5f, 1.5f, ++salt, true));
    cases.emplace_back("LayerNorm", c);
  }
  {
    OpCase c;
    c.op = OpKind::Transpose;
    c.attrs.set("perm", std::vector<int64_t>{0, 2, 1, 3});
    c.inputs.push_back(float_input(dtype, Shape{2, 128, 16, 64}, -1, 1, ++salt));
    cases.emplace_back("Transpose", c);
  }
  {
    // Attention sets its kernel's dynamic shared-memory attribute on every launch: legal
    // inside a capture, which this checks.
    OpCase c;
    c.op = OpKind::ScaledDotProductAttention;
    c.attrs.set("scale", 0.125f);
    c.attrs.set("qkv_layout", std::string("BSHD"));
    for (int i = 0; i < 3; ++i) c.inputs.push_back(float_input(dtype, Shape{2, 100, 4, 64}, -2, 2, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{2, 1, 1, 100}, -3, 0, ++salt));
    Attributes swap;
    swap.set("perm", std::vector<int64_t>{0, 2, 1, 3});
    const Tensor q = ref1(OpKind::Transpose, {&c.inputs[0].value}, swap);
    const Tensor k = ref1(OpKind::Transpose, {&c.inputs[1].value}, swap);
    const Tensor v = ref1(OpKind::Transpose, {&c.inputs[2].value}, swap);
    const Tensor out = attention_reference(q, k, v, &c.inputs[3].value, 0.125f);
    c.expected = {ref1(OpKind::Transpose, {&out}, swap)};
    cases.emplace_back("ScaledDotProductAttention", c);
  }
  for (auto& [name, c] : cases) {
    c.capture = true;
    expect_case_matches(c, "captured " + name);
  }
}

}  // namespace
}  // namespace kiln::cuda
