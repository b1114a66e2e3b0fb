#include "backends/cuda/vendor/cudnn_engine_config.h"

#include <algorithm>
#include <array>
#include <utility>

namespace kiln::cuda {
namespace {

// cuDNN 9 marks the handle attributes of the graph and the plan deprecated (device-property
// descriptors are the newer way to name a device, for planning without one). With a handle at
// hand they are still the documented way to bind graph and plan to it, and what every cuDNN 9
// release accepts; the deprecation warning is silenced here, once.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
constexpr cudnnBackendAttributeName_t kOperationGraphHandle = CUDNN_ATTR_OPERATIONGRAPH_HANDLE;
constexpr cudnnBackendAttributeName_t kExecutionPlanHandle = CUDNN_ATTR_EXECUTION_PLAN_HANDLE;
#pragma GCC diagnostic pop

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv1a(uint64_t hash, int64_t value) {
  auto v = static_cast<uint64_t>(value);
  for (int byte = 0; byte < 8; ++byte) {
    hash ^= (v >> (8 * byte)) & 0xffu;
    hash *= kFnvPrime;
  }
  return hash;
}

}  // namespace

bool EngineConfigFacts::has(cudnnBackendNumericalNote_t note) const {
  return std::find(numerical_notes.begin(), numerical_notes.end(), note) != numerical_notes.end();
}

bool EngineConfigFacts::has(cudnnBackendBehaviorNote_t note) const {
  return std::find(behavior_notes.begin(), behavior_notes.end(), note) != behavior_notes.end();
}

Result<DescriptorArray> heuristic_configs(const BackendDescriptor& graph, cudnnBackendHeurMode_t mode) {
  KILN_ASSIGN_OR_RETURN(BackendDescriptor heuristic, BackendDescriptor::create(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR));
  KILN_RETURN_IF_ERROR(heuristic.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH), graph));
  KILN_RETURN_IF_ERROR(heuristic.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINEHEUR_MODE), CUDNN_TYPE_HEUR_MODE, mode));
  KILN_RETURN_IF_ERROR(heuristic.finalize());
  // First the count (no array), then that many caller-made ENGINECFG descriptors to fill.
  int64_t count = 0;
  KILN_RETURN_IF_ERROR(heuristic.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINEHEUR_RESULTS), CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr));
  if (count <= 0) return DescriptorArray{};
  KILN_ASSIGN_OR_RETURN(DescriptorArray configs, DescriptorArray::create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, static_cast<size_t>(count)));
  int64_t returned = 0;
  KILN_RETURN_IF_ERROR(heuristic.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINEHEUR_RESULTS), CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned,
                                     configs.raw.data()));
  const auto filled = static_cast<size_t>(std::clamp<int64_t>(returned, 0, count));
  configs.owned.resize(filled);
  configs.raw.resize(filled);
  return configs;
}

Result<EngineConfigFacts> engine_config_facts(const BackendDescriptor& config) {
  EngineConfigFacts facts;
  KILN_ASSIGN_OR_RETURN(BackendDescriptor engine, BackendDescriptor::create(CUDNN_BACKEND_ENGINE_DESCRIPTOR));
  cudnnBackendDescriptor_t engine_raw = engine.get();
  int64_t returned = 0;
  KILN_RETURN_IF_ERROR(config.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINECFG_ENGINE), CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &returned, &engine_raw));
  KILN_ASSIGN_OR_RETURN(facts.engine, engine.get_int64(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINE_GLOBAL_INDEX)));

  std::array<cudnnBackendNumericalNote_t, CUDNN_NUMERICAL_NOTE_TYPE_COUNT> numerical{};
  KILN_RETURN_IF_ERROR(engine.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINE_NUMERICAL_NOTE), CUDNN_TYPE_NUMERICAL_NOTE,
                                  static_cast<int64_t>(numerical.size()), &returned, numerical.data()));
  facts.numerical_notes.assign(numerical.begin(), numerical.begin() + std::clamp<int64_t>(returned, 0, static_cast<int64_t>(numerical.size())));
  // Behavior notes are informational here (which engines compile at finalize): optional.
  std::array<cudnnBackendBehaviorNote_t, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT> behavior{};
  if (engine.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE), CUDNN_TYPE_BEHAVIOR_NOTE, static_cast<int64_t>(behavior.size()), &returned,
                 behavior.data())
          .ok()) {
    facts.behavior_notes.assign(behavior.begin(), behavior.begin() + std::clamp<int64_t>(returned, 0, static_cast<int64_t>(behavior.size())));
  }

  // Knob choices come back into caller-made KNOB_CHOICE descriptors, at most one per knob type.
  KILN_ASSIGN_OR_RETURN(DescriptorArray choices, DescriptorArray::create(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, static_cast<size_t>(CUDNN_KNOB_TYPE_COUNTS)));
  KILN_RETURN_IF_ERROR(config.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINECFG_KNOB_CHOICES), CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                  static_cast<int64_t>(choices.raw.size()), &returned, choices.raw.data()));
  std::vector<std::pair<int64_t, int64_t>> knobs;
  const auto knob_count = static_cast<size_t>(std::clamp<int64_t>(returned, 0, static_cast<int64_t>(choices.raw.size())));
  for (size_t i = 0; i < knob_count; ++i) {
    cudnnBackendKnobType_t type = CUDNN_KNOB_TYPE_COUNTS;
    int64_t got = 0;
    KILN_RETURN_IF_ERROR(choices.owned[i].get(KILN_CUDNN_ATTR(CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE), CUDNN_TYPE_KNOB_TYPE, 1, &got, &type));
    KILN_ASSIGN_OR_RETURN(const int64_t value, choices.owned[i].get_int64(KILN_CUDNN_ATTR(CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE)));
    knobs.emplace_back(static_cast<int64_t>(type), value);
  }
  // Sorted, so that the fingerprint does not depend on the order cuDNN lists the knobs in.
  std::sort(knobs.begin(), knobs.end());
  uint64_t hash = kFnvOffset;
  for (const auto& [type, value] : knobs) hash = fnv1a(fnv1a(hash, type), value);
  facts.knob_fingerprint = hash;
  facts.knob_count = knobs.size();

  // Optional: lets the caller skip a configuration before paying for its finalization.
  int64_t workspace = -1;
  if (config.get(KILN_CUDNN_ATTR(CUDNN_ATTR_ENGINECFG_WORKSPACE_SIZE), CUDNN_TYPE_INT64, 1, &returned, &workspace).ok() && returned == 1) {
    facts.workspace_bytes = workspace;
  }
  return facts;
}

Result<BackendDescriptor> finalize_execution_plan(cudnnHandle_t handle, const BackendDescriptor& config) {
  KILN_ASSIGN_OR_RETURN(BackendDescriptor plan, BackendDescriptor::create(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR));
  KILN_RETURN_IF_ERROR(plan.set_value(kExecutionPlanHandle, "CUDNN_ATTR_EXECUTION_PLAN_HANDLE", CUDNN_TYPE_HANDLE, handle));
  KILN_RETURN_IF_ERROR(plan.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG), config));
  KILN_RETURN_IF_ERROR(plan.finalize());
  return plan;
}

Status set_graph_handle(BackendDescriptor& graph, cudnnHandle_t handle) {
  return graph.set_value(kOperationGraphHandle, "CUDNN_ATTR_OPERATIONGRAPH_HANDLE", CUDNN_TYPE_HANDLE, handle);
}

}  // namespace kiln::cuda
