// Softmax and LayerNormalization CUDA kernels vs the reference backend: row lengths on both
// sides of the warp-per-row limit, every float storage dtype, the fused residual add.
#include <gtest/gtest.h>

#include "backends/cuda/kernels/row_ops.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};
// 1 and 33: padding lanes; 384 and 1024: BERT; 1500 and 4099: block-per-row path.
constexpr int64_t kColumnCounts[] = {1, 33, 384, 1024, 1500, 4099};
constexpr int64_t kRows = 37;

TEST(CudaSoftmax, LastAxisMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 0;
  for (int64_t cols : kColumnCounts) {
    for (DType dtype : kDTypes) {
      SCOPED_TRACE("cols=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)));
      const int64_t n = kRows * cols;
      const std::vector<float> x = random_values(dtype, n, -8.0f, 8.0f, ++salt);
      DeviceBuffer x_dev = upload(dtype, x);
      auto y_dev = DeviceBuffer::allocate(x_dev.size());
      ASSERT_TRUE(y_dev.ok());
      const Status status = softmax_last_axis(dtype, x_dev.data(), y_dev->data(), kRows, cols, nullptr);
      ASSERT_TRUE(status.ok()) << status.to_string();
      const Tensor x_ref = float_tensor(Shape{kRows, cols}, x);
      const std::vector<float> ref = tensor_values(run_reference(OpKind::Softmax, {&x_ref}));
      expect_within(max_relative_error(download(dtype, *y_dev, n), ref), tolerance_for(dtype),
                    "Softmax cols=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaLayerNorm, LastAxisWithAndWithoutResidualMatchesReference) {
  KILN_REQUIRE_GPU();
  constexpr float kEpsilon = 1e-5f;
  uint32_t salt = 1000;
  for (int64_t cols : kColumnCounts) {
    for (DType dtype : kDTypes) {
      for (bool with_residual : {false, true}) {
        SCOPED_TRACE("cols=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)) +
                     (with_residual ? " residual" : ""));
        const int64_t n = kRows * cols;
        // An offset mean checks the two-pass variance (a one-pass E[x^2]-E[x]^2 loses digits).
        const std::vector<float> x = random_values(dtype, n, 2.0f, 6.0f, ++salt);
        const std::vector<float> r = random_values(dtype, n, -1.0f, 1.0f, ++salt);
        const std::vector<float> gamma = random_values(dtype, cols, 0.5f, 1.5f, ++salt);
        const std::vector<float> beta = random_values(dtype, cols, -0.5f, 0.5f, ++salt);
        DeviceBuffer x_dev = upload(dtype, x), r_dev = upload(dtype, r), g_dev = upload(dtype, gamma), b_dev = upload(dtype, beta);
        auto y_dev = DeviceBuffer::allocate(x_dev.size());
        auto sum_dev = DeviceBuffer::allocate(x_dev.size());
        ASSERT_TRUE(y_dev.ok() && sum_dev.ok());
        LayerNormArgs args;
        args.x = x_dev.data();
        args.residual = with_residual ? r_dev.data() : nullptr;
        args.gamma = g_dev.data();
        args.beta = b_dev.data();
        args.y = y_dev->data();
        args.sum_out = with_residual ? sum_dev->data() : nullptr;
        args.rows = kRows;
        args.cols = cols;
        args.epsilon = kEpsilon;
        const Status status = layer_norm_last_axis(dtype, args, nullptr);
        ASSERT_TRUE(status.ok()) << status.to_string();

        Tensor input = float_tensor(Shape{kRows, cols}, x);
        if (with_residual) {
          const Tensor r_ref = float_tensor(Shape{kRows, cols}, r);
          // The device stores the sum in the storage dtype before normalizing only in sum_out;
          // the normalization itself uses the float sum, like the reference on float inputs.
          input = run_reference(OpKind::Add, {&input, &r_ref});
          expect_within(max_relative_error(download(dtype, *sum_dev, n), tensor_values(input)), tolerance_for(dtype),
                        "LayerNorm residual sum cols=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)));
        }
        const Tensor g_ref = float_tensor(Shape{cols}, gamma), b_ref = float_tensor(Shape{cols}, beta);
        Attributes attrs;
        attrs.set("epsilon", kEpsilon);
        const std::vector<float> ref = tensor_values(run_reference(OpKind::LayerNormalization, {&input, &g_ref, &b_ref}, attrs));
        expect_within(max_relative_error(download(dtype, *y_dev, n), ref), tolerance_for(dtype),
                      "LayerNorm cols=" + std::to_string(cols) + " " + std::string(dtype_name(dtype)) +
                          (with_residual ? " +residual" : ""));
      }
    }
  }
}

TEST(CudaRowOps, RejectBadArguments) {
  KILN_REQUIRE_GPU();
  EXPECT_EQ(softmax_last_axis(DType::kFloat32, nullptr, nullptr, -1, 4, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(softmax_last_axis(DType::kInt64, nullptr, nullptr, 1, 4, nullptr).code(), StatusCode::kUnimplemented);
  LayerNormArgs missing_gamma;
  missing_gamma.rows = 1;
  missing_gamma.cols = 4;
  EXPECT_EQ(layer_norm_last_axis(DType::kFloat32, missing_gamma, nullptr).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::cuda
