// channels_last FusedConv, MaxPool, AveragePool and GlobalAveragePool through the CudaBackend
// (cuDNN in NHWC) vs the reference kernel of the same channels_last op, on ResNet-50 shapes in
// every float dtype.
#include <gtest/gtest.h>

#include "backend_test_util.h"
#include "core/channels_last.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

struct ConvShape {
  const char* name;
  int64_t n, h, w, c, m, k, stride, pad;
};

// A bottleneck's 3x3, a strided 1x1 downsample and the 7x7/2 stem, all NHWC.
constexpr ConvShape kConvs[] = {
    {"3x3 64->128", 2, 28, 28, 64, 128, 3, 1, 1},
    {"1x1/2 256->512", 2, 56, 56, 256, 512, 1, 2, 0},
    {"stem 7x7/2 3->64", 2, 224, 224, 3, 64, 7, 2, 3},
};

TEST(CudaBackendChannelsLast, FusedConvMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 700;
  for (const ConvShape& s : kConvs) {
    const int64_t out_h = (s.h + 2 * s.pad - s.k) / s.stride + 1, out_w = (s.w + 2 * s.pad - s.k) / s.stride + 1;
    for (bool residual : {true, false}) {
      for (DType dtype : kDTypes) {
        OpCase c;
        c.op = OpKind::FusedConv;
        c.attrs.set(kChannelsLastAttr, int64_t{1});
        c.attrs.set("pads", std::vector<int64_t>{s.pad, s.pad, s.pad, s.pad});
        c.attrs.set("strides", std::vector<int64_t>{s.stride, s.stride});
        c.attrs.set("activation", std::string(residual ? "Relu" : ""));
        c.inputs.push_back(float_input(dtype, Shape{s.n, s.h, s.w, s.c}, -1, 1, ++salt));
        c.inputs.push_back(float_input(dtype, Shape{s.m, s.k, s.k, s.c}, -0.1f, 0.1f, ++salt, true));
        c.inputs.push_back(float_input(dtype, Shape{s.m}, -1, 1, ++salt, true));
        if (residual) c.inputs.push_back(float_input(dtype, Shape{s.n, out_h, out_w, s.m}, -1, 1, ++salt));
        expect_case_matches(c, std::string("channels_last FusedConv ") + s.name + (residual ? " +Z/relu " : " ") +
                                   std::string(dtype_name(dtype)));
      }
    }
  }
}

TEST(CudaBackendChannelsLast, PoolsMatchReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 800;
  for (DType dtype : kDTypes) {
    {
      OpCase c;  // ResNet-50's stem pool
      c.op = OpKind::MaxPool;
      c.attrs.set(kChannelsLastAttr, int64_t{1});
      c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
      c.attrs.set("strides", std::vector<int64_t>{2, 2});
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.inputs.push_back(float_input(dtype, Shape{2, 112, 112, 64}, -3, 3, ++salt));
      expect_case_matches(c, "channels_last MaxPool 3x3/2 " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;
      c.op = OpKind::AveragePool;
      c.attrs.set(kChannelsLastAttr, int64_t{1});
      c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.attrs.set("count_include_pad", int64_t{1});
      c.inputs.push_back(float_input(dtype, Shape{2, 15, 17, 16}, -3, 3, ++salt));
      expect_case_matches(c, "channels_last AveragePool 3x3 " + std::string(dtype_name(dtype)));
    }
    {
      OpCase c;
      c.op = OpKind::GlobalAveragePool;
      c.attrs.set(kChannelsLastAttr, int64_t{1});
      c.inputs.push_back(float_input(dtype, Shape{4, 7, 7, 2048}, -3, 3, ++salt));
      expect_case_matches(c, "channels_last GlobalAveragePool 7x7x2048 " + std::string(dtype_name(dtype)));
    }
  }
}

}  // namespace
}  // namespace kiln::cuda
