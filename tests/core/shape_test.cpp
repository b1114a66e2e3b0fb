#include <gtest/gtest.h>

#include "core/attributes.h"
#include "core/broadcast.h"
#include "kiln/shape.h"
#include "kiln/tensor.h"

namespace kiln {
namespace {

TEST(Shape, ParseAndPrint) {
  auto s = Shape::parse("1x3x224x224");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->rank(), 4u);
  EXPECT_EQ(s->numel(), 3 * 224 * 224);
  EXPECT_EQ(s->to_string(), "1x3x224x224");
  EXPECT_FALSE(Shape::parse("1xx3").has_value());
  EXPECT_FALSE(Shape::parse("1x-3").has_value());
  EXPECT_EQ(Shape({kDynamicDim, 128}).to_string(), "?x128");
}

TEST(Broadcast, NumpyRules) {
  auto r = broadcast_shapes(Shape{8, 1, 6, 1}, Shape{7, 1, 5});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Shape{8, 7, 6, 5}));
  auto bad = broadcast_shapes(Shape{3}, Shape{4});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("3"), std::string::npos);
  EXPECT_EQ(broadcast_strides(Shape{3, 1}, Shape{2, 3, 4}), (std::vector<int64_t>{0, 1, 0}));
}

TEST(Tensor, ReshapeSharesAndCloneCopies) {
  Tensor t(DType::kFloat32, Shape{2, 3});
  t.data<float>()[5] = 7.0f;
  auto r = t.reshaped(Shape{3, 2});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->shares_buffer_with(t));
  Tensor c = t.clone();
  EXPECT_FALSE(c.shares_buffer_with(t));
  EXPECT_EQ(c.data<float>()[5], 7.0f);
  EXPECT_FALSE(t.reshaped(Shape{4}).ok());
}

TEST(Attributes, DefaultsAndRequired) {
  Attributes a;
  a.set("axis", int64_t{2});
  a.set("pads", std::vector<int64_t>{1, 1});
  EXPECT_EQ(a.get_int("axis", 0), 2);
  EXPECT_EQ(a.get_int("group", 1), 1);
  EXPECT_FALSE(a.require_float("alpha").ok());
  EXPECT_EQ(a.to_string(), "axis=2, pads=[1,1]");
  Attributes b = a;
  EXPECT_TRUE(a == b);
  b.set("axis", int64_t{3});
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace kiln
