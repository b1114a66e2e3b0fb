// Building small graphs for pass tests, and running a pass with the checks every pass test
// wants: shape inference and the verifier pass afterwards, and the rewritten graph computes the
// same outputs as the original on fresh seeded random inputs (reference executor).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes::testing {

// Graph construction with readable one-liners; every value gets the name it is given.
class GraphBuilder {
 public:
  explicit GraphBuilder(const std::string& name);

  ir::Value* input(const std::string& name, const Shape& shape, DType dtype = DType::kFloat32);
  // A constant of uniform random values in [lo, hi] (seeded by `seed`).
  ir::Value* weight(const std::string& name, const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0);
  ir::Value* constant(const std::string& name, const Shape& shape, const std::vector<double>& values,
                      DType dtype = DType::kFloat32);
  ir::Value* scalar(const std::string& name, double value) { return constant(name, Shape{}, {value}); }
  ir::Value* ints(const std::string& name, const std::vector<int64_t>& values);
  // Adds a node named `name` with one output value also named `name`.
  ir::Value* op(OpKind op, const std::string& name, std::vector<ir::Value*> inputs, Attributes attrs = {});
  void output(ir::Value* v) { graph_.add_output(v); }
  // For nodes op() cannot add (several outputs).
  ir::Graph& graph() { return graph_; }

  ir::Graph take() { return std::move(graph_); }

 private:
  ir::Graph graph_;
};

Attributes attrs_of(std::initializer_list<std::pair<std::string, AttributeValue>> list);

using PassFn = std::function<Result<bool>(ir::Graph&)>;

struct PassOutcome {
  bool fired = false;
  std::string text;          // ir::to_text after the pass
  double max_error = -1.0;   // max |after - before| / max |before|, worst output
  std::string failure;       // non-empty when a stage failed (the test prints it)
};

// Builds the graph twice (`build` must be deterministic), runs `pass` on one copy and compares
// both on random inputs drawn with `seed`.
PassOutcome run_pass(const std::function<ir::Graph()>& build, const PassFn& pass, uint64_t seed);

}  // namespace kiln::passes::testing
