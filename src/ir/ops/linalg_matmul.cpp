// Schemas of the matrix products: MatMul, MatMulInteger and Gemm.
#include <string>

#include "ir/ops/infer_util.h"
#include "ir/ops/linalg_schemas.h"

namespace kiln::ir::linalg {
namespace {

constexpr double kFlopsPerMultiplyAdd = 2.0;
// alpha scaling, beta scaling and the C addition per output element.
constexpr double kGemmEpilogueFlops = 3.0;

std::string dim_text(const Dim& d) { return d.to_string(); }

bool dims_conflict(const Dim& a, const Dim& b) { return a.is_known() && b.is_known() && a.value != b.value; }

}  // namespace

Result<SymShape> matmul_shape(const InferContext& ctx, const SymShape& a, const SymShape& b) {
  if (a.empty() || b.empty()) return ctx.error("MatMul operands must have rank >= 1 (got a scalar)");
  SymShape a2 = a.size() == 1 ? SymShape{Dim::known(1), a[0]} : a;
  SymShape b2 = b.size() == 1 ? SymShape{b[0], Dim::known(1)} : b;
  const Dim& k_a = a2[a2.size() - 1];
  const Dim& k_b = b2[b2.size() - 2];
  if (dims_conflict(k_a, k_b))
    return ctx.error("inner dimensions do not match: A " + sym_shape_to_string(a) + " has K=" + dim_text(k_a) +
                     ", B " + sym_shape_to_string(b) + " has K=" + dim_text(k_b));
  KILN_ASSIGN_OR_RETURN(SymShape out, broadcast_sym(ctx, SymShape(a2.begin(), a2.end() - 2),
                                                    SymShape(b2.begin(), b2.end() - 2)));
  if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.size() > 1) out.push_back(b2[b2.size() - 1]);
  return out;
}

namespace {

Status require_two_inputs(const InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("inputs A and B are required");
  return {};
}

bool is_matmul_dtype(DType d) {
  switch (d) {
    case DType::kFloat32: case DType::kFloat16: case DType::kBFloat16: case DType::kFloat64:
    case DType::kInt32: case DType::kInt64: case DType::kUInt32: case DType::kUInt64:
      return true;
    default:
      return false;
  }
}

Status infer_matmul(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_two_inputs(ctx));
  const DType dtype = ctx.input_dtype(0);
  if (ctx.input_dtype(1) != dtype)
    return ctx.error("A and B must have the same dtype, got " + std::string(dtype_name(dtype)) + " and " +
                     std::string(dtype_name(ctx.input_dtype(1))));
  if (!is_matmul_dtype(dtype)) return ctx.error("dtype " + std::string(dtype_name(dtype)) + " is not supported");
  const SymShape* a = ctx.input_shape(0);
  const SymShape* b = ctx.input_shape(1);
  if (!a || !b) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  KILN_ASSIGN_OR_RETURN(SymShape out, matmul_shape(ctx, *a, *b));
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

bool is_8bit(DType d) { return d == DType::kInt8 || d == DType::kUInt8; }

Status check_zero_point(const InferContext& ctx, size_t zp, size_t operand, const char* name) {
  if (!ctx.has_input(zp)) return {};
  if (ctx.input_dtype(zp) != ctx.input_dtype(operand))
    return ctx.error(std::string(name) + " must have the dtype of its operand (" +
                     std::string(dtype_name(ctx.input_dtype(operand))) + "), got " +
                     std::string(dtype_name(ctx.input_dtype(zp))));
  return {};
}

Status infer_matmul_integer(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_two_inputs(ctx));
  if (!is_8bit(ctx.input_dtype(0)) || !is_8bit(ctx.input_dtype(1)))
    return ctx.error("A and B must be int8 or uint8, got " + std::string(dtype_name(ctx.input_dtype(0))) + " and " +
                     std::string(dtype_name(ctx.input_dtype(1))));
  KILN_RETURN_IF_ERROR(check_zero_point(ctx, 2, 0, "a_zero_point"));
  KILN_RETURN_IF_ERROR(check_zero_point(ctx, 3, 1, "b_zero_point"));
  const SymShape* a = ctx.input_shape(0);
  const SymShape* b = ctx.input_shape(1);
  if (!a || !b) {
    ctx.set_output(0, DType::kInt32, std::nullopt);
    return {};
  }
  KILN_ASSIGN_OR_RETURN(SymShape out, matmul_shape(ctx, *a, *b));
  ctx.set_output(0, DType::kInt32, std::move(out));
  return {};
}

}  // namespace

double matmul_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs) {
  if (inputs.empty() || outputs.empty() || inputs[0].rank() == 0) return 0.0;
  const int64_t k = inputs[0][inputs[0].rank() - 1];
  return kFlopsPerMultiplyAdd * known_numel(outputs[0]) * (k > 0 ? static_cast<double>(k) : 1.0);
}

namespace {

constexpr size_t kGemmRank = 2;

Status infer_gemm(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_two_inputs(ctx));
  const DType dtype = ctx.input_dtype(0);
  if (ctx.input_dtype(1) != dtype || (ctx.has_input(2) && ctx.input_dtype(2) != dtype))
    return ctx.error("A, B and C must have the same dtype");
  if (!is_matmul_dtype(dtype)) return ctx.error("dtype " + std::string(dtype_name(dtype)) + " is not supported");
  const SymShape* a = ctx.input_shape(0);
  const SymShape* b = ctx.input_shape(1);
  if (a && a->size() != kGemmRank) return ctx.error("A must be 2-D, got " + sym_shape_to_string(*a));
  if (b && b->size() != kGemmRank) return ctx.error("B must be 2-D, got " + sym_shape_to_string(*b));
  const bool trans_a = ctx.attrs().get_int("transA", 0) != 0;
  const bool trans_b = ctx.attrs().get_int("transB", 0) != 0;
  const Dim m = a ? (*a)[trans_a ? 1 : 0] : Dim{};
  const Dim k_a = a ? (*a)[trans_a ? 0 : 1] : Dim{};
  const Dim k_b = b ? (*b)[trans_b ? 1 : 0] : Dim{};
  const Dim n = b ? (*b)[trans_b ? 0 : 1] : Dim{};
  if (dims_conflict(k_a, k_b))
    return ctx.error("inner dimensions do not match: op(A) has K=" + dim_text(k_a) + ", op(B) has K=" + dim_text(k_b));
  if (const SymShape* c = ctx.has_input(2) ? ctx.input_shape(2) : nullptr) {
    if (c->size() > kGemmRank) return ctx.error("C must have rank <= 2, got " + sym_shape_to_string(*c));
    // Unidirectional broadcast: each dim of C is 1 or equals the output's.
    const Dim out_dims[kGemmRank] = {m, n};
    for (size_t d = 0; d < c->size(); ++d) {
      const Dim& cd = (*c)[d];
      const Dim& od = out_dims[kGemmRank - c->size() + d];
      if (cd.is_known() && cd.value != 1 && dims_conflict(cd, od))
        return ctx.error("C " + sym_shape_to_string(*c) + " cannot be broadcast to the output [" + dim_text(m) + "," +
                         dim_text(n) + "]");
    }
  }
  ctx.set_output(0, dtype, SymShape{m, n});
  return {};
}

double gemm_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs) {
  if (inputs.empty() || outputs.empty() || inputs[0].rank() != kGemmRank) return 0.0;
  const bool trans_a = node.attrs().get_int("transA", 0) != 0;
  const int64_t k = inputs[0][trans_a ? 0 : 1];
  return known_numel(outputs[0]) * (kFlopsPerMultiplyAdd * (k > 0 ? static_cast<double>(k) : 1.0) + kGemmEpilogueFlops);
}

}  // namespace

void register_matmul_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::MatMul, 2, 2, 1, 1, infer_matmul, matmul_flops});
  registry.add({OpKind::MatMulInteger, 2, 4, 1, 1, infer_matmul_integer, matmul_flops});
  registry.add({OpKind::Gemm, 2, 3, 1, 1, infer_gemm, gemm_flops});
}

}  // namespace kiln::ir::linalg
