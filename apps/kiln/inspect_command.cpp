// kiln inspect MODEL [--json] [--shapes NAME:DxD,...]: the model report as a table or JSON.
#include <cstdio>
#include <memory>

#include <fmt/core.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "cli_common.h"
#include "commands.h"
#include "inspect_plan.h"
#include "kiln/plan_info.h"
#include "kiln/inspect.h"
#include "table.h"

namespace kiln::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  std::vector<std::string> shapes;
  InspectPasses passes;
};

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

std::string join_shapes(const std::vector<TensorInfo>& infos) {
  std::string out;
  for (const TensorInfo& info : infos) out += (out.empty() ? "" : " ") + shape_string(info);
  return out;
}

std::string optional_count(const std::optional<double>& v) { return v ? human_count(*v) : "?"; }
std::string optional_bytes(const std::optional<int64_t>& v) {
  return v ? human_bytes(static_cast<double>(*v)) : "?";
}

// The optimizer's record: which passes changed the graph and how the node count moved.
void print_passes(const ModelReport& report) {
  std::printf("\nPasses\n");
  using Align = TextTable::Align;
  TextTable table({"pass", "fired", "nodes before", "nodes after"},
                  {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight});
  for (const PassSummary& p : report.passes)
    table.add_row({p.name, p.fired ? "yes" : "no", std::to_string(p.nodes_before), std::to_string(p.nodes_after)});
  table.print(stdout);
}

void print_text(const ModelReport& report) {
  std::printf("Model: %s", report.path.c_str());
  if (!report.graph_name.empty()) std::printf("  (graph '%s'", report.graph_name.c_str());
  else std::printf("  (");
  std::printf("%sopset %lld)\n\n", report.graph_name.empty() ? "" : ", ", static_cast<long long>(report.opset));

  using Align = TextTable::Align;
  auto print_values = [](const char* title, const std::vector<TensorInfo>& values) {
    std::printf("%s\n", title);
    TextTable table({"name", "dtype", "shape"});
    for (const TensorInfo& v : values) table.add_row({v.name, std::string(dtype_name(v.dtype)), shape_string(v)});
    table.print(stdout);
    std::printf("\n");
  };
  print_values("Inputs", report.inputs);
  print_values("Outputs", report.outputs);

  std::printf("Nodes\n");
  TextTable nodes({"#", "op", "name", "inputs", "outputs", "dtype", "FLOPs", "bytes"},
                  {Align::kRight, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight,
                   Align::kRight});
  for (size_t i = 0; i < report.nodes.size(); ++i) {
    const NodeReport& n = report.nodes[i];
    nodes.add_row({std::to_string(i), n.op, n.name, join_shapes(n.inputs), join_shapes(n.outputs),
                   std::string(dtype_name(n.dtype)), optional_count(n.flops), optional_bytes(n.bytes)});
  }
  nodes.print(stdout);

  const std::string unknown = "unknown: some shapes are dynamic; fix them with --shapes";
  auto partial = [&](bool known, const std::string& text) {
    return known ? text : text == "0" || text == "0 B" ? unknown : text + " (" + unknown + ")";
  };
  std::printf("\nTotals\n");
  const std::pair<std::string, std::string> totals[] = {
      {"nodes", std::to_string(report.nodes.size())},
      {"FLOPs", partial(report.flops_known, report.total_flops == 0 ? "0"
                                                                     : fmt::format("{} ({:.0f})", human_count(report.total_flops),
                                                                                   report.total_flops))},
      {"parameters", fmt::format("{} ({})", human_count(static_cast<double>(report.parameter_count)),
                                 report.parameter_count)},
      {"parameter bytes", human_bytes(static_cast<double>(report.parameter_bytes))},
      {"activation bytes", partial(report.activation_bytes_known, human_bytes(static_cast<double>(report.activation_bytes)))},
  };
  for (const auto& [key, value] : totals) std::printf("  %-18s%s\n", (key + ":").c_str(), value.c_str());
  if (!report.passes.empty()) print_passes(report);
}

void write_tensor(JsonWriter& w, const TensorInfo& info) {
  w.StartObject();
  w.Key("name");
  w.String(info.name.c_str());
  w.Key("dtype");
  w.String(std::string(dtype_name(info.dtype)).c_str());
  // Known dims are numbers; unknown dims are their symbol, or "?" when unnamed.
  w.Key("shape");
  if (!info.rank_known) {
    w.Null();
  } else {
    w.StartArray();
    for (size_t d = 0; d < info.dims.size(); ++d) {
      if (info.dims[d] >= 0) w.Int64(info.dims[d]);
      else if (d < info.dim_names.size() && !info.dim_names[d].empty()) w.String(info.dim_names[d].c_str());
      else w.String("?");
    }
    w.EndArray();
  }
  w.EndObject();
}

void write_tensors(JsonWriter& w, const char* key, const std::vector<TensorInfo>& infos) {
  w.Key(key);
  w.StartArray();
  for (const TensorInfo& info : infos) write_tensor(w, info);
  w.EndArray();
}

void write_passes(JsonWriter& w, const std::vector<PassSummary>& passes) {
  w.Key("passes");
  w.StartArray();
  for (const PassSummary& p : passes) {
    w.StartObject();
    w.Key("name");
    w.String(p.name.c_str());
    w.Key("fired");
    w.Bool(p.fired);
    w.Key("nodes_before");
    w.Int64(p.nodes_before);
    w.Key("nodes_after");
    w.Int64(p.nodes_after);
    w.EndObject();
  }
  w.EndArray();
}

void print_json(const ModelReport& report) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("model");
  w.String(report.path.c_str());
  w.Key("graph");
  w.String(report.graph_name.c_str());
  w.Key("opset");
  w.Int64(report.opset);
  write_tensors(w, "inputs", report.inputs);
  write_tensors(w, "outputs", report.outputs);
  w.Key("nodes");
  w.StartArray();
  for (const NodeReport& n : report.nodes) {
    w.StartObject();
    w.Key("op");
    w.String(n.op.c_str());
    w.Key("name");
    w.String(n.name.c_str());
    w.Key("dtype");
    w.String(std::string(dtype_name(n.dtype)).c_str());
    write_tensors(w, "inputs", n.inputs);
    write_tensors(w, "outputs", n.outputs);
    w.Key("flops");
    if (n.flops) w.Double(*n.flops);
    else w.Null();
    w.Key("bytes");
    if (n.bytes) w.Int64(*n.bytes);
    else w.Null();
    w.EndObject();
  }
  w.EndArray();
  // Totals that depend on unknown shapes are null; the *_known_part fields keep the partial sums.
  w.Key("totals");
  w.StartObject();
  w.Key("nodes");
  w.Uint64(report.nodes.size());
  w.Key("flops");
  if (report.flops_known) w.Double(report.total_flops);
  else w.Null();
  w.Key("flops_known_part");
  w.Double(report.total_flops);
  w.Key("parameters");
  w.Int64(report.parameter_count);
  w.Key("parameter_bytes");
  w.Int64(report.parameter_bytes);
  w.Key("activation_bytes");
  if (report.activation_bytes_known) w.Int64(report.activation_bytes);
  else w.Null();
  w.Key("activation_bytes_known_part");
  w.Int64(report.activation_bytes);
  w.EndObject();
  if (!report.passes.empty()) write_passes(w, report.passes);
  w.EndObject();
  std::printf("%s\n", buffer.GetString());
}

Status run_inspect(const InspectOptions& options) {
  KILN_ASSIGN_OR_RETURN(auto shapes, parse_shape_specs(options.shapes));
  KILN_RETURN_IF_ERROR(check_model_file(options.model));
  if (is_plan_file(options.model)) {
    if (options.passes.run || !options.passes.dump_after.empty() || !shapes.empty())
      return invalid_argument("--passes, --dump-after and --shapes apply to .onnx models; a plan is already built");
    return inspect_plan(options.model, options.json);
  }
  KILN_ASSIGN_OR_RETURN(ModelReport report, inspect_model(options.model, shapes, options.passes));
  // The IR dump goes to stderr in JSON mode so stdout stays one JSON document.
  std::fputs(report.pass_dump.c_str(), options.json ? stderr : stdout);
  if (options.json) print_json(report);
  else print_text(report);
  return {};
}

}  // namespace

Subcommand add_inspect_command(CLI::App& parent) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* app = parent.add_subcommand("inspect", "Show a model's inputs, outputs, nodes, FLOPs and memory");
  app->add_option("model", options->model, "Model file (.onnx or .plan)")->required();
  app->add_flag("--json", options->json, "Machine-readable JSON instead of a table");
  app->add_option("--shapes", options->shapes, "Fix dynamic input dims: NAME:DxDxD[,NAME:DxD...]")
      ->allow_extra_args(false);
  app->add_flag("--passes", options->passes.run, "Run the graph optimizer first and list the passes that fired");
  app->add_option("--dump-after", options->passes.dump_after, "Print the IR after this pass (or 'all'); implies --passes");
  app->add_flag("--channels-last", options->passes.channels_last,
                "With --passes: include the channels-last rewrite that CUDA engines get");
  app->add_flag("--cuda", options->passes.cuda,
                "With --passes: the optimizer exactly as CUDA engines run it (channels-last, sequence-major and "
                "packed Q/K/V attention), on any machine");
  app->add_flag("--cpu", options->passes.cpu,
                "With --passes: the optimizer exactly as CPU engines run it (channels-last, then 16-channel blocked "
                "convs where the shapes are static)");
  return {app, [options] { return run_inspect(*options); }};
}

}  // namespace kiln::cli
