// Helpers shared by the tensor-family op tests (tests/ops/tensor*_test.cpp).
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "kiln/tensor.h"
#include "op_test_util.h"

namespace kiln::testing::tensor_tests {

// Exact int64 contents (values_of goes through double).
inline std::vector<int64_t> int64s_of(const Tensor& t) {
  return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
}

inline Tensor make_strings(const Shape& shape, std::vector<std::string> values) {
  return Tensor::from_strings(shape, std::move(values));
}

inline Tensor make_int32(const Shape& shape, const std::vector<int32_t>& values) {
  return Tensor::from_vector(DType::kInt32, shape, values);
}

inline Tensor make_bool(const Shape& shape, const std::vector<bool>& values) {
  Tensor t(DType::kBool, shape);
  for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
  return t;
}

// Distinct strings "s0", "s1", ... so data movement of BYTES is checkable element by element.
inline Tensor numbered_strings(const Shape& shape) {
  std::vector<std::string> values(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = "s" + std::to_string(i);
  return make_strings(shape, std::move(values));
}

// Whether two tensors hold the same dtype, shape and bytes (or strings).
inline bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || !(a.shape() == b.shape())) return false;
  if (a.dtype() == DType::kBytes) return a.strings() == b.strings();
  const auto* pa = static_cast<const unsigned char*>(a.raw_data());
  const auto* pb = static_cast<const unsigned char*>(b.raw_data());
  return std::equal(pa, pa + a.nbytes(), pb);
}

// One input of an inference-only graph: a declared type (graph input) or constant data.
using InferInput = std::variant<ir::ValueType, Tensor>;

// Builds a one-node graph and runs shape inference only; returns the output types.
inline Result<std::vector<ir::ValueType>> infer_only(OpKind op, const std::vector<InferInput>& inputs,
                                                     const Attributes& attrs = {}, size_t num_outputs = 1) {
  ir::Graph graph;
  std::vector<ir::Value*> in_values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    if (const auto* t = std::get_if<Tensor>(&inputs[i])) {
      in_values.push_back(graph.add_constant(name, *t));
    } else {
      ir::Value* v = graph.add_value(name);
      v->set_type(std::get<ir::ValueType>(inputs[i]));
      graph.add_input(v);
      in_values.push_back(v);
    }
  }
  std::vector<ir::Value*> outs;
  for (size_t i = 0; i < num_outputs; ++i) outs.push_back(graph.add_value("out" + std::to_string(i)));
  graph.add_node(op, "node", in_values, outs, attrs);
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));
  std::vector<ir::ValueType> types;
  for (ir::Value* v : outs) types.push_back(v->type());
  return types;
}

inline ir::ValueType sym_type(DType dtype, std::vector<std::string> dims) {
  ir::SymShape shape;
  for (const std::string& d : dims) {
    if (d == "?") shape.push_back(ir::Dim{});
    else if (std::isdigit(static_cast<unsigned char>(d[0]))) shape.push_back(ir::Dim::known(std::stoll(d)));
    else shape.push_back(ir::Dim::symbolic(d));
  }
  return ir::ValueType{dtype, shape};
}

// "float32[B,S,12,64]" for EXPECT_EQ.
inline std::string type_string(const Result<std::vector<ir::ValueType>>& r, size_t i = 0) {
  if (!r.ok()) return "error: " + r.status().to_string();
  return r.value()[i].to_string();
}

}  // namespace kiln::testing::tensor_tests
