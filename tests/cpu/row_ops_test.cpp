// Softmax and LayerNormalization on the CPU backend vs reference.
#include "cpu_test_util.h"

namespace kiln::backends::cpu::testing {
namespace {

TEST(CpuSoftmax, MatchesReferenceOnEveryAxis) {
  const Shape shape{2, 3, 129};
  uint32_t salt = 1;
  for (int64_t axis : {-1, 1, 0}) {
    OpCase c;
    c.op = OpKind::Softmax;
    c.inputs = {random_tensor(shape, salt++, -8.0f, 8.0f)};
    c.attrs.set("axis", axis);
    expect_matches_reference(c, kReductionTolerance, "Softmax axis " + std::to_string(axis));
  }
  OpCase scores;
  scores.op = OpKind::Softmax;
  scores.inputs = {random_tensor(Shape{2, 12, 128, 128}, salt, -5.0f, 5.0f)};
  expect_matches_reference(scores, kReductionTolerance, "Softmax attention scores");
}

TEST(CpuLayerNorm, MatchesReference) {
  struct LayerNormShape {
    Shape x;
    int64_t axis;
    bool bias;
  };
  uint32_t salt = 1;
  for (const LayerNormShape& s : std::vector<LayerNormShape>{{{2, 9, 768}, -1, true}, {{3, 5, 7}, 1, true},
                                                             {{4, 33}, -1, false}}) {
    OpCase c;
    c.op = OpKind::LayerNormalization;
    Shape normalized(std::vector<int64_t>(s.x.dims().begin() + (s.axis < 0 ? s.x.rank() - 1 : s.axis), s.x.dims().end()));
    // A large mean against the spread: catches the one-pass variance.
    c.inputs = {random_tensor(s.x, salt, 9.0f, 11.0f), random_tensor(normalized, salt + 1)};
    c.inputs.push_back(s.bias ? random_tensor(normalized, salt + 2) : Tensor());
    c.attrs.set("axis", s.axis);
    c.attrs.set("epsilon", 1e-5f);
    expect_matches_reference(c, kReductionTolerance, "LayerNorm " + s.x.to_string());
    salt += 3;
  }
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
