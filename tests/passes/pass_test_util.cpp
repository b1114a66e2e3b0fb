#include "pass_test_util.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "engine/graph_executor.h"
#include "ir/shape_inference.h"
#include "ir/text.h"
#include "ir/verifier.h"

namespace kiln::passes::testing {
namespace {

constexpr double kTinyScale = 1e-30;

Tensor random_tensor(DType dtype, const Shape& shape, std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::kFloat64) t.data<double>()[i] = dist(rng);
    else t.data<float>()[i] = static_cast<float>(dist(rng));
  }
  return t;
}

// max |after - before| over max |before|, per output (the model tests' measure: summation-order
// noise scales with the output, not with each element).
double max_error(const std::vector<Tensor>& after, const std::vector<Tensor>& before) {
  double worst = 0.0;
  for (size_t o = 0; o < before.size(); ++o) {
    if (after[o].numel() != before[o].numel() || after[o].dtype() != DType::kFloat32) return INFINITY;
    double scale = 0.0, difference = 0.0;
    for (int64_t i = 0; i < before[o].numel(); ++i) {
      const double b = before[o].data<float>()[i];
      scale = std::max(scale, std::fabs(b));
      difference = std::max(difference, std::fabs(after[o].data<float>()[i] - b));
    }
    worst = std::max(worst, difference / std::max(scale, kTinyScale));
  }
  return worst;
}

}  // namespace

GraphBuilder::GraphBuilder(const std::string& name) {
  graph_.name = name;
  graph_.opset = 17;
}

ir::Value* GraphBuilder::input(const std::string& name, const Shape& shape, DType dtype) {
  ir::Value* v = graph_.add_value(name);
  v->set_type(ir::ValueType{dtype, ir::sym_shape_from(shape)});
  graph_.add_input(v);
  return v;
}

ir::Value* GraphBuilder::weight(const std::string& name, const Shape& shape, uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  return graph_.add_constant(name, random_tensor(DType::kFloat32, shape, rng, lo, hi));
}

ir::Value* GraphBuilder::constant(const std::string& name, const Shape& shape, const std::vector<double>& values,
                                  DType dtype) {
  Tensor t(dtype, shape);
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DType::kInt64) t.data<int64_t>()[i] = static_cast<int64_t>(values[i]);
    else t.data<float>()[i] = static_cast<float>(values[i]);
  }
  return graph_.add_constant(name, std::move(t));
}

ir::Value* GraphBuilder::ints(const std::string& name, const std::vector<int64_t>& values) {
  return graph_.add_constant(name, Tensor::from_vector<int64_t>(DType::kInt64, Shape{static_cast<int64_t>(values.size())}, values));
}

ir::Value* GraphBuilder::op(OpKind op, const std::string& name, std::vector<ir::Value*> inputs, Attributes attrs) {
  ir::Value* out = graph_.add_value(name);
  graph_.add_node(op, name, std::move(inputs), {out}, std::move(attrs));
  return out;
}

Attributes attrs_of(std::initializer_list<std::pair<std::string, AttributeValue>> list) {
  Attributes a;
  for (const auto& [name, value] : list) a.set(name, value);
  return a;
}

PassOutcome run_pass(const std::function<ir::Graph()>& build, const PassFn& pass, uint64_t seed) {
  PassOutcome outcome;
  ir::Graph before = build();
  ir::Graph after = build();
  for (ir::Graph* g : {&before, &after}) {
    Status s = ir::infer_shapes(*g);
    if (!s.ok()) {
      outcome.failure = "shape inference before the pass: " + s.to_string();
      return outcome;
    }
  }
  Result<bool> fired = pass(after);
  if (!fired.ok()) {
    outcome.failure = "pass: " + fired.status().to_string();
    return outcome;
  }
  outcome.fired = *fired;
  for (Status s : {ir::infer_shapes(after), ir::verify(after)}) {
    if (!s.ok()) {
      outcome.failure = "after the pass: " + s.to_string();
      return outcome;
    }
  }
  outcome.text = ir::to_text(after);

  std::mt19937_64 rng(seed);
  std::map<std::string, Tensor> inputs;
  for (const ir::Value* in : before.inputs())
    inputs[in->name()] = random_tensor(in->type().dtype, ir::shape_of(*in->type().shape), rng, -2.0, 2.0);
  auto reference = engine::GraphExecutor::create(std::move(before));
  auto optimized = engine::GraphExecutor::create(std::move(after));
  if (!reference.ok() || !optimized.ok()) {
    outcome.failure = "executor: " + (reference.ok() ? optimized.status() : reference.status()).to_string();
    return outcome;
  }
  auto expected = (*reference)->run(inputs);
  auto actual = (*optimized)->run(inputs);
  if (!expected.ok() || !actual.ok()) {
    outcome.failure = "run: " + (expected.ok() ? actual.status() : expected.status()).to_string();
    return outcome;
  }
  outcome.max_error = max_error(*actual, *expected);
  return outcome;
}

}  // namespace kiln::passes::testing
