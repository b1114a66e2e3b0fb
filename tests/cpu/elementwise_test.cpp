// Elementwise unary and broadcasting binary ops on the CPU backend vs reference.
#include "cpu_test_util.h"

namespace kiln::backends::cpu::testing {
namespace {

TEST(CpuElementwise, BinaryOpsBroadcastLikeTheReference) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 5000}, {3, 5000}},       // same shape, several blocks per row
      {{2, 9, 768}, {768}},         // bias over rows
      {{2, 12, 9, 9}, {2, 1, 1, 9}},// attention mask
      {{4, 1, 6}, {1, 5, 1}},       // both sides broadcast
      {{7, 3}, {}},                 // scalar
      {{1}, {6, 2}},                // broadcast scalar on the left
  };
  uint32_t salt = 1;
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
    for (const auto& [a, b] : shapes) {
      OpCase c;
      c.op = op;
      // Divisors kept away from zero so the relative error stays meaningful.
      c.inputs = {random_tensor(a, salt), random_tensor(b, salt + 1, 0.5f, 2.0f)};
      expect_matches_reference(c, kElementwiseTolerance,
                               std::string(op_kind_name(op)) + " " + a.to_string() + " , " + b.to_string());
      salt += 2;
    }
  }
}

TEST(CpuElementwise, UnaryOpsMatchReference) {
  struct UnaryCase {
    OpKind op;
    float lo, hi;
    double tolerance;
  };
  const std::vector<UnaryCase> cases = {
      {OpKind::Relu, -3, 3, kExact},           {OpKind::LeakyRelu, -3, 3, kElementwiseTolerance},
      {OpKind::Sigmoid, -12, 12, kTranscendentalTolerance}, {OpKind::Tanh, -6, 6, kTranscendentalTolerance},
      {OpKind::Tanh, -0.3f, 0.3f, kTranscendentalTolerance}, {OpKind::Erf, -4, 4, kTranscendentalTolerance},
      {OpKind::Exp, -80, 80, kTranscendentalTolerance},      {OpKind::Sqrt, 0, 100, kElementwiseTolerance},
      {OpKind::Neg, -3, 3, kExact},            {OpKind::Abs, -3, 3, kExact},
      {OpKind::Reciprocal, 0.1f, 10, kElementwiseTolerance},
  };
  uint32_t salt = 100;
  for (const UnaryCase& u : cases) {
    for (const Shape& s : {Shape{37}, Shape{3, 70001}}) {
      OpCase c;
      c.op = u.op;
      c.inputs = {random_tensor(s, salt++, u.lo, u.hi)};
      if (u.op == OpKind::LeakyRelu) c.attrs.set("alpha", 0.2f);
      expect_matches_reference(c, u.tolerance, std::string(op_kind_name(u.op)) + " " + s.to_string());
    }
  }
}

TEST(CpuElementwise, GeluBothApproximationsMatchReference) {
  for (const char* approximate : {"none", "tanh"}) {
    OpCase c;
    c.op = OpKind::Gelu;
    c.inputs = {random_tensor(Shape{8, 3072}, 5, -6.0f, 6.0f)};
    c.attrs.set("approximate", std::string(approximate));
    expect_matches_reference(c, kTranscendentalTolerance, std::string("Gelu ") + approximate);
  }
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
