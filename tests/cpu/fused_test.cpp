// FusedConv, FusedMatMul and ScaledDotProductAttention on the CPU backend vs reference.
#include "cpu_test_util.h"

#include <cmath>

#include "backends/cpu/cpu_backend.h"

namespace kiln::backends::cpu::testing {
namespace {

TEST(CpuFusedConv, BiasResidualAndActivationsMatchReference) {
  uint32_t salt = 1;
  for (const char* activation : {"", "Relu", "Sigmoid", "Tanh", "Gelu", "HardSwish", "LeakyRelu", "Clip"}) {
    for (bool residual : {false, true}) {
      OpCase c;
      c.op = OpKind::FusedConv;
      const Shape x{2, 16, 9, 9}, w{24, 16, 3, 3}, y{2, 24, 9, 9};
      c.inputs = {random_tensor(x, salt), random_tensor(w, salt + 1), random_tensor(Shape{24}, salt + 2),
                  residual ? random_tensor(y, salt + 3) : Tensor()};
      c.constant_inputs = {1, 2};
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.attrs.set("activation", std::string(activation));
      if (std::string(activation) == "LeakyRelu") c.attrs.set("activation_alpha", 0.2f);
      if (std::string(activation) == "Clip") {
        c.attrs.set("activation_min", -0.5f);
        c.attrs.set("activation_max", 0.7f);
      }
      expect_matches_reference(c, kGemmTolerance,
                               std::string("FusedConv '") + activation + "'" + (residual ? " + Z" : ""));
      salt += 4;
    }
  }
}

TEST(CpuFusedMatMul, TransBBiasResidualActivationMatchReference) {
  uint32_t salt = 1;
  for (bool trans_b : {false, true}) {
    for (const char* activation : {"", "Gelu", "Relu"}) {
      for (bool residual : {false, true}) {
        for (bool bias : {true, false}) {
          if (!bias && !residual) continue;
          OpCase c;
          c.op = OpKind::FusedMatMul;
          const Shape b = trans_b ? Shape{96, 64} : Shape{64, 96};
          c.inputs = {random_tensor(Shape{2, 7, 64}, salt), random_tensor(b, salt + 1),
                      bias ? random_tensor(Shape{96}, salt + 2) : Tensor()};
          if (residual) c.inputs.push_back(random_tensor(Shape{2, 7, 96}, salt + 3));
          c.constant_inputs = bias ? std::vector<size_t>{1, 2} : std::vector<size_t>{1};
          c.attrs.set("trans_b", int64_t{trans_b});
          c.attrs.set("activation", std::string(activation));
          expect_matches_reference(c, kGemmTolerance,
                                   std::string("FusedMatMul trans_b=") + (trans_b ? "1" : "0") + " '" + activation + "'" +
                                       (bias ? " +bias" : "") + (residual ? " +Z" : ""));
          salt += 4;
        }
      }
    }
  }
}

TEST(CpuAttention, MatchesReferenceWithAndWithoutMask) {
  struct AttentionShape {
    int64_t b, h, sq, sk, d;
    Shape mask;
  };
  uint32_t salt = 1;
  for (const AttentionShape& s : std::vector<AttentionShape>{{2, 3, 9, 9, 16, Shape{2, 1, 1, 9}},
                                                             {1, 2, 5, 7, 8, Shape{}},
                                                             {2, 2, 4, 6, 8, Shape{2, 2, 4, 6}},
                                                             {1, 12, 128, 128, 64, Shape{1, 1, 1, 128}}}) {
    OpCase c;
    c.op = OpKind::ScaledDotProductAttention;
    c.inputs = {random_tensor(Shape{s.b, s.h, s.sq, s.d}, salt), random_tensor(Shape{s.b, s.h, s.sk, s.d}, salt + 1),
                random_tensor(Shape{s.b, s.h, s.sk, s.d}, salt + 2)};
    // -10000 on about a third of the positions, like BERT's padding mask.
    if (s.mask.rank() > 0) {
      Tensor mask = random_tensor(s.mask, salt + 3);
      for (int64_t i = 0; i < mask.numel(); ++i) mask.data<float>()[i] = mask.data<float>()[i] > 0.3f ? -10000.0f : 0.0f;
      c.inputs.push_back(mask);
    }
    c.attrs.set("scale", 1.0f / std::sqrt(static_cast<float>(s.d)));
    expect_matches_reference(c, kGemmTolerance, "Attention " + Shape{s.b, s.h, s.sq, s.sk, s.d}.to_string());
    salt += 4;
  }
}

// qkv_layout "BSHD" is left to the reference backend: supports() must say no, even where the
// sequence-major shapes would pass for head-major ones.
TEST(CpuAttention, SaysNoToSequenceMajorLayout) {
  OpCase c;
  c.op = OpKind::ScaledDotProductAttention;
  const Shape bshd{1, 4, 4, 8};  // B = 1, S = 4, H = 4, D = 8: also a valid BHSD shape
  c.inputs = {random_tensor(bshd, 1), random_tensor(bshd, 2), random_tensor(bshd, 3)};
  c.attrs.set("scale", 0.25f);
  CpuBackend backend;
  const std::vector<Tensor> head_major = run_reference(c);
  EXPECT_TRUE(backend.supports(describe(c, head_major)));
  c.attrs.set("qkv_layout", std::string("BSHD"));
  const std::vector<Tensor> seq_major = run_reference(c);
  EXPECT_FALSE(backend.supports(describe(c, seq_major)));
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
