#include "serving/scheduler/batch_tensors.h"

#include <gtest/gtest.h>

#include <random>

namespace kiln::serving {
namespace {

Tensor random_rows(std::mt19937& rng, int64_t rows, int64_t features) {
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> values(static_cast<size_t>(rows * features));
  for (float& v : values) v = dist(rng);
  return Tensor::from_vector(DType::kFloat32, Shape{rows, features}, values);
}

void expect_joined(const Tensor& joined, const std::vector<const Tensor*>& parts) {
  const float* out = joined.data<float>();
  int64_t offset = 0;
  for (const Tensor* part : parts) {
    for (int64_t i = 0; i < part->numel(); ++i) ASSERT_EQ(out[offset + i], part->data<float>()[i]) << "element " << offset + i;
    offset += part->numel();
  }
  EXPECT_EQ(offset, joined.numel());
}

TEST(ConcatBatch, JoinsRowsInOrder) {
  std::mt19937 rng(7);
  Tensor a = random_rows(rng, 2, 5), b = random_rows(rng, 3, 5);
  Result<Tensor> joined = concat_batch({&a, &b});
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  EXPECT_EQ(joined->shape(), (Shape{5, 5}));
  expect_joined(*joined, {&a, &b});
}

TEST(ConcatBatch, ReusesTheWorkersBufferForTheSameShape) {
  std::mt19937 rng(11);
  Tensor buffer;
  Tensor a = random_rows(rng, 2, 4), b = random_rows(rng, 2, 4);
  Result<Tensor> first = concat_batch({&a, &b}, &buffer);
  ASSERT_TRUE(first.ok());
  const void* storage = first->raw_data();
  EXPECT_EQ(buffer.raw_data(), storage);

  // A second batch of the same shape lands in the same storage, with the new rows.
  Tensor c = random_rows(rng, 1, 4), d = random_rows(rng, 3, 4);
  Result<Tensor> second = concat_batch({&c, &d}, &buffer);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->raw_data(), storage);
  expect_joined(*second, {&c, &d});

  // A larger batch gets its own buffer, which the worker keeps from then on.
  Tensor e = random_rows(rng, 4, 4);
  Result<Tensor> third = concat_batch({&c, &e}, &buffer);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->raw_data(), storage);
  EXPECT_EQ(buffer.raw_data(), third->raw_data());
  EXPECT_EQ(buffer.shape(), (Shape{5, 4}));
  expect_joined(*third, {&c, &e});

  // A smaller batch is a view of the first rows of the larger buffer.
  Tensor f = random_rows(rng, 1, 4), g = random_rows(rng, 2, 4);
  Result<Tensor> fourth = concat_batch({&f, &g}, &buffer);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->raw_data(), third->raw_data());
  EXPECT_EQ(fourth->shape(), (Shape{3, 4}));
  EXPECT_EQ(buffer.shape(), (Shape{5, 4})) << "the buffer keeps its capacity";
  expect_joined(*fourth, {&f, &g});

  // Other trailing dims cannot use it.
  Tensor h = random_rows(rng, 2, 3);
  Result<Tensor> fifth = concat_batch({&h}, &buffer);
  ASSERT_TRUE(fifth.ok());
  EXPECT_EQ(fifth->shape(), (Shape{2, 3}));
  EXPECT_EQ(buffer.shape(), (Shape{2, 3}));
  expect_joined(*fifth, {&h});
}

TEST(ConcatBatch, DoesNotReuseABufferOfAnotherDtype) {
  std::mt19937 rng(3);
  Tensor buffer = Tensor(DType::kInt32, Shape{4, 4});
  const void* storage = buffer.raw_data();
  Tensor a = random_rows(rng, 2, 4), b = random_rows(rng, 2, 4);
  Result<Tensor> joined = concat_batch({&a, &b}, &buffer);
  ASSERT_TRUE(joined.ok());
  EXPECT_NE(joined->raw_data(), storage);
  EXPECT_EQ(joined->dtype(), DType::kFloat32);
  expect_joined(*joined, {&a, &b});
}

TEST(ConcatBatch, RefusesIncompatibleParts) {
  std::mt19937 rng(5);
  Tensor a = random_rows(rng, 2, 4), b = random_rows(rng, 2, 3);
  Tensor buffer;
  EXPECT_FALSE(concat_batch({&a, &b}, &buffer).ok());
  EXPECT_FALSE(concat_batch({}).ok());
}

}  // namespace
}  // namespace kiln::serving
