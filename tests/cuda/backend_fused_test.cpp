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

struct AttentionCase {
  const char* name;
  int64_t batch, heads, seq_q, seq_k, head_dim;
  std::optional<Shape> mask;
};

const AttentionCase kAttentionCases[] = {
    {"BERT-large seq384 mask [B,1,1,Sk]", 2, 16, 384, 384, 64, Shape{2, 1, 1, 384}},
    {"BERT-large seq128 no mask", 2, 16, 128, 128, 64, std::nullopt},
    {"d128 odd lengths full mask", 1, 3, 77, 93, 128, Shape{1, 3, 77, 93}},
    {"d128 seq 1 query", 2, 2, 1, 200, 128, Shape{200}},
    {"d64 short keys [Sq,Sk] mask", 1, 2, 70, 5, 64, Shape{70, 5}},
};

TEST(CudaAttention, RawKernelMatchesReferenceComposition) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 0;
  for (const AttentionCase& ac : kAttentionCases) {
    for (DType dtype : kHalfTypes) {
      const Shape qs{ac.batch, ac.heads, ac.seq_q, ac.head_dim}, ks{ac.batch, ac.heads, ac.seq_k, ac.head_dim};
      const std::vector<float> q = random_values(dtype, qs.numel(), -2, 2, ++salt);
      const std::vector<float> k = random_values(dtype, ks.numel(), -2, 2, ++salt);
      const std::vector<float> v = random_values(dtype, ks.numel(), -1, 1, ++salt);
      std::vector<float> m;
      if (ac.mask) {
        m = random_values(dtype, ac.mask->numel(), -3, 0, ++salt);
        // Some keys fully masked, as padding masks do.
        for (size_t i = 0; i < m.size(); i += 7) m[i] = -10000.0f;
      }
      const float scale = 1.0f / std::sqrt(static_cast<float>(ac.head_dim));
      DeviceBuffer qd = upload(dtype, q), kd = upload(dtype, k), vd = upload(dtype, v);
      DeviceBuffer md = ac.mask ? upload(dtype, m) : DeviceBuffer();
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
      const Shape full{ac.batch, ac.heads, ac.seq_q, ac.seq_k};
      if (ac.mask) {
        a.mask = md.data();
        // Broadcast strides of the mask over [B, H, Sq, Sk].
        const Shape& ms = *ac.mask;
        std::vector<int64_t> dims(4, 1);
        for (size_t d = 0; d < ms.rank(); ++d) dims[4 - ms.rank() + d] = ms[d];
        int64_t stride = 1;
        for (int d = 3; d >= 0; --d) {
          a.mask_strides[d] = dims[static_cast<size_t>(d)] == 1 ? 0 : stride;
          stride *= dims[static_cast<size_t>(d)];
        }
      }
      const Status status = scaled_dot_product_attention(dtype, a, nullptr);
      ASSERT_TRUE(status.ok()) << status.to_string();
      const Tensor qt = float_tensor(qs, q), kt = float_tensor(ks, k), vt = float_tensor(ks, v);
      const Tensor mt = ac.mask ? float_tensor(*ac.mask, m) : Tensor();
      const Tensor ref = attention_reference(qt, kt, vt, ac.mask ? &mt : nullptr, scale);
      expect_within(max_relative_error(download(dtype, *out, qs.numel()), tensor_values(ref)), kHalfTolerance,
                    std::string("attention ") + ac.name + " " + std::string(dtype_name(dtype)));
    }
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
      for (DType dtype : kDTypes) {
        OpCase c;
        c.op = *op;
        c.attrs.set("activation", activation);
        c.attrs.set("trans_b", int64_t{trans_b ? 1 : 0});
        const Shape b_shape = trans_b ? Shape{1024, 256} : Shape{256, 1024};
        c.inputs.push_back(float_input(dtype, Shape{2, 64, 256}, -1, 1, ++salt));
        c.inputs.push_back(float_input(dtype, b_shape, -0.2f, 0.2f, ++salt, true));
        c.inputs.push_back(float_input(dtype, Shape{1024}, -1, 1, ++salt, true));
        Tensor b = c.inputs[1].value;
        if (trans_b) b = ref1(OpKind::Transpose, {&b});
        Tensor y = ref1(OpKind::MatMul, {&c.inputs[0].value, &b});
        y = ref1(OpKind::Add, {&y, &c.inputs[2].value});
        c.expected = {apply_activation(activation, y)};
        expect_case_matches(c, "FusedMatMul act=" + activation + (trans_b ? " transB " : " ") + std::string(dtype_name(dtype)));
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
  for (auto& [name, c] : cases) {
    c.capture = true;
    expect_case_matches(c, "captured " + name);
  }
}

}  // namespace
}  // namespace kiln::cuda
