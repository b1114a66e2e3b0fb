// What any cuDNN graph-API user needs between a finalized operation graph and an execution
// plan: the heuristics' engine configurations, what identifies one configuration (the engine's
// global index and its knob choices) and what it promises about numerics, and the finalized plan.
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/vendor/cudnn_backend_descriptor.h"
#include "kiln/status.h"

namespace kiln::cuda {

// The engine configurations heuristic `mode` proposes for `graph`, best predicted first.
Result<DescriptorArray> heuristic_configs(const BackendDescriptor& graph, cudnnBackendHeurMode_t mode);

struct EngineConfigFacts {
  int64_t engine = -1;              // CUDNN_ATTR_ENGINE_GLOBAL_INDEX
  uint64_t knob_fingerprint = 0;    // FNV-1a over the (knob type, value) pairs, sorted by type
  size_t knob_count = 0;
  std::vector<cudnnBackendNumericalNote_t> numerical_notes;
  std::vector<cudnnBackendBehaviorNote_t> behavior_notes;  // empty when cuDNN does not say
  int64_t workspace_bytes = -1;     // CUDNN_ATTR_ENGINECFG_WORKSPACE_SIZE; -1 when cuDNN does not say

  bool has(cudnnBackendNumericalNote_t note) const;
  bool has(cudnnBackendBehaviorNote_t note) const;
};

Result<EngineConfigFacts> engine_config_facts(const BackendDescriptor& config);

// The execution plan of one configuration on `handle` (may compile kernels: runtime fusion).
Result<BackendDescriptor> finalize_execution_plan(cudnnHandle_t handle, const BackendDescriptor& config);

// CUDNN_ATTR_OPERATIONGRAPH_HANDLE: the graph's handle (heuristics query its device).
Status set_graph_handle(BackendDescriptor& graph, cudnnHandle_t handle);

}  // namespace kiln::cuda
