// DepthToSpace (modes DCR and CRD) and SpaceToDepth on [N, C, H, W]: pure data movement, so the
// kernels copy element bytes and work for every fixed-size dtype.
#include <cstring>
#include <string>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/linalg_kernels.h"

namespace kiln::reference::linalg {
namespace {

constexpr size_t kRank = 4;

struct Nchw {
  int64_t n, c, h, w;
};

Result<Nchw> nchw_of(const Tensor* x, const char* op) {
  if (!x) return invalid_argument(std::string(op) + ": input is required");
  if (x->rank() != kRank) return invalid_argument(std::string(op) + ": input must be 4-D [N, C, H, W], got " + x->shape().to_string());
  if (dtype_size(x->dtype()) == 0) return unsupported_dtype(op, x->dtype());
  const Shape& s = x->shape();
  return Nchw{s[0], s[1], s[2], s[3]};
}

Result<int64_t> blocksize_of(const Attributes& attrs, const char* op) {
  auto b = attrs.require_int("blocksize");
  if (!b.ok()) return invalid_argument(std::string(op) + ": " + b.status().message());
  if (*b <= 0) return invalid_argument(std::string(op) + ": attribute blocksize must be positive, got " + std::to_string(*b));
  return *b;
}

Status depth_to_space_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Nchw in, nchw_of(ctx.input(0), "DepthToSpace"));
  KILN_ASSIGN_OR_RETURN(int64_t b, blocksize_of(ctx.attributes(), "DepthToSpace"));
  const std::string mode = ctx.attributes().get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") return invalid_argument("DepthToSpace: attribute mode must be DCR or CRD, got '" + mode + "'");
  if (in.c % (b * b) != 0)
    return invalid_argument("DepthToSpace: channels (" + std::to_string(in.c) + ") must be a multiple of blocksize^2 (" +
                            std::to_string(b * b) + ")");
  const bool dcr = mode == "DCR";
  const Tensor& x = *ctx.input(0);
  const int64_t out_c = in.c / (b * b);
  Tensor out(x.dtype(), Shape{in.n, out_c, in.h * b, in.w * b});
  const size_t elem = dtype_size(x.dtype());
  const auto* src = static_cast<const unsigned char*>(x.raw_data());
  auto* dst = static_cast<unsigned char*>(out.raw_data());
  int64_t o = 0;
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < out_c; ++c)
      for (int64_t h = 0; h < in.h * b; ++h)
        for (int64_t w = 0; w < in.w * b; ++w, ++o) {
          const int64_t block = (h % b) * b + (w % b);
          const int64_t ic = dcr ? block * out_c + c : c * b * b + block;
          const int64_t i = ((n * in.c + ic) * in.h + h / b) * in.w + w / b;
          std::memcpy(dst + static_cast<size_t>(o) * elem, src + static_cast<size_t>(i) * elem, elem);
        }
  ctx.outputs[0] = std::move(out);
  return {};
}

// The inverse of DepthToSpace in DCR mode.
Status space_to_depth_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Nchw in, nchw_of(ctx.input(0), "SpaceToDepth"));
  KILN_ASSIGN_OR_RETURN(int64_t b, blocksize_of(ctx.attributes(), "SpaceToDepth"));
  if (in.h % b != 0 || in.w % b != 0)
    return invalid_argument("SpaceToDepth: height and width (" + std::to_string(in.h) + ", " + std::to_string(in.w) +
                            ") must be multiples of blocksize " + std::to_string(b));
  const Tensor& x = *ctx.input(0);
  const int64_t out_c = in.c * b * b, out_h = in.h / b, out_w = in.w / b;
  Tensor out(x.dtype(), Shape{in.n, out_c, out_h, out_w});
  const size_t elem = dtype_size(x.dtype());
  const auto* src = static_cast<const unsigned char*>(x.raw_data());
  auto* dst = static_cast<unsigned char*>(out.raw_data());
  int64_t o = 0;
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t oc = 0; oc < out_c; ++oc)
      for (int64_t h = 0; h < out_h; ++h)
        for (int64_t w = 0; w < out_w; ++w, ++o) {
          const int64_t block = oc / in.c, c = oc % in.c;
          const int64_t i = ((n * in.c + c) * in.h + h * b + block / b) * in.w + w * b + block % b;
          std::memcpy(dst + static_cast<size_t>(o) * elem, src + static_cast<size_t>(i) * elem, elem);
        }
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_space_depth_kernels(KernelTable& table) {
  table.add(OpKind::DepthToSpace, depth_to_space_kernel);
  table.add(OpKind::SpaceToDepth, space_to_depth_kernel);
}

}  // namespace kiln::reference::linalg
