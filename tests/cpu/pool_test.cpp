// MaxPool, AveragePool and GlobalAveragePool on the CPU backend vs reference.
#include "cpu_test_util.h"

namespace kiln::backends::cpu::testing {
namespace {

OpCase pool_case(OpKind op, const Shape& x, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                 std::vector<int64_t> pads, int64_t ceil_mode, int64_t count_include_pad, uint32_t salt) {
  OpCase c;
  c.op = op;
  c.inputs = {random_tensor(x, salt)};
  c.attrs.set("kernel_shape", std::move(kernel));
  c.attrs.set("strides", std::move(strides));
  c.attrs.set("pads", std::move(pads));
  c.attrs.set("ceil_mode", ceil_mode);
  if (op == OpKind::AveragePool) c.attrs.set("count_include_pad", count_include_pad);
  return c;
}

TEST(CpuPool, MaxPoolMatchesReference) {
  expect_matches_reference(pool_case(OpKind::MaxPool, {2, 8, 17, 17}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 0, 1), kExact,
                           "MaxPool ResNet stem");
  expect_matches_reference(pool_case(OpKind::MaxPool, {1, 3, 10, 11}, {2, 3}, {2, 2}, {0, 0, 0, 0}, 1, 0, 2), kExact,
                           "MaxPool ceil_mode");
  expect_matches_reference(pool_case(OpKind::MaxPool, {1, 4, 15}, {4}, {3}, {1, 2}, 0, 0, 3), kExact, "MaxPool 1-D");
}

TEST(CpuPool, AveragePoolMatchesReference) {
  expect_matches_reference(pool_case(OpKind::AveragePool, {1, 6, 9, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 0, 4),
                           kElementwiseTolerance, "AveragePool exclude pad");
  expect_matches_reference(pool_case(OpKind::AveragePool, {2, 5, 8, 7}, {3, 2}, {1, 2}, {1, 0, 1, 1}, 0, 1, 5),
                           kElementwiseTolerance, "AveragePool include pad");
  expect_matches_reference(pool_case(OpKind::AveragePool, {1, 2, 10, 10}, {3, 3}, {2, 2}, {0, 0, 0, 0}, 1, 0, 6),
                           kElementwiseTolerance, "AveragePool ceil_mode");
}

TEST(CpuPool, GlobalAveragePoolMatchesReference) {
  for (const Shape& s : {Shape{2, 64, 7, 7}, Shape{1, 3, 5, 9}, Shape{3, 4, 11}}) {
    OpCase c;
    c.op = OpKind::GlobalAveragePool;
    c.inputs = {random_tensor(s, 7)};
    expect_matches_reference(c, kReductionTolerance, "GlobalAveragePool " + s.to_string());
  }
}

}  // namespace
}  // namespace kiln::backends::cpu::testing

namespace kiln::backends::cpu::testing {
namespace {

TEST(CpuBatchNorm, InferenceMatchesReference) {
  for (const Shape& s : {Shape{2, 16, 7, 9}, Shape{1, 5, 33}}) {
    const Shape c{s[1]};
    OpCase bn;
    bn.op = OpKind::BatchNormalization;
    bn.inputs = {random_tensor(s, 1), random_tensor(c, 2), random_tensor(c, 3), random_tensor(c, 4),
                 random_tensor(c, 5, 0.1f, 2.0f)};
    bn.constant_inputs = {1, 2, 3, 4};
    bn.attrs.set("epsilon", 1e-3f);
    expect_matches_reference(bn, kElementwiseTolerance, "BatchNormalization " + s.to_string());
  }
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
