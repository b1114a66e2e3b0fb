// ConvTranspose: hand-computed cases, output_shape / auto_pad shapes, and the adjoint identity
// <Conv(x), y> == <x, ConvTranspose(y)> with matching attributes on random data.
#include <gtest/gtest.h>

#include "nn_test_helpers.h"

namespace kiln::testing {
namespace {

TEST(ConvTransposeHand, ScattersEveryInputThroughTheKernel) {
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 2, 2}, {1, 1, 1, 1});
  auto r = run_op({OpKind::ConvTranspose, {x, w}, {}, 1, {1}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{1, 3, 2, 4, 10, 6, 3, 7, 4}));
}

TEST(ConvTransposeHand, StrideSpreadsAndBiasAdds) {
  // 1-D, stride 2, kernel [1, 10], bias 0.5: x[i] lands at 2i (x1) and 2i+1 (x10).
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 3}, {1, 2, 3});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 2}, {1, 10});
  Tensor b = make_tensor(DType::kFloat32, Shape{1}, {0.5});
  Attributes attrs;
  attrs.set("strides", std::vector<int64_t>{2});
  auto r = run_op({OpKind::ConvTranspose, {x, w, b}, attrs, 1, {1, 2}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{1.5, 10.5, 2.5, 20.5, 3.5, 30.5}));
}

TEST(ConvTransposeShapes, OutputShapeAutoPadAndOutputPadding) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 4, 5, 6}, 11);
  Tensor w = random_tensor(DType::kFloat32, Shape{4, 3, 3, 3}, 12);
  struct Case {
    Attributes attrs;
    Shape expected;
  };
  std::vector<Case> cases(4);
  cases[0].attrs.set("strides", std::vector<int64_t>{2, 2});
  cases[0].expected = Shape{2, 3, 11, 13};  // 2 * (in - 1) + 3
  cases[1].attrs.set("strides", std::vector<int64_t>{2, 2});
  cases[1].attrs.set("output_padding", std::vector<int64_t>{1, 0});
  cases[1].attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  cases[1].expected = Shape{2, 3, 10, 11};
  cases[2].attrs.set("strides", std::vector<int64_t>{2, 2});
  cases[2].attrs.set("auto_pad", std::string("SAME_UPPER"));
  cases[2].expected = Shape{2, 3, 10, 12};  // in * stride
  cases[3].attrs.set("strides", std::vector<int64_t>{2, 2});
  cases[3].attrs.set("output_shape", std::vector<int64_t>{10, 12});
  cases[3].expected = Shape{2, 3, 10, 12};
  for (const Case& c : cases) {
    auto r = run_op({OpKind::ConvTranspose, {x, w}, c.attrs, 1, {1}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ((*r)[0].shape(), c.expected) << c.attrs.to_string();
  }
  // group 2: output channels = W[1] * group.
  Attributes grouped;
  grouped.set("group", int64_t{2});
  auto r = run_op({OpKind::ConvTranspose, {x, random_tensor(DType::kFloat32, Shape{4, 3, 2, 2}, 13)}, grouped, 1, {1}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 6, 6, 7}));
}

TEST(ConvTransposeShapes, OutputShapeBeyondTheWindowExtendsTheOutput) {
  // 1-D, stride 3, kernel [1, 10], bias 0.5: x[i] lands at 3i (x1) and 3i+1 (x10); the window
  // covers 8 positions, output_shape asks for 9 (total padding -1). ONNX splits it with floor
  // division, so the output grows at the end and the extra position holds only the bias.
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 3}, {1, 2, 3});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 2}, {1, 10});
  Tensor b = make_tensor(DType::kFloat32, Shape{1}, {0.5});
  Attributes attrs;
  attrs.set("strides", std::vector<int64_t>{3});
  attrs.set("output_shape", std::vector<int64_t>{9});
  auto r = run_op({OpKind::ConvTranspose, {x, w, b}, attrs, 1, {1}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 9}));
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{1.5, 10.5, 0.5, 2.5, 20.5, 0.5, 3.5, 30.5, 0.5}));
}

TEST(ConvTransposeShapes, OutputShapeOneBeyondTheWindowMatchesOutputPadding) {
  // One element more than the window covers, asked for through output_shape, goes at the end,
  // exactly like output_padding 1. (A larger excess is split between both ends.)
  Tensor x = random_tensor(DType::kFloat64, Shape{2, 3, 4, 5}, 21);
  Tensor w = random_tensor(DType::kFloat64, Shape{3, 2, 3, 2}, 22);
  Attributes padded;
  padded.set("strides", std::vector<int64_t>{3, 4});
  padded.set("output_padding", std::vector<int64_t>{1, 1});
  Attributes shaped;
  shaped.set("strides", std::vector<int64_t>{3, 4});
  shaped.set("output_shape", std::vector<int64_t>{3 * 3 + 3 + 1, 4 * 4 + 2 + 1});
  auto by_padding = run_op({OpKind::ConvTranspose, {x, w}, padded, 1, {1}});
  auto by_shape = run_op({OpKind::ConvTranspose, {x, w}, shaped, 1, {1}});
  ASSERT_TRUE(by_padding.ok()) << by_padding.status().to_string();
  ASSERT_TRUE(by_shape.ok()) << by_shape.status().to_string();
  EXPECT_EQ((*by_shape)[0].shape(), (Shape{2, 2, 13, 19}));
  EXPECT_EQ((*by_shape)[0].shape(), (*by_padding)[0].shape());
  EXPECT_EQ(values_of((*by_shape)[0]), values_of((*by_padding)[0]));
}

struct AdjointCase {
  std::string name;
  std::vector<int64_t> x_shape;
  int64_t out_channels;
  std::vector<int64_t> kernel;
  int64_t group;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;
};

class ConvTransposeAdjoint : public ::testing::TestWithParam<AdjointCase> {};

TEST_P(ConvTransposeAdjoint, IsTheAdjointOfConv) {
  const AdjointCase& c = GetParam();
  const uint64_t seed = std::hash<std::string>{}(c.name);
  const size_t spatial = c.kernel.size();
  std::vector<int64_t> w_dims = {c.out_channels, c.x_shape[1] / c.group};
  w_dims.insert(w_dims.end(), c.kernel.begin(), c.kernel.end());
  Tensor x = random_tensor(DType::kFloat64, Shape(c.x_shape), seed);
  Tensor w = random_tensor(DType::kFloat64, Shape(w_dims), seed + 1);
  Attributes attrs;
  attrs.set("group", c.group);
  attrs.set("strides", c.strides);
  attrs.set("dilations", c.dilations);
  attrs.set("pads", c.pads);
  auto conv = run_op({OpKind::Conv, {x, w}, attrs, 1, {1}});
  ASSERT_TRUE(conv.ok()) << conv.status().to_string();
  const Shape y_shape = (*conv)[0].shape();
  Tensor y = random_tensor(DType::kFloat64, y_shape, seed + 2);
  // output_padding restores the input size that stride rounding lost.
  std::vector<int64_t> output_padding;
  for (size_t a = 0; a < spatial; ++a) {
    const int64_t covered = c.strides[a] * (y_shape[a + 2] - 1) + (c.kernel[a] - 1) * c.dilations[a] + 1 -
                            c.pads[a] - c.pads[a + spatial];
    output_padding.push_back(c.x_shape[a + 2] - covered);
  }
  Attributes t_attrs = attrs;
  t_attrs.set("output_padding", output_padding);
  auto transposed = run_op({OpKind::ConvTranspose, {y, w}, t_attrs, 1, {1}});
  ASSERT_TRUE(transposed.ok()) << transposed.status().to_string();
  ASSERT_EQ((*transposed)[0].shape(), x.shape());
  const double lhs = nn::dot((*conv)[0], y), rhs = nn::dot(x, (*transposed)[0]);
  EXPECT_NEAR(lhs, rhs, 1e-9 * std::max(1.0, std::fabs(lhs)));
}

INSTANTIATE_TEST_SUITE_P(
    ConvTranspose, ConvTransposeAdjoint,
    ::testing::Values(AdjointCase{"plain_2d", {1, 3, 6, 5}, 4, {3, 3}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},
                      AdjointCase{"strided_padded_2d", {2, 2, 9, 8}, 3, {3, 2}, 1, {2, 3}, {1, 1}, {1, 0, 1, 1}},
                      AdjointCase{"dilated_2d", {1, 2, 9, 9}, 2, {3, 3}, 1, {2, 1}, {2, 2}, {2, 1, 0, 2}},
                      AdjointCase{"grouped_2d", {1, 6, 7, 7}, 9, {3, 3}, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}},
                      AdjointCase{"depthwise_1d", {2, 4, 12}, 4, {5}, 4, {3}, {1}, {2, 2}},
                      AdjointCase{"conv_3d", {1, 2, 5, 6, 4}, 3, {2, 3, 2}, 1, {2, 1, 2}, {1, 2, 1}, {1, 0, 0, 0, 1, 1}}),
    [](const ::testing::TestParamInfo<AdjointCase>& info) { return info.param.name; });

TEST(ConvTransposeErrors, BadInputsAreRejected) {
  Tensor x = random_tensor(DType::kFloat32, Shape{1, 3, 4, 4}, 1);
  // W's first dim must equal X's channels.
  EXPECT_FALSE(run_op({OpKind::ConvTranspose, {x, random_tensor(DType::kFloat32, Shape{2, 3, 3, 3}, 2)}, {}, 1, {1}}).ok());
  // Wrong weight rank.
  EXPECT_FALSE(run_op({OpKind::ConvTranspose, {x, random_tensor(DType::kFloat32, Shape{3, 3, 3}, 3)}, {}, 1, {1}}).ok());
  // Pads that remove the whole output.
  Attributes pads;
  pads.set("pads", std::vector<int64_t>{4, 4, 4, 4});
  EXPECT_FALSE(run_op({OpKind::ConvTranspose, {x, random_tensor(DType::kFloat32, Shape{3, 1, 3, 3}, 4)}, pads, 1, {1}}).ok());
}

}  // namespace
}  // namespace kiln::testing
