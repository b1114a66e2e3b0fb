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
  for (const auto& [title, list] : {std::pair{"Inputs", &info.inputs}, std::pair{"Outputs", &info.outputs}}) {
    std::printf("%s\n", title);
    TextTable table({"name", "dtype", "shape"});
    for (const TensorInfo& t : *list) table.add_row({t.name, std::string(dtype_name(t.dtype)), dims_text(t)});
    table.print(stdout);
    std::printf("\n");
  }
  using Align = TextTable::Align;
  TextTable steps({"#", "step", "op", "dtype", "output", "backend", "tactic", "build ms"},
                  {Align::kRight, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft,
                   Align::kRight});
  std::map<std::string, size_t> per_backend;
  double timed_ms = 0;
  for (size_t i = 0; i < info.steps.size(); ++i) {
    const PlanStepInfo& s = info.steps[i];
    const std::string backend = s.backend.empty() ? "(view)" : s.backend;
    ++per_backend[backend];
    timed_ms += s.measured_ms;
    char ms[32];
    std::snprintf(ms, sizeof(ms), "%.4f", s.measured_ms);
    steps.add_row({std::to_string(i), s.name, s.op, s.dtype, s.output_shape, backend, s.tactic, s.measured_ms > 0 ? ms : "-"});
  }
  std::printf("Steps\n");
  steps.print(stdout);
  std::printf("\nSteps per backend:");
  for (const auto& [backend, count] : per_backend) std::printf("  %s %zu", backend.c_str(), count);
  std::printf("\nMemory: activations %s in one arena (%s without sharing), weights %s, workspace %s\n",
              human_bytes(static_cast<double>(info.arena_bytes)).c_str(),
              human_bytes(static_cast<double>(info.naive_activation_bytes)).c_str(),
              human_bytes(static_cast<double>(info.weights_bytes)).c_str(),
              human_bytes(static_cast<double>(info.workspace_bytes)).c_str());
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
  w.Key("arena_bytes");
  w.Uint64(info.arena_bytes);
  w.Key("naive_activation_bytes");
  w.Uint64(info.naive_activation_bytes);
  w.Key("weights_bytes");
  w.Uint64(info.weights_bytes);
  w.Key("steps");
  w.StartArray();
  for (const PlanStepInfo& s : info.steps) {
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
