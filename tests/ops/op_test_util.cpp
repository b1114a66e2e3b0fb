#include "op_test_util.h"

#include <cmath>
#include <limits>
#include <random>

#include "backends/reference/kernel_util.h"
#include "engine/graph_executor.h"
#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace kiln::testing {

Result<std::vector<Tensor>> run_op(const OpRun& run) {
  ir::Graph graph;
  graph.opset = 17;
  std::map<std::string, Tensor> feeds;
  std::vector<ir::Value*> inputs;
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    const Tensor& t = run.inputs[i];
    if (!t.defined()) {
      inputs.push_back(nullptr);
      continue;
    }
    std::string name = "in" + std::to_string(i);
    bool constant = std::find(run.constant_inputs.begin(), run.constant_inputs.end(), i) != run.constant_inputs.end();
    if (constant) {
      inputs.push_back(graph.add_constant(name, t));
    } else {
      ir::Value* v = graph.add_value(name);
      v->set_type(ir::ValueType{t.dtype(), ir::sym_shape_from(t.shape())});
      graph.add_input(v);
      feeds[name] = t;
      inputs.push_back(v);
    }
  }
  std::vector<ir::Value*> outputs;
  for (size_t i = 0; i < run.num_outputs; ++i) outputs.push_back(graph.add_value("out" + std::to_string(i)));
  graph.add_node(run.op, "node", inputs, outputs, run.attrs);
  for (ir::Value* out : outputs) graph.add_output(out);

  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph).with_context("shape inference"));
  KILN_RETURN_IF_ERROR(ir::verify(graph).with_context("verifier"));
  std::vector<ir::ValueType> inferred;
  for (ir::Value* out : outputs) inferred.push_back(out->type());

  KILN_ASSIGN_OR_RETURN(auto executor, engine::GraphExecutor::create(std::move(graph)));
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> results, executor->run(feeds));
  for (size_t i = 0; i < results.size(); ++i) {
    const ir::ValueType& type = inferred[i];
    if (type.dtype != results[i].dtype())
      return internal_error("output " + std::to_string(i) + ": inferred dtype " + std::string(dtype_name(type.dtype)) +
                            ", kernel produced " + std::string(dtype_name(results[i].dtype())));
    if (!type.shape) continue;
    const Shape& actual = results[i].shape();
    if (type.shape->size() != actual.rank())
      return internal_error("output " + std::to_string(i) + ": inferred shape " + ir::sym_shape_to_string(*type.shape) +
                            ", kernel produced " + actual.to_string());
    for (size_t d = 0; d < actual.rank(); ++d)
      if ((*type.shape)[d].is_known() && (*type.shape)[d].value != actual[d])
        return internal_error("output " + std::to_string(i) + ": inferred shape " +
                              ir::sym_shape_to_string(*type.shape) + ", kernel produced " + actual.to_string());
  }
  return results;
}

Tensor random_tensor(DType dtype, const Shape& shape, uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  if (dtype == DType::kBool) {
    std::bernoulli_distribution dist(0.5);
    for (double& v : values) v = dist(rng) ? 1.0 : 0.0;
  } else if (dtype_is_integer(dtype)) {
    std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(lo), static_cast<int64_t>(hi));
    for (double& v : values) v = static_cast<double>(dist(rng));
  } else {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (double& v : values) v = dist(rng);
  }
  return reference::from_doubles(dtype, shape, values);
}

Tensor make_tensor(DType dtype, const Shape& shape, const std::vector<double>& values) {
  return reference::from_doubles(dtype, shape, values);
}

Tensor make_int64(const Shape& shape, const std::vector<int64_t>& values) {
  return Tensor::from_vector(DType::kInt64, shape, values);
}

double max_relative_error(const Tensor& actual, const Tensor& expected, double floor) {
  if (actual.dtype() != expected.dtype() || !(actual.shape() == expected.shape()))
    return std::numeric_limits<double>::infinity();
  std::vector<double> a = reference::to_doubles(actual);
  std::vector<double> b = reference::to_doubles(expected);
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (a[i] == b[i]) continue;  // equal infinities
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(std::fabs(b[i]), floor));
  }
  return worst;
}

std::vector<double> values_of(const Tensor& t) { return reference::to_doubles(t); }

}  // namespace kiln::testing
