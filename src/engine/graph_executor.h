// Runs an IR graph node by node on the reference backend. This is the slow, obviously correct
// path: the ground truth for fast engines and what `kiln run` uses until engines exist.
// run() is const and keeps its state on the stack, so several threads may run concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/session.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::engine {

class GraphExecutor {
 public:
  // Fails if a node's op has no reference kernel.
  static Result<std::unique_ptr<GraphExecutor>> create(ir::Graph graph);

  const ir::Graph& graph() const { return graph_; }
  // Checks names, dtypes and shapes against the graph inputs, then runs every node. Errors name
  // the input or the node that failed.
  Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& inputs) const;

 private:
  explicit GraphExecutor(ir::Graph graph);
  Status check_inputs(const std::map<std::string, Tensor>& inputs) const;

  ir::Graph graph_;
  std::map<const ir::Value*, size_t> slot_of_;   // every value -> index into the run's tensor table
  std::vector<std::vector<size_t>> release_after_;  // per node: slots whose last reader it is
};

// TensorInfo describing a graph value (for Session::inputs/outputs and kiln inspect).
TensorInfo tensor_info_of(const ir::Value& value);

}  // namespace kiln::engine
