#include "kiln/plan_info.h"

#include "plan/plan_file.h"

namespace kiln {
namespace {

TensorInfo tensor_info(const plan::Value& v, const std::string& name) {
  TensorInfo info;
  info.name = name;
  info.dtype = static_cast<DType>(v.dtype());
  info.dims.assign(v.dims().begin(), v.dims().end());
  info.dim_names.assign(info.dims.size(), "");
  return info;
}

}  // namespace

bool is_plan_file(const std::string& path) { return plan::looks_like_plan(path); }

Result<PlanInfo> read_plan_info(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(auto file, plan::PlanFile::open(path));
  const plan::PlanHeader& h = file->header();
  PlanInfo info;
  info.kiln_version = h.kiln_version();
  info.device_kind = h.device_kind();
  info.device_arch = h.device_arch();
  info.device_name = h.device_name();
  info.precision = h.precision();
  info.source_model = h.source_model();
  info.weights_bytes = h.weights_bytes();
  for (const plan::Profile& profile : h.profiles()) {
    PlanProfileInfo p;
    p.arena_bytes = profile.arena_bytes();
    p.naive_activation_bytes = profile.naive_activation_bytes();
    p.workspace_bytes = profile.workspace_bytes();
    const int values = profile.values_size();
    auto value = [&](int index) -> Result<const plan::Value*> {
      if (index < 0 || index >= values)
        return data_loss("plan '" + path + "' names value " + std::to_string(index) + ", which does not exist");
      return &profile.values(index);
    };
    for (int i = 0; i < profile.inputs_size() && i < h.input_names_size(); ++i) {
      KILN_ASSIGN_OR_RETURN(const plan::Value* v, value(profile.inputs(i)));
      p.inputs.push_back(tensor_info(*v, h.input_names(i)));
    }
    for (int i = 0; i < profile.outputs_size() && i < h.output_names_size(); ++i) {
      KILN_ASSIGN_OR_RETURN(const plan::Value* v, value(profile.outputs(i)));
      p.outputs.push_back(tensor_info(*v, h.output_names(i)));
    }
    for (const plan::Step& s : profile.steps()) {
      PlanStepInfo step{s.name(), s.op(), s.backend(), s.tactic_name(), "", "", s.measured_ms(), s.flops()};
      if (s.outputs_size() > 0 && s.outputs(0) >= 0) {
        KILN_ASSIGN_OR_RETURN(const plan::Value* v, value(s.outputs(0)));
        step.dtype = std::string(dtype_name(static_cast<DType>(v->dtype())));
        step.output_shape = Shape(std::vector<int64_t>(v->dims().begin(), v->dims().end())).to_string();
      }
      p.steps.push_back(std::move(step));
    }
    info.profiles.push_back(std::move(p));
  }
  return info;
}

}  // namespace kiln
