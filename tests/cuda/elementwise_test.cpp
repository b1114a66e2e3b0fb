// Elementwise CUDA kernels vs the reference backend, every float storage dtype.
#include <gtest/gtest.h>

#include "backends/cuda/kernels/elementwise.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

struct UnaryCase {
  UnaryOp op;
  OpKind reference_op;
  const char* approximate;  // Gelu's attribute; nullptr for other ops
};

constexpr UnaryCase kUnaryCases[] = {
    {UnaryOp::kRelu, OpKind::Relu, nullptr},         {UnaryOp::kSigmoid, OpKind::Sigmoid, nullptr},
    {UnaryOp::kTanh, OpKind::Tanh, nullptr},         {UnaryOp::kGeluErf, OpKind::Gelu, "none"},
    {UnaryOp::kGeluTanh, OpKind::Gelu, "tanh"},      {UnaryOp::kHardSwish, OpKind::HardSwish, nullptr},
};

TEST(CudaElementwise, UnaryActivationsMatchReference) {
  KILN_REQUIRE_GPU();
  constexpr int64_t kCount = 100003;  // not a multiple of any block size
  constexpr float kRange = 6.0f;      // covers the saturating ends of sigmoid, tanh, hardswish
  uint32_t salt = 0;
  for (const UnaryCase& c : kUnaryCases) {
    for (DType dtype : kDTypes) {
      SCOPED_TRACE(std::string(op_kind_name(c.reference_op)) + (c.approximate ? std::string(" ") + c.approximate : "") +
                   " " + std::string(dtype_name(dtype)));
      const std::vector<float> x = random_values(dtype, kCount, -kRange, kRange, ++salt);
      DeviceBuffer x_dev = upload(dtype, x);
      auto y_dev = DeviceBuffer::allocate(x_dev.size());
      ASSERT_TRUE(y_dev.ok());
      ASSERT_TRUE(unary_elementwise(c.op, dtype, x_dev.data(), y_dev->data(), kCount, nullptr).ok());
      Attributes attrs;
      if (c.approximate != nullptr) attrs.set("approximate", std::string(c.approximate));
      const Tensor x_ref = float_tensor(Shape{kCount}, x);
      const std::vector<float> ref = tensor_values(run_reference(c.reference_op, {&x_ref}, attrs));
      expect_within(max_relative_error(download(dtype, *y_dev, kCount), ref), tolerance_for(dtype),
                    std::string(op_kind_name(c.reference_op)) + (c.approximate ? std::string("(") + c.approximate + ")" : "") +
                        " " + std::string(dtype_name(dtype)));
    }
  }
}

struct BinaryCase {
  BinaryOp op;
  OpKind reference_op;
};
constexpr BinaryCase kBinaryCases[] = {
    {BinaryOp::kAdd, OpKind::Add}, {BinaryOp::kSub, OpKind::Sub}, {BinaryOp::kMul, OpKind::Mul}, {BinaryOp::kDiv, OpKind::Div}};

struct ShapePair {
  Shape a;
  Shape b;
};

TEST(CudaElementwise, BinaryBroadcastMatchesReference) {
  KILN_REQUIRE_GPU();
  const ShapePair shapes[] = {
      {Shape{7, 33, 65}, Shape{7, 33, 65}},  // same shape: flat path
      {Shape{7, 33, 65}, Shape{65}},         // bias along the last axis
      {Shape{4, 1, 9, 5}, Shape{3, 1, 5}},   // both sides broadcast
      {Shape{2, 3, 4}, Shape{}},             // scalar
  };
  uint32_t salt = 100;
  for (const BinaryCase& c : kBinaryCases) {
    for (const ShapePair& s : shapes) {
      for (DType dtype : kDTypes) {
        SCOPED_TRACE(std::string(op_kind_name(c.reference_op)) + " " + s.a.to_string() + " " + s.b.to_string() + " " +
                     std::string(dtype_name(dtype)));
        const std::vector<float> a = random_values(dtype, s.a.numel(), -3.0f, 3.0f, ++salt);
        // Divisors kept away from zero so the quotient is well conditioned.
        const std::vector<float> b = c.op == BinaryOp::kDiv ? random_values(dtype, s.b.numel(), 0.5f, 3.0f, ++salt)
                                                             : random_values(dtype, s.b.numel(), -3.0f, 3.0f, ++salt);
        const Tensor a_ref = float_tensor(s.a, a), b_ref = float_tensor(s.b, b);
        const Tensor ref = run_reference(c.reference_op, {&a_ref, &b_ref});
        DeviceBuffer a_dev = upload(dtype, a), b_dev = upload(dtype, b);
        auto out_dev = DeviceBuffer::allocate(static_cast<size_t>(ref.numel()) * dtype_size(dtype));
        ASSERT_TRUE(out_dev.ok());
        const Status status = binary_broadcast(c.op, dtype, a_dev.data(), s.a, b_dev.data(), s.b, out_dev->data(), ref.shape(), nullptr);
        ASSERT_TRUE(status.ok()) << status.to_string();
        expect_within(max_relative_error(download(dtype, *out_dev, ref.numel()), tensor_values(ref)), tolerance_for(dtype),
                      std::string(op_kind_name(c.reference_op)) + " " + s.a.to_string() + "," + s.b.to_string() + " " +
                          std::string(dtype_name(dtype)));
      }
    }
  }
}

TEST(CudaElementwise, RejectsWrongOutputShapeAndDType) {
  KILN_REQUIRE_GPU();
  const Status wrong_shape = binary_broadcast(BinaryOp::kAdd, DType::kFloat32, nullptr, Shape{2, 3}, nullptr, Shape{3}, nullptr,
                                              Shape{3, 2}, nullptr);
  EXPECT_EQ(wrong_shape.code(), StatusCode::kInvalidArgument);
  const Status wrong_dtype = unary_elementwise(UnaryOp::kRelu, DType::kInt32, nullptr, nullptr, 4, nullptr);
  EXPECT_EQ(wrong_dtype.code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace kiln::cuda
