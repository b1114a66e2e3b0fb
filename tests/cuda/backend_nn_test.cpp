// Softmax, LayerNormalization, Conv and pooling through the CudaBackend vs the reference, on
// BERT-large and ResNet-50 shapes, in every float dtype; Conv over every cuDNN tactic offered.
#include <gtest/gtest.h>

#include "backend_test_util.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

TEST(CudaBackendNN, SoftmaxLastAxisMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 0;
  for (const Shape& shape : {Shape{2, 16, 384, 384}, Shape{3, 7, 1000}, Shape{5, 4099}}) {
    for (DType dtype : kDTypes) {
      OpCase c;
      c.op = OpKind::Softmax;
      c.attrs.set("axis", int64_t{-1});
      c.inputs.push_back(float_input(dtype, shape, -8, 8, ++salt));
      expect_case_matches(c, "Softmax " + shape.to_string() + " " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendNN, LayerNormalizationMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 100;
  for (const Shape& shape : {Shape{2, 384, 1024}, Shape{4, 128, 768}, Shape{37, 33}}) {
    for (DType dtype : kDTypes) {
      for (bool with_bias : {true, false}) {
        const int64_t cols = shape[shape.rank() - 1];
        OpCase c;
        c.op = OpKind::LayerNormalization;
        c.attrs.set("axis", int64_t{-1});
        c.attrs.set("epsilon", 1e-12f);
        c.inputs.push_back(float_input(dtype, shape, 1, 5, ++salt));
        c.inputs.push_back(float_input(dtype, Shape{cols}, 0.5f, 1.5f, ++salt, true));
        if (with_bias) c.inputs.push_back(float_input(dtype, Shape{cols}, -0.5f, 0.5f, ++salt, true));
        expect_case_matches(c, "LayerNorm " + shape.to_string() + (with_bias ? " bias " : " ") + std::string(dtype_name(dtype)));
      }
    }
  }
}

struct ConvCase {
  const char* name;
  Shape x, w;
  int64_t stride, pad, group;
};

// ResNet-50's distinct conv kinds (batch 2 keeps the reference fast), plus a grouped one.
const ConvCase kConvCases[] = {
    {"stem 7x7/2", Shape{1, 3, 224, 224}, Shape{64, 3, 7, 7}, 2, 3, 1},
    {"3x3 56x56", Shape{2, 64, 56, 56}, Shape{64, 64, 3, 3}, 1, 1, 1},
    {"1x1 expand", Shape{2, 64, 56, 56}, Shape{256, 64, 1, 1}, 1, 0, 1},
    {"3x3/2 28x28", Shape{2, 128, 56, 56}, Shape{128, 128, 3, 3}, 2, 1, 1},
    {"1x1 7x7", Shape{2, 2048, 7, 7}, Shape{512, 2048, 1, 1}, 1, 0, 1},
    {"grouped 3x3", Shape{2, 32, 17, 19}, Shape{64, 8, 3, 3}, 1, 1, 4},
};

Attributes conv_attrs(const ConvCase& cc) {
  Attributes a;
  a.set("strides", std::vector<int64_t>{cc.stride, cc.stride});
  a.set("pads", std::vector<int64_t>{cc.pad, cc.pad, cc.pad, cc.pad});
  a.set("group", cc.group);
  return a;
}

TEST(CudaBackendNN, ConvMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 200;
  for (const ConvCase& cc : kConvCases) {
    for (DType dtype : kDTypes) {
      OpCase c;
      c.op = OpKind::Conv;
      c.attrs = conv_attrs(cc);
      c.inputs.push_back(float_input(dtype, cc.x, -1, 1, ++salt));
      c.inputs.push_back(float_input(dtype, cc.w, -0.2f, 0.2f, ++salt, true));
      c.inputs.push_back(float_input(dtype, Shape{cc.w[0]}, -1, 1, ++salt, true));
      expect_case_matches(c, std::string("Conv ") + cc.name + " " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendNN, ConvEveryTacticMatchesReference) {
  KILN_REQUIRE_GPU();
  const CudaBackend* backend = test_backend();
  ASSERT_NE(backend, nullptr);
  uint32_t salt = 300;
  // Small enough that the reference runs fast once per tactic.
  const ConvCase cc{"3x3 28x28", Shape{2, 32, 28, 28}, Shape{48, 32, 3, 3}, 1, 1, 1};
  for (DType dtype : kDTypes) {
    OpCase c;
    c.op = OpKind::Conv;
    c.attrs = conv_attrs(cc);
    c.inputs.push_back(float_input(dtype, cc.x, -1, 1, ++salt));
    c.inputs.push_back(float_input(dtype, cc.w, -0.2f, 0.2f, ++salt, true));
    backends::NodeDesc node;
    node.op = OpKind::Conv;
    node.attributes = &c.attrs;
    node.inputs = {{dtype, cc.x}, {dtype, cc.w}};
    node.outputs = {{dtype, Shape{cc.x[0], cc.w[0], cc.x[2], cc.x[3]}}};
    const std::vector<backends::Tactic> tactics = backend->tactics(node);
    ASSERT_FALSE(tactics.empty());
    for (const backends::Tactic& t : tactics) {
      c.tactic = t.id;
      expect_case_matches(c, "Conv 3x3 tactic " + t.name + " " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendNN, PoolsMatchReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 400;
  for (DType dtype : kDTypes) {
    {
      OpCase c;  // ResNet-50's stem pool
      c.op = OpKind::MaxPool;
      c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
      c.attrs.set("strides", std::vector<int64_t>{2, 2});
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.inputs.push_back(float_input(dtype, Shape{2, 64, 112, 112}, -3, 3, ++salt));
      expect_case_matches(c, "MaxPool 3x3/2 " + std::string(dtype_name(dtype)));
    }
    for (int64_t include_pad : {0, 1}) {
      OpCase c;
      c.op = OpKind::AveragePool;
      c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
      c.attrs.set("strides", std::vector<int64_t>{1, 1});
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.attrs.set("count_include_pad", include_pad);
      c.inputs.push_back(float_input(dtype, Shape{2, 16, 15, 17}, -3, 3, ++salt));
      expect_case_matches(c, "AveragePool 3x3 include_pad=" + std::to_string(include_pad) + " " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;
      c.op = OpKind::GlobalAveragePool;
      c.inputs.push_back(float_input(dtype, Shape{4, 2048, 7, 7}, -3, 3, ++salt));
      expect_case_matches(c, "GlobalAveragePool 2048x7x7 " + std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendNN, MatMulAndGemmMatchReference) {
  KILN_REQUIRE_GPU();
  struct MatmulCase {
    const char* name;
    Shape a, b;
    bool b_constant;
  };
  const MatmulCase cases[] = {
      {"BERT-large QKV", Shape{1, 128, 1024}, Shape{1024, 3072}, true},
      {"BERT-large FFN2", Shape{64, 4096}, Shape{4096, 1024}, true},
      {"attention scores", Shape{2, 16, 128, 64}, Shape{2, 16, 64, 128}, false},
      {"broadcast A", Shape{33, 17}, Shape{3, 17, 45}, false},
      {"odd", Shape{3, 5, 7}, Shape{7, 9}, false},
  };
  uint32_t salt = 500;
  for (const MatmulCase& mc : cases) {
    for (DType dtype : kDTypes) {
      OpCase c;
      c.op = OpKind::MatMul;
      c.inputs.push_back(float_input(dtype, mc.a, -1, 1, ++salt));
      c.inputs.push_back(float_input(dtype, mc.b, -1, 1, ++salt, mc.b_constant));
      expect_case_matches(c, std::string("MatMul ") + mc.name + " " + std::string(dtype_name(dtype)));
    }
  }
  for (DType dtype : kDTypes) {
    for (bool bias_constant : {true, false}) {
      OpCase c;
      c.op = OpKind::Gemm;
      c.attrs.set("transB", int64_t{1});
      c.inputs.push_back(float_input(dtype, Shape{32, 2048}, -1, 1, ++salt));
      c.inputs.push_back(float_input(dtype, Shape{1000, 2048}, -0.1f, 0.1f, ++salt, true));
      c.inputs.push_back(float_input(dtype, Shape{1000}, -1, 1, ++salt, bias_constant));
      expect_case_matches(c, std::string("Gemm ResNet fc transB bias ") + (bias_constant ? "constant " : "runtime ") +
                                 std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendNN, MatMulEveryTacticMatchesReference) {
  KILN_REQUIRE_GPU();
  const CudaBackend* backend = test_backend();
  ASSERT_NE(backend, nullptr);
  uint32_t salt = 600;
  for (DType dtype : kDTypes) {
    OpCase c;
    c.op = OpKind::MatMul;
    c.inputs.push_back(float_input(dtype, Shape{256, 512}, -1, 1, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{512, 384}, -1, 1, ++salt, true));
    backends::NodeDesc node;
    node.op = OpKind::MatMul;
    node.attributes = &c.attrs;
    node.inputs = {{dtype, Shape{256, 512}}, {dtype, Shape{512, 384}}};
    node.outputs = {{dtype, Shape{256, 384}}};
    const std::vector<backends::Tactic> tactics = backend->tactics(node);
    ASSERT_FALSE(tactics.empty());
    for (const backends::Tactic& t : tactics) {
      c.tactic = t.id;
      expect_case_matches(c, "MatMul 256x512x384 " + t.name + " " + std::string(dtype_name(dtype)));
    }
  }
}

}  // namespace
}  // namespace kiln::cuda
