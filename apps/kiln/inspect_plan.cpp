#include "inspect_plan.h"

#include <cstdio>
#include <map>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "cli_common.h"
#include "kiln/plan_info.h"
#include "table.h"

namespace kiln::cli {
namespace {

std::string dims_text(const TensorInfo& t) { return Shape(t.dims).to_string(); }

void print_text(const PlanInfo& info, const std::string& path) {
  std::printf("Plan: %s  (kiln %s, built from %s)\n", path.c_str(), info.kiln_version.c_str(),
              info.source_model.empty() ? "?" : info.source_model.c_str());
  std::printf("Device: %s %s (%s)  Precision: %s\n\n", info.device_kind.c_str(), info.device_name.c_str(),
              info.device_arch.c_str(), info.precision.c_str());
  for (const bool inputs : {true, false}) {
    std::printf("%s\n", inputs ? "Inputs" : "Outputs");
    TextTable table({"profile", "name", "dtype", "shape"});
    for (size_t p = 0; p < info.profiles.size(); ++p)
      for (const TensorInfo& t : inputs ? info.profiles[p].inputs : info.profiles[p].outputs)
        table.add_row({std::to_string(p), t.name, std::string(dtype_name(t.dtype)), dims_text(t)});
    table.print(stdout);
    std::printf("\n");
  }
  for (size_t p = 0; p < info.profiles.size(); ++p) {
    const PlanProfileInfo& profile = info.profiles[p];
    using Align = TextTable::Align;
    TextTable steps({"#", "step", "op", "dtype", "output", "backend", "tactic", "build ms"},
                    {Align::kRight, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft,
                     Align::kRight});
    std::map<std::string, size_t> per_backend;
    for (size_t i = 0; i < profile.steps.size(); ++i) {
      const PlanStepInfo& s = profile.steps[i];
      const std::string backend = s.backend.empty() ? "(view)" : s.backend;
      ++per_backend[backend];
      char ms[32];
      std::snprintf(ms, sizeof(ms), "%.4f", s.measured_ms);
      steps.add_row({std::to_string(i), s.name, s.op, s.dtype, s.output_shape, backend, s.tactic, s.measured_ms > 0 ? ms : "-"});
    }
    std::printf("Steps of profile %zu\n", p);
    steps.print(stdout);
    std::printf("\nSteps per backend:");
    for (const auto& [backend, count] : per_backend) std::printf("  %s %zu", backend.c_str(), count);
    std::printf("\nMemory: activations %s in one arena (%s without sharing), workspace %s\n\n",
                human_bytes(static_cast<double>(profile.arena_bytes)).c_str(),
                human_bytes(static_cast<double>(profile.naive_activation_bytes)).c_str(),
                human_bytes(static_cast<double>(profile.workspace_bytes)).c_str());
  }
  std::printf("Weights: %s, shared by %zu profile(s)\n", human_bytes(static_cast<double>(info.weights_bytes)).c_str(),
              info.profiles.size());
}

void print_json(const PlanInfo& info, const std::string& path) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str());
  };
  w.StartObject();
  str("plan", path);
  str("kiln_version", info.kiln_version);
  str("device_kind", info.device_kind);
  str("device_arch", info.device_arch);
  str("device_name", info.device_name);
  str("precision", info.precision);
  str("source_model", info.source_model);
  w.Key("weights_bytes");
  w.Uint64(info.weights_bytes);
  w.Key("profiles");
  w.StartArray();
  for (const PlanProfileInfo& p : info.profiles) {
    w.StartObject();
    for (const bool inputs : {true, false}) {
      w.Key(inputs ? "inputs" : "outputs");
      w.StartArray();
      for (const TensorInfo& t : inputs ? p.inputs : p.outputs) {
        w.StartObject();
        str("name", t.name);
        str("dtype", std::string(dtype_name(t.dtype)));
        w.Key("shape");
        w.StartArray();
        for (int64_t d : t.dims) w.Int64(d);
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
    }
    w.Key("arena_bytes");
    w.Uint64(p.arena_bytes);
    w.Key("naive_activation_bytes");
    w.Uint64(p.naive_activation_bytes);
    w.Key("steps");
    w.StartArray();
    for (const PlanStepInfo& s : p.steps) {
      w.StartObject();
      str("name", s.name);
      str("op", s.op);
      str("backend", s.backend);
      str("tactic", s.tactic);
      str("dtype", s.dtype);
      str("output_shape", s.output_shape);
      w.Key("build_ms");
      w.Double(s.measured_ms);
      w.Key("flops");
      w.Int64(s.flops);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::printf("%s\n", buffer.GetString());
}

}  // namespace

Status inspect_plan(const std::string& path, bool json) {
  KILN_ASSIGN_OR_RETURN(PlanInfo info, read_plan_info(path));
  if (json) print_json(info, path);
  else print_text(info, path);
  return {};
}

}  // namespace kiln::cli
