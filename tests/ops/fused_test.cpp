// The fused ops (docs/fused-ops.md) through schema + verifier + reference kernel: FusedConv
// against the Conv -> Add -> activation chain it replaces, FusedMatMul and
// ScaledDotProductAttention against direct loops written from the definition, all on fresh
// seeded random inputs, plus bad inputs that must fail with a Status.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "op_test_util.h"

namespace kiln::testing {
namespace {

constexpr double kFloat32Tolerance = 1e-5;
constexpr double kRelativeFloor = 1e-3;

Tensor run_single(const OpRun& run) {
  auto result = run_op(run);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

Attributes conv_attrs() {
  Attributes a;
  a.set("strides", std::vector<int64_t>{2, 1});
  a.set("pads", std::vector<int64_t>{1, 0, 1, 2});
  a.set("group", int64_t{2});
  return a;
}

TEST(FusedConv, EqualsConvThenResidualAddThenActivation) {
  const Tensor x = random_tensor(DType::kFloat32, {2, 4, 7, 6}, 101);
  const Tensor w = random_tensor(DType::kFloat32, {6, 2, 3, 3}, 102);
  const Tensor b = random_tensor(DType::kFloat32, {6}, 103);
  const Tensor conv = run_single({OpKind::Conv, {x, w, b}, conv_attrs()});
  ASSERT_TRUE(conv.defined());
  const Tensor z = random_tensor(DType::kFloat32, conv.shape(), 104);
  const Tensor sum = run_single({OpKind::Add, {conv, z}});

  struct Case {
    std::string activation;
    OpKind op;
    Attributes op_attrs;
  };
  Attributes leaky;
  leaky.set("alpha", 0.2f);
  for (const Case& c : std::vector<Case>{{"Relu", OpKind::Relu, {}}, {"LeakyRelu", OpKind::LeakyRelu, leaky},
                                         {"Sigmoid", OpKind::Sigmoid, {}}}) {
    Attributes fused = conv_attrs();
    fused.set("activation", c.activation);
    if (c.op == OpKind::LeakyRelu) fused.set("activation_alpha", 0.2f);
    const Tensor expected = run_single({OpKind::FusedConv, {x, w, b, z}, fused, 1, {1, 2}});
    const Tensor chain = run_single({c.op, {sum}, c.op_attrs});
    EXPECT_LE(max_relative_error(expected, chain), kFloat32Tolerance) << c.activation;
  }
}

TEST(FusedConv, WithoutBiasResidualOrActivationIsConv) {
  const Tensor x = random_tensor(DType::kFloat32, {1, 4, 5, 5}, 111);
  const Tensor w = random_tensor(DType::kFloat32, {6, 2, 3, 3}, 112);
  const Tensor conv = run_single({OpKind::Conv, {x, w}, conv_attrs()});
  const Tensor fused = run_single({OpKind::FusedConv, {x, w}, conv_attrs()});
  EXPECT_LE(max_relative_error(fused, conv), kFloat32Tolerance);
}

TEST(FusedConv, ClipActivationBoundsTheOutput) {
  const Tensor x = random_tensor(DType::kFloat32, {1, 2, 6, 6}, 121, -3.0, 3.0);
  const Tensor w = random_tensor(DType::kFloat32, {4, 2, 3, 3}, 122);
  Attributes attrs;
  attrs.set("activation", std::string("Clip"));
  attrs.set("activation_min", 0.0f);
  attrs.set("activation_max", 0.5f);
  const Tensor conv = run_single({OpKind::Conv, {x, w}, {}});
  const Tensor fused = run_single({OpKind::FusedConv, {x, w}, attrs});
  const std::vector<double> c = values_of(conv), f = values_of(fused);
  ASSERT_EQ(c.size(), f.size());
  for (size_t i = 0; i < c.size(); ++i) EXPECT_NEAR(f[i], std::min(std::max(c[i], 0.0), 0.5), 1e-6);
}

TEST(FusedConv, RejectsBadResidualAndUnknownActivation) {
  const Tensor x = random_tensor(DType::kFloat32, {1, 2, 4, 4}, 131);
  const Tensor w = random_tensor(DType::kFloat32, {3, 2, 3, 3}, 132);
  const Tensor wrong_z = random_tensor(DType::kFloat32, {1, 3, 4, 4}, 133);
  auto bad_z = run_op({OpKind::FusedConv, {x, w, Tensor(), wrong_z}});
  EXPECT_FALSE(bad_z.ok());
  Attributes attrs;
  attrs.set("activation", std::string("Swish"));
  auto bad_activation = run_op({OpKind::FusedConv, {x, w}, attrs});
  ASSERT_FALSE(bad_activation.ok());
  EXPECT_NE(bad_activation.status().message().find("Swish"), std::string::npos);
}

// act(A @ op(B) + bias) element by element, in double, with B indexed directly (no transpose).
std::vector<double> matmul_oracle(const Tensor& a, const Tensor& b, const Tensor* bias, bool trans_b,
                                  const std::string& activation) {
  const std::vector<double> av = values_of(a), bv = values_of(b);
  const std::vector<double> biasv = bias ? values_of(*bias) : std::vector<double>();
  const int64_t k = a.shape()[a.rank() - 1];
  const int64_t m = a.shape()[a.rank() - 2];
  const int64_t n = trans_b ? b.shape()[0] : b.shape()[1];
  const int64_t batches = a.numel() / (m * k);
  std::vector<double> out;
  for (int64_t batch = 0; batch < batches; ++batch) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = bias ? biasv[static_cast<size_t>(j)] : 0.0;
        for (int64_t p = 0; p < k; ++p) {
          const double bvalue = trans_b ? bv[static_cast<size_t>(j * k + p)] : bv[static_cast<size_t>(p * n + j)];
          s += av[static_cast<size_t>((batch * m + i) * k + p)] * bvalue;
        }
        if (activation == "Relu") s = std::max(s, 0.0);
        if (activation == "Gelu") s = 0.5 * s * (1.0 + std::erf(s / std::numbers::sqrt2));
        if (activation == "GeluTanh")
          s = 0.5 * s * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (s + 0.044715 * s * s * s)));
        out.push_back(s);
      }
    }
  }
  return out;
}

TEST(FusedMatMul, MatchesDirectLoopsForEveryVariant) {
  const Tensor a = random_tensor(DType::kFloat32, {2, 3, 5}, 201);
  const Tensor b = random_tensor(DType::kFloat32, {5, 4}, 202);
  const Tensor b_t = random_tensor(DType::kFloat32, {4, 5}, 203);
  const Tensor bias = random_tensor(DType::kFloat32, {4}, 204);
  uint64_t variant = 0;
  for (bool trans_b : {false, true}) {
    for (bool with_bias : {false, true}) {
      for (const std::string activation : {"", "Relu", "Gelu", "GeluTanh"}) {
        Attributes attrs;
        if (trans_b) attrs.set("trans_b", int64_t{1});
        if (!activation.empty()) attrs.set("activation", activation);
        OpRun run{OpKind::FusedMatMul, {a, trans_b ? b_t : b}, attrs, 1, {1, 2}};
        if (with_bias) run.inputs.push_back(bias);
        const Tensor y = run_single(run);
        ASSERT_TRUE(y.defined());
        EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
        const Tensor expected = make_tensor(DType::kFloat32, y.shape(),
                                            matmul_oracle(a, trans_b ? b_t : b, with_bias ? &bias : nullptr, trans_b, activation));
        EXPECT_LE(max_relative_error(y, expected, kRelativeFloor), kFloat32Tolerance)
            << "variant " << variant << " trans_b=" << trans_b << " bias=" << with_bias << " act=" << activation;
        ++variant;
      }
    }
  }
}

TEST(FusedMatMul, RejectsBadBiasAndTransB) {
  const Tensor a = random_tensor(DType::kFloat32, {3, 5}, 211);
  const Tensor b = random_tensor(DType::kFloat32, {5, 4}, 212);
  const Tensor wrong_bias = random_tensor(DType::kFloat32, {5}, 213);
  EXPECT_FALSE(run_op({OpKind::FusedMatMul, {a, b, wrong_bias}}).ok());
  Attributes bad;
  bad.set("trans_b", int64_t{2});
  EXPECT_FALSE(run_op({OpKind::FusedMatMul, {a, b}, bad}).ok());
  // With trans_b, B [5, 4] means N=5, K=4: K no longer matches A's 5.
  Attributes trans;
  trans.set("trans_b", int64_t{1});
  EXPECT_FALSE(run_op({OpKind::FusedMatMul, {a, b}, trans}).ok());
}

// softmax(Q K^T * scale + mask) V per (batch, head, query), in double.
std::vector<double> attention_oracle(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                                     double scale) {
  const std::vector<double> qv = values_of(q), kv = values_of(k), vv = values_of(v);
  const std::vector<double> mv = mask ? values_of(*mask) : std::vector<double>();
  const int64_t batches = q.shape()[0], heads = q.shape()[1], sq = q.shape()[2], d = q.shape()[3];
  const int64_t sk = k.shape()[2], dv = v.shape()[3];
  std::vector<double> out;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < sq; ++i) {
        std::vector<double> scores(static_cast<size_t>(sk));
        double max = -INFINITY;
        for (int64_t j = 0; j < sk; ++j) {
          double s = 0;
          for (int64_t p = 0; p < d; ++p)
            s += qv[static_cast<size_t>(((b * heads + h) * sq + i) * d + p)] *
                 kv[static_cast<size_t>(((b * heads + h) * sk + j) * d + p)];
          s *= scale;
          if (mask) s += mv[static_cast<size_t>(b * sk + j)];  // mask is [B, 1, 1, Sk]
          scores[static_cast<size_t>(j)] = s;
          max = std::max(max, s);
        }
        double total = 0;
        for (double& s : scores) total += (s = std::exp(s - max));
        for (int64_t e = 0; e < dv; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < sk; ++j)
            acc += scores[static_cast<size_t>(j)] / total * vv[static_cast<size_t>(((b * heads + h) * sk + j) * dv + e)];
          out.push_back(acc);
        }
      }
    }
  }
  return out;
}

TEST(ScaledDotProductAttention, MatchesDirectLoopsWithAndWithoutMask) {
  const Tensor q = random_tensor(DType::kFloat32, {2, 3, 5, 4}, 301, -2.0, 2.0);
  const Tensor k = random_tensor(DType::kFloat32, {2, 3, 6, 4}, 302, -2.0, 2.0);
  const Tensor v = random_tensor(DType::kFloat32, {2, 3, 6, 7}, 303);
  const Tensor mask = random_tensor(DType::kFloat32, {2, 1, 1, 6}, 304, -5.0, 0.0);
  const float scale = 0.5f;
  Attributes attrs;
  attrs.set("scale", scale);
  for (bool with_mask : {false, true}) {
    OpRun run{OpKind::ScaledDotProductAttention, {q, k, v}, attrs};
    if (with_mask) run.inputs.push_back(mask);
    const Tensor y = run_single(run);
    ASSERT_TRUE(y.defined());
    EXPECT_EQ(y.shape(), (Shape{2, 3, 5, 7}));
    const Tensor expected =
        make_tensor(DType::kFloat32, y.shape(), attention_oracle(q, k, v, with_mask ? &mask : nullptr, scale));
    EXPECT_LE(max_relative_error(y, expected, kRelativeFloor), kFloat32Tolerance) << "mask " << with_mask;
  }
}

TEST(ScaledDotProductAttention, EqualsTheMatMulSoftmaxMatMulChain) {
  const Tensor q = random_tensor(DType::kFloat32, {1, 2, 4, 8}, 311);
  const Tensor k = random_tensor(DType::kFloat32, {1, 2, 4, 8}, 312);
  const Tensor v = random_tensor(DType::kFloat32, {1, 2, 4, 8}, 313);
  const Tensor mask = random_tensor(DType::kFloat32, {1, 1, 4, 4}, 314, -3.0, 0.0);
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{0, 1, 3, 2});
  const Tensor k_t = run_single({OpKind::Transpose, {k}, perm});
  const Tensor scores = run_single({OpKind::MatMul, {q, k_t}});
  const Tensor divided = run_single({OpKind::Div, {scores, make_tensor(DType::kFloat32, {}, {std::sqrt(8.0)})}});
  const Tensor masked = run_single({OpKind::Add, {divided, mask}});
  const Tensor p = run_single({OpKind::Softmax, {masked}});
  const Tensor chain = run_single({OpKind::MatMul, {p, v}});
  Attributes attrs;
  attrs.set("scale", static_cast<float>(1.0 / std::sqrt(8.0)));
  const Tensor fused = run_single({OpKind::ScaledDotProductAttention, {q, k, v, mask}, attrs});
  EXPECT_LE(max_relative_error(fused, chain, kRelativeFloor), kFloat32Tolerance);
}

// [B, H, S, D] <-> [B, S, H, D].
Tensor swap_heads_and_sequence(const Tensor& t) {
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{0, 2, 1, 3});
  return run_single({OpKind::Transpose, {t}, perm});
}

// qkv_layout "BSHD" on transposed operands is the BHSD result transposed, for float32 and a
// 16-bit dtype, with and without a mask, Sq != Sk and Dv != D.
TEST(ScaledDotProductAttention, SequenceMajorLayoutMatchesHeadMajor) {
  for (DType dtype : {DType::kFloat32, DType::kFloat16}) {
    const Tensor q = random_tensor(dtype, {2, 3, 5, 4}, 331, -2.0, 2.0);
    const Tensor k = random_tensor(dtype, {2, 3, 6, 4}, 332, -2.0, 2.0);
    const Tensor v = random_tensor(dtype, {2, 3, 6, 7}, 333);
    const Tensor mask = random_tensor(dtype, {2, 1, 5, 6}, 334, -5.0, 0.0);
    Attributes bhsd;
    bhsd.set("scale", 0.5f);
    Attributes bshd = bhsd;
    bshd.set("qkv_layout", std::string("BSHD"));
    for (bool with_mask : {false, true}) {
      OpRun head_major{OpKind::ScaledDotProductAttention, {q, k, v}, bhsd};
      OpRun seq_major{OpKind::ScaledDotProductAttention,
                      {swap_heads_and_sequence(q), swap_heads_and_sequence(k), swap_heads_and_sequence(v)}, bshd};
      if (with_mask) {
        head_major.inputs.push_back(mask);
        seq_major.inputs.push_back(mask);  // the mask stays in score order [B, H, Sq, Sk]
      }
      const Tensor expected = run_single(head_major);
      const Tensor y = run_single(seq_major);
      ASSERT_TRUE(y.defined());
      EXPECT_EQ(y.shape(), (Shape{2, 5, 3, 7}));
      // The same reference kernels on the same values: equal up to nothing.
      EXPECT_LE(max_relative_error(swap_heads_and_sequence(y), expected, kRelativeFloor), 0.0)
          << dtype_name(dtype) << " mask " << with_mask;
    }
  }
}

TEST(ScaledDotProductAttention, RejectsUnknownLayout) {
  const Tensor q = random_tensor(DType::kFloat32, {1, 2, 4, 8}, 341);
  Attributes attrs;
  attrs.set("scale", 1.0f);
  attrs.set("qkv_layout", std::string("SBHD"));
  EXPECT_FALSE(run_op({OpKind::ScaledDotProductAttention, {q, q, q}, attrs}).ok());
}

TEST(ScaledDotProductAttention, RejectsBadOperands) {
  const Tensor q = random_tensor(DType::kFloat32, {1, 2, 4, 8}, 321);
  const Tensor k3 = random_tensor(DType::kFloat32, {2, 4, 8}, 322);
  const Tensor k_other_d = random_tensor(DType::kFloat32, {1, 2, 4, 6}, 323);
  const Tensor v = random_tensor(DType::kFloat32, {1, 2, 4, 8}, 324);
  const Tensor bad_mask = random_tensor(DType::kFloat32, {1, 1, 4, 3}, 325);
  Attributes attrs;
  attrs.set("scale", 1.0f);
  EXPECT_FALSE(run_op({OpKind::ScaledDotProductAttention, {q, k3, v}, attrs}).ok());
  EXPECT_FALSE(run_op({OpKind::ScaledDotProductAttention, {q, k_other_d, v}, attrs}).ok());
  EXPECT_FALSE(run_op({OpKind::ScaledDotProductAttention, {q, q, v, bad_mask}, attrs}).ok());
  EXPECT_FALSE(run_op({OpKind::ScaledDotProductAttention, {q, q, v}}).ok());  // no scale
}

}  // namespace
}  // namespace kiln::testing
