// The model report behind `kiln inspect`: inputs and outputs, every node with its shapes and
// cost, and totals. Costs are computed from shapes after shape inference, so fixing dynamic
// input dims (the `shapes` argument) turns unknown numbers into concrete ones.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln {

struct NodeReport {
  std::string op;
  std::string name;
  // Absent optional inputs are left out.
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  // The dtype of the first output (what the node computes in).
  DType dtype = DType::kUndefined;
  // Unknown (nullopt) while a shape the cost depends on is still dynamic.
  std::optional<double> flops;
  std::optional<int64_t> bytes;  // every input (weights included) plus every output
};

// What one graph-optimizer pass did.
struct PassSummary {
  std::string name;
  bool fired = false;  // it changed the graph
  int64_t nodes_before = 0;
  int64_t nodes_after = 0;
};

// Runs the graph optimizer before reporting (kiln inspect --passes / --dump-after=PASS).
struct InspectPasses {
  bool run = false;
  std::string dump_after;  // a pass name or "all"; implies run
  bool channels_last = false;  // include the channels-last rewrite (CUDA engines run it)
  // The whole pipeline CUDA engines get: channels-last plus the attention layout passes
  // (sequence-major and packed Q/K/V), which only strided attention kernels can run.
  bool cuda = false;
  // The whole pipeline CPU engines get: channels-last plus channel-blocking (16-channel blocked
  // convs; needs static shapes, see --shapes).
  bool cpu = false;
};

struct ModelReport {
  std::string path;
  std::string graph_name;
  int64_t opset = 0;
  std::vector<TensorInfo> inputs;   // graph inputs that are not initializers
  std::vector<TensorInfo> outputs;
  std::vector<NodeReport> nodes;

  // Totals. flops_known / activation_bytes_known say whether every contribution was known;
  // when not, the total covers only the known part.
  double total_flops = 0;
  bool flops_known = true;
  int64_t parameter_count = 0;      // elements of all constants (initializers, folded constants)
  int64_t parameter_bytes = 0;
  int64_t activation_bytes = 0;     // graph inputs plus every node output that is not a constant
  bool activation_bytes_known = true;

  // Filled when the graph optimizer ran (InspectPasses): one entry per pass run, in order, and
  // the textual IR printed after the pass named by dump_after.
  std::vector<PassSummary> passes;
  std::string pass_dump;
};

// Imports the model, fixes the given input shapes (name -> concrete shape; an unknown name, a
// rank mismatch or a clash with a static dim is INVALID_ARGUMENT), runs shape inference and
// computes the report.
Result<ModelReport> inspect_model(const std::string& path, const std::map<std::string, Shape>& shapes = {});
// The same, on the graph the optimizer produced.
Result<ModelReport> inspect_model(const std::string& path, const std::map<std::string, Shape>& shapes,
                                  const InspectPasses& passes);

// "[N,3,224,224]" with symbolic names, "?" for unnamed unknown dims, "[?rank]" for unknown rank.
std::string shape_string(const TensorInfo& info);
// Bytes of a tensor described by `info`, or nullopt when its shape is not fully known.
std::optional<int64_t> tensor_bytes(const TensorInfo& info);

}  // namespace kiln
