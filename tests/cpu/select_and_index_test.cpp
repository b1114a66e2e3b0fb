// Where, And/Or/Xor, IsNaN, Expand and Slice (the ops an HF BERT export adds) on the CPU
// backend vs the reference: fresh random inputs, broadcasting shapes, several dtypes; all exact.
#include <cmath>

#include "cpu_test_util.h"

namespace kiln::backends::cpu::testing {
namespace {

// Random data of `dtype`, derived from random_tensor so it is seeded by the test name too.
Tensor random_of(DType dtype, const Shape& shape, uint32_t salt) {
  const Tensor f = random_tensor(shape, salt, -100.0f, 100.0f);
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = f.data<float>()[i];
    switch (dtype) {
      case DType::kFloat32: t.data<float>()[i] = v; break;
      case DType::kInt64: t.data<int64_t>()[i] = static_cast<int64_t>(v); break;
      case DType::kInt32: t.data<int32_t>()[i] = static_cast<int32_t>(v); break;
      default: t.data<bool>()[i] = v > 0.0f; break;
    }
  }
  return t;
}

struct BroadcastShapes {
  Shape a, b, c;
};

const std::vector<BroadcastShapes>& broadcast_cases() {
  static const std::vector<BroadcastShapes> cases = {
      {{3, 7, 33}, {3, 7, 33}, {3, 7, 33}},  // no broadcast
      {{2, 1, 5, 9}, {}, {1}},               // HF mask: condition against two scalars
      {{2, 1, 1, 9}, {1, 4, 1, 1}, {5, 9}},  // every operand broadcast somewhere
      {{4, 1}, {1, 300}, {4, 300}},          // broadcast along the inner dim
      {{}, {}, {}},                          // rank 0
      {{8, 1, 64, 128}, {}, {1}},            // large enough to split over threads
  };
  return cases;
}

TEST(CpuWhere, BroadcastingAndDtypesMatchReference) {
  uint32_t salt = 1;
  for (DType dtype : {DType::kFloat32, DType::kInt64, DType::kInt32, DType::kBool})
    for (const BroadcastShapes& s : broadcast_cases()) {
      OpCase c;
      c.op = OpKind::Where;
      c.inputs = {random_of(DType::kBool, s.a, salt), random_of(dtype, s.b, salt + 1), random_of(dtype, s.c, salt + 2)};
      salt += 3;
      expect_matches_reference(c, kExact,
                               "Where " + std::string(dtype_name(dtype)) + " " + s.a.to_string() + s.b.to_string() +
                                   s.c.to_string());
    }
}

TEST(CpuLogical, AndOrXorBroadcastMatchReference) {
  uint32_t salt = 1;
  for (OpKind op : {OpKind::And, OpKind::Or, OpKind::Xor})
    for (const BroadcastShapes& s : broadcast_cases()) {
      OpCase c;
      c.op = op;
      c.inputs = {random_of(DType::kBool, s.a, salt), random_of(DType::kBool, s.c, salt + 1)};
      salt += 2;
      expect_matches_reference(c, kExact, std::string(op_kind_name(op)) + " " + s.a.to_string() + s.c.to_string());
    }
}

TEST(CpuIsNan, MatchesReference) {
  Tensor x = random_tensor(Shape{3, 1000}, 1);
  for (int64_t i = 0; i < x.numel(); i += 7) x.data<float>()[i] = NAN;
  x.data<float>()[1] = INFINITY;
  OpCase c;
  c.op = OpKind::IsNaN;
  c.inputs = {x};
  expect_matches_reference(c, kExact, "IsNaN");
}

TEST(CpuExpand, BroadcastsEveryDtypeLikeReference) {
  struct ExpandCase {
    Shape in;
    std::vector<int64_t> target;
  };
  uint32_t salt = 1;
  for (DType dtype : {DType::kFloat32, DType::kInt64, DType::kBool})
    for (const ExpandCase& e : std::vector<ExpandCase>{{{1, 16}, {2, 16}},          // token-type ids
                                                       {{2, 1, 1, 16}, {2, 1, 16, 16}},  // padding mask
                                                       {{3, 1}, {2, 3, 70}},        // rank grows, inner broadcast
                                                       {{5}, {1}},                  // target smaller than input
                                                       {{2, 1, 1, 128}, {2, 1, 128, 128}},  // split over threads
                                                       {{}, {4, 4}}}) {
      OpCase c;
      c.op = OpKind::Expand;
      c.inputs = {random_of(dtype, e.in, salt++), int64_tensor(Shape{static_cast<int64_t>(e.target.size())}, e.target)};
      c.constant_inputs = {1};
      expect_matches_reference(c, kExact, "Expand " + std::string(dtype_name(dtype)) + " " + e.in.to_string());
    }
}

TEST(CpuSlice, ConstantParametersMatchReference) {
  struct SliceCase {
    Shape in;
    std::vector<int64_t> starts, ends, axes, steps;  // empty axes/steps: input absent
  };
  uint32_t salt = 1;
  const std::vector<SliceCase> cases = {
      {{2, 1, 16, 16}, {0}, {1}, {2}, {}},                      // attention-mask-rows' one row
      {{1, 512}, {0}, {16}, {1}, {1}},                          // position ids of a short sequence
      {{4, 10, 6}, {1, -1}, {3, -100}, {0, 2}, {1, -2}},        // negative step and clamped end
      {{5, 9}, {-3, 1}, {100, 8}, {-2, -1}, {2, 3}},            // negative axes, clamped start
      {{6, 7}, {2}, {2}, {0}, {}},                              // empty result
  };
  for (DType dtype : {DType::kFloat32, DType::kInt64, DType::kBool})
    for (const SliceCase& s : cases) {
      OpCase c;
      c.op = OpKind::Slice;
      const auto n = static_cast<int64_t>(s.starts.size());
      c.inputs = {random_of(dtype, s.in, salt++), int64_tensor(Shape{n}, s.starts), int64_tensor(Shape{n}, s.ends)};
      c.constant_inputs = {1, 2, 3, 4};
      if (!s.axes.empty()) c.inputs.push_back(int64_tensor(Shape{n}, s.axes));
      if (!s.steps.empty()) c.inputs.push_back(int64_tensor(Shape{n}, s.steps));
      expect_matches_reference(c, kExact, "Slice " + std::string(dtype_name(dtype)) + " " + s.in.to_string());
    }
}

TEST(CpuSlice, RuntimeParametersGoElsewhere) {
  OpCase c;
  c.op = OpKind::Slice;
  c.inputs = {random_tensor(Shape{4, 4}, 1), int64_tensor(Shape{1}, {1}), int64_tensor(Shape{1}, {3})};
  const std::vector<Tensor> expected = run_reference(c);
  EXPECT_FALSE(run_cpu(c, expected).ok()) << "starts/ends that are not build-time constants are not planned";
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
