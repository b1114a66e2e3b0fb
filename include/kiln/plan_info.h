// What a plan file holds, read from its header alone (no device needed): kiln inspect PLAN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "kiln/status.h"

namespace kiln {

struct PlanStepInfo {
  std::string name;
  std::string op;
  std::string backend;   // empty: a view (shares its input's memory)
  std::string tactic;
  std::string dtype;     // of the first output
  std::string output_shape;
  double measured_ms = 0;
  int64_t flops = 0;
};

// One optimization profile: the concrete shapes it was built for, its steps and memory plan.
struct PlanProfileInfo {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<PlanStepInfo> steps;
  uint64_t arena_bytes = 0;
  uint64_t naive_activation_bytes = 0;
  uint64_t workspace_bytes = 0;
};

struct PlanInfo {
  std::string kiln_version;
  std::string device_kind;
  std::string device_arch;
  std::string device_name;
  std::string precision;
  std::string source_model;
  std::vector<PlanProfileInfo> profiles;
  uint64_t weights_bytes = 0;
};

bool is_plan_file(const std::string& path);
Result<PlanInfo> read_plan_info(const std::string& path);

}  // namespace kiln
