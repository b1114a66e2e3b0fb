// Data-movement ops through the CudaBackend vs the reference: Gather (embedding lookup),
// Transpose, Slice, Concat, Split, Cast, Where and the copies (Reshape, Identity).
#include <gtest/gtest.h>

#include <random>

#include "backend_test_util.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

CaseInput int_input(DType dtype, const Shape& shape, int64_t lo, int64_t hi, uint32_t salt, bool constant = false) {
  std::mt19937 rng(salt * 7919u + 13u);
  std::uniform_int_distribution<int64_t> dist(lo, hi - 1);
  CaseInput in;
  in.value = Tensor(dtype, shape);
  for (int64_t i = 0; i < shape.numel(); ++i) {
    const int64_t v = dist(rng);
    if (dtype == DType::kInt64) in.value.data<int64_t>()[i] = v;
    else in.value.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  in.constant = constant;
  return in;
}

CaseInput ints_constant(const std::vector<int64_t>& values) {
  CaseInput in;
  in.value = Tensor::from_vector(DType::kInt64, Shape{static_cast<int64_t>(values.size())}, values);
  in.constant = true;
  return in;
}

TEST(CudaBackendTensor, GatherMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 0;
  for (DType dtype : kDTypes) {
    for (DType index_dtype : {DType::kInt64, DType::kInt32}) {
      OpCase c;  // BERT word embeddings: [vocab, hidden], indices [batch, seq] incl. negative ones
      c.op = OpKind::Gather;
      c.inputs.push_back(float_input(dtype, Shape{30522, 1024}, -1, 1, ++salt, true));
      c.inputs.push_back(int_input(index_dtype, Shape{4, 384}, -30522, 30522, ++salt));
      expect_case_matches(c, "Gather embedding " + std::string(dtype_name(dtype)) + " " + std::string(dtype_name(index_dtype)));
    }
    OpCase c;  // inner axis, odd sizes (no wide units)
    c.op = OpKind::Gather;
    c.attrs.set("axis", int64_t{1});
    c.inputs.push_back(float_input(dtype, Shape{3, 11, 5}, -1, 1, ++salt));
    c.inputs.push_back(int_input(DType::kInt64, Shape{2, 7}, -11, 11, ++salt));
    expect_case_matches(c, "Gather axis 1 " + std::string(dtype_name(dtype)));
  }
}

TEST(CudaBackendTensor, TransposeMatchesReference) {
  KILN_REQUIRE_GPU();
  struct TransposeCase {
    Shape shape;
    std::vector<int64_t> perm;
  };
  const TransposeCase cases[] = {
      {Shape{4, 384, 16, 64}, {0, 2, 1, 3}},  // BERT heads split
      {Shape{4, 16, 384, 64}, {0, 1, 3, 2}},  // K^T
      {Shape{2, 64, 56, 56}, {0, 2, 3, 1}},   // NCHW -> NHWC
      {Shape{2, 3, 4, 5, 6, 7}, {5, 3, 1, 0, 4, 2}},
      {Shape{31, 17}, {}},
  };
  uint32_t salt = 100;
  for (const TransposeCase& t : cases) {
    for (DType dtype : kDTypes) {
      OpCase c;
      c.op = OpKind::Transpose;
      if (!t.perm.empty()) c.attrs.set("perm", t.perm);
      c.inputs.push_back(float_input(dtype, t.shape, -1, 1, ++salt));
      expect_case_matches(c, "Transpose " + t.shape.to_string() + " " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendTensor, SliceConcatSplitMatchReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 200;
  for (DType dtype : kDTypes) {
    {
      OpCase c;  // split a fused QKV projection along its last axis
      c.op = OpKind::Slice;
      c.inputs.push_back(float_input(dtype, Shape{2, 128, 3072}, -1, 1, ++salt));
      c.inputs.push_back(ints_constant({1024}));
      c.inputs.push_back(ints_constant({2048}));
      c.inputs.push_back(ints_constant({-1}));
      expect_case_matches(c, "Slice QKV middle third " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;  // negative step, clamped ends, two axes
      c.op = OpKind::Slice;
      c.inputs.push_back(float_input(dtype, Shape{6, 9, 5}, -1, 1, ++salt));
      c.inputs.push_back(ints_constant({-1, 1}));
      c.inputs.push_back(ints_constant({-100, 100}));
      c.inputs.push_back(ints_constant({1, 0}));
      c.inputs.push_back(ints_constant({-2, 2}));
      expect_case_matches(c, "Slice negative step " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;
      c.op = OpKind::Concat;
      c.attrs.set("axis", int64_t{1});
      c.inputs.push_back(float_input(dtype, Shape{2, 64, 28, 28}, -1, 1, ++salt));
      c.inputs.push_back(float_input(dtype, Shape{2, 32, 28, 28}, -1, 1, ++salt));
      c.inputs.push_back(float_input(dtype, Shape{2, 3, 28, 28}, -1, 1, ++salt));
      expect_case_matches(c, "Concat channels " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;
      c.op = OpKind::Concat;
      c.attrs.set("axis", int64_t{-1});
      c.inputs.push_back(float_input(dtype, Shape{3, 5, 7}, -1, 1, ++salt));
      c.inputs.push_back(float_input(dtype, Shape{3, 5, 1}, -1, 1, ++salt));
      expect_case_matches(c, "Concat last odd " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;
      c.op = OpKind::Split;
      c.attrs.set("axis", int64_t{-1});
      c.inputs.push_back(float_input(dtype, Shape{2, 128, 3072}, -1, 1, ++salt));
      c.inputs.push_back(ints_constant({1024, 1024, 1024}));
      c.output_storage = {dtype, dtype, dtype};
      expect_case_matches(c, "Split QKV " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendTensor, CastMatchesReference) {
  KILN_REQUIRE_GPU();
  const DType types[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt64, DType::kInt32};
  uint32_t salt = 300;
  for (DType from : types) {
    for (DType to : types) {
      OpCase c;
      c.op = OpKind::Cast;
      c.attrs.set("to", static_cast<int64_t>(to == DType::kFloat32   ? 1
                                             : to == DType::kFloat16 ? 10
                                             : to == DType::kBFloat16 ? 16
                                             : to == DType::kInt64   ? 7
                                                                     : 6));
      const bool from_int = from == DType::kInt64 || from == DType::kInt32;
      // Floats well inside every target's range; integers exactly representable in BF16.
      c.inputs.push_back(from_int ? int_input(from, Shape{4097}, -200, 200, ++salt) : float_input(from, Shape{4097}, -100, 100, ++salt));
      c.output_storage = {to};
      // Both sides convert the same stored values with the same rounding: exact.
      c.tolerance = -1.0;
      expect_case_matches(c, "Cast " + std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to)));
    }
  }
}

TEST(CudaBackendTensor, WhereAndCopiesMatchReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 400;
  for (DType dtype : kDTypes) {
    OpCase c;
    c.op = OpKind::Where;
    CaseInput cond;
    cond.value = Tensor(DType::kBool, Shape{4, 1, 1, 128});
    std::mt19937 rng(++salt);
    for (int64_t i = 0; i < cond.value.numel(); ++i) cond.value.data<bool>()[i] = (rng() & 1u) != 0;
    c.inputs.push_back(cond);
    c.inputs.push_back(float_input(dtype, Shape{4, 16, 128, 128}, -1, 1, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{1}, -10000, -9000, ++salt));
    c.output_storage = {dtype};
    expect_case_matches(c, "Where mask " + std::string(dtype_name(dtype)));

    OpCase r;
    r.op = OpKind::Reshape;
    r.inputs.push_back(float_input(dtype, Shape{4, 128, 1024}, -1, 1, ++salt));
    r.inputs.push_back(ints_constant({4, 128, 16, 64}));
    expect_case_matches(r, "Reshape " + std::string(dtype_name(dtype)));
  }
}

}  // namespace
}  // namespace kiln::cuda
