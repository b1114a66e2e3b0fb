// Schemas of the linalg family that are not matrix products or Resize: the softmax family and
// the space/depth moves. Also the family's registration entry point.
#include <algorithm>
#include <string>

#include "core/broadcast.h"
#include "core/checked_math.h"
#include "ir/ops/families.h"
#include "ir/ops/infer_util.h"
#include "ir/ops/linalg_schemas.h"

namespace kiln::ir {
namespace linalg {

Result<SymShape> broadcast_sym(const InferContext& ctx, const SymShape& a, const SymShape& b) {
  const size_t rank = std::max(a.size(), b.size());
  SymShape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    const Dim x = d < rank - a.size() ? Dim::known(1) : a[d - (rank - a.size())];
    const Dim y = d < rank - b.size() ? Dim::known(1) : b[d - (rank - b.size())];
    if (x == y) out[d] = x;
    else if (x.is_known() && x.value == 1) out[d] = y;
    else if (y.is_known() && y.value == 1) out[d] = x;
    else if (x.is_known() && y.is_known())
      return ctx.error("batch dimensions cannot be broadcast together: " + std::to_string(x.value) + " vs " +
                       std::to_string(y.value));
    else if (x.is_known()) out[d] = x;
    else if (y.is_known()) out[d] = y;
    else out[d] = Dim{};
  }
  return out;
}

double known_numel(const Shape& shape) {
  double n = 1.0;
  for (int64_t d : shape.dims()) n *= d > 0 ? static_cast<double>(d) : 1.0;
  return n;
}

}  // namespace linalg

namespace {

constexpr int64_t kSoftmaxDefaultAxis = -1;
// exp, subtract max, sum, divide (or log), compare for the max: about five per element.
constexpr double kSoftmaxFlopsPerElement = 5.0;
constexpr size_t kSpaceDepthRank = 4;  // [N, C, H, W]

bool is_float_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kBFloat16 ||
         dtype == DType::kFloat64;
}

Status infer_softmax_like(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.error("input 0 (input) is required");
  if (!is_float_dtype(ctx.input_dtype(0)))
    return ctx.error("input must be float16, bfloat16, float32 or float64, got " +
                     std::string(dtype_name(ctx.input_dtype(0))));
  if (const SymShape* shape = ctx.input_shape(0)) {
    const int64_t axis = ctx.attrs().get_int("axis", kSoftmaxDefaultAxis);
    auto normalized = normalize_axis(axis, static_cast<int64_t>(shape->size()));
    if (!normalized.ok()) return ctx.error("attribute axis: " + normalized.status().message());
  }
  return infer_same_as_input(ctx);
}

double softmax_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  return inputs.empty() ? 0.0 : kSoftmaxFlopsPerElement * linalg::known_numel(inputs[0]);
}

double zero_flops(const Node&, const std::vector<Shape>&, const std::vector<Shape>&) { return 0.0; }

// The blocksize, positive and small enough that blocksize^2 fits in int64.
Result<int64_t> blocksize_of(const InferContext& ctx) {
  auto blocksize = ctx.attrs().require_int("blocksize");
  if (!blocksize.ok()) return ctx.error(blocksize.status().message());
  if (*blocksize <= 0) return ctx.error("attribute blocksize must be positive, got " + std::to_string(*blocksize));
  if (!checked_mul(*blocksize, *blocksize))
    return ctx.error("attribute blocksize " + std::to_string(*blocksize) + " squared overflows int64");
  return *blocksize;
}

// `d * factor`; an error naming `what` when it overflows int64.
Result<Dim> scaled_dim(const InferContext& ctx, const Dim& d, int64_t factor, const char* what) {
  if (!d.is_known()) return Dim{};
  if (auto scaled = checked_mul(d.value, factor)) return Dim::known(*scaled);
  return ctx.error(std::string(what) + " (" + std::to_string(d.value) + ") times " + std::to_string(factor) +
                   " overflows int64");
}

// Divides a dim that must be a multiple of `divisor`; an error names which dim.
Result<Dim> divided_dim(const InferContext& ctx, const Dim& d, int64_t divisor, const char* what) {
  if (!d.is_known()) return Dim{};
  if (d.value % divisor != 0)
    return ctx.error(std::string(what) + " (" + std::to_string(d.value) + ") must be a multiple of " +
                     std::to_string(divisor));
  return Dim::known(d.value / divisor);
}

Status check_space_depth_input(const InferContext& ctx, const SymShape** shape) {
  if (!ctx.has_input(0)) return ctx.error("input 0 (input) is required");
  *shape = ctx.input_shape(0);
  if (*shape && (*shape)->size() != kSpaceDepthRank)
    return ctx.error("input must be 4-D [N, C, H, W], got rank " + std::to_string((*shape)->size()));
  return {};
}

Status infer_depth_to_space(InferContext& ctx) {
  const SymShape* shape = nullptr;
  KILN_RETURN_IF_ERROR(check_space_depth_input(ctx, &shape));
  KILN_ASSIGN_OR_RETURN(int64_t b, blocksize_of(ctx));
  const std::string mode = ctx.attrs().get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") return ctx.error("attribute mode must be DCR or CRD, got '" + mode + "'");
  if (!shape) {
    ctx.set_output(0, ctx.input_dtype(0), unknown_dims(kSpaceDepthRank));
    return {};
  }
  KILN_ASSIGN_OR_RETURN(Dim channels, divided_dim(ctx, (*shape)[1], b * b, "channels"));
  KILN_ASSIGN_OR_RETURN(Dim height, scaled_dim(ctx, (*shape)[2], b, "height"));
  KILN_ASSIGN_OR_RETURN(Dim width, scaled_dim(ctx, (*shape)[3], b, "width"));
  ctx.set_output(0, ctx.input_dtype(0), SymShape{(*shape)[0], channels, height, width});
  return {};
}

Status infer_space_to_depth(InferContext& ctx) {
  const SymShape* shape = nullptr;
  KILN_RETURN_IF_ERROR(check_space_depth_input(ctx, &shape));
  KILN_ASSIGN_OR_RETURN(int64_t b, blocksize_of(ctx));
  if (!shape) {
    ctx.set_output(0, ctx.input_dtype(0), unknown_dims(kSpaceDepthRank));
    return {};
  }
  KILN_ASSIGN_OR_RETURN(Dim height, divided_dim(ctx, (*shape)[2], b, "height"));
  KILN_ASSIGN_OR_RETURN(Dim width, divided_dim(ctx, (*shape)[3], b, "width"));
  KILN_ASSIGN_OR_RETURN(Dim channels, scaled_dim(ctx, (*shape)[1], b * b, "channels"));
  ctx.set_output(0, ctx.input_dtype(0), SymShape{(*shape)[0], channels, height, width});
  return {};
}

}  // namespace

void register_linalg_schemas(SchemaRegistry& registry) {
  linalg::register_matmul_schemas(registry);
  linalg::register_resize_schema(registry);
  linalg::register_einsum_schema(registry);
  for (OpKind kind : {OpKind::Softmax, OpKind::LogSoftmax, OpKind::Hardmax})
    registry.add({kind, 1, 1, 1, 1, infer_softmax_like, softmax_flops});
  registry.add({OpKind::DepthToSpace, 1, 1, 1, 1, infer_depth_to_space, zero_flops});
  registry.add({OpKind::SpaceToDepth, 1, 1, 1, 1, infer_space_to_depth, zero_flops});
}

}  // namespace kiln::ir
