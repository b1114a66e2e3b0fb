#include "passes/pipeline.h"

#include <algorithm>

#include "ir/shape_inference.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "passes/cleanup/dead_node_elimination.h"
#include "passes/cleanup/identity_elimination.h"
#include "passes/fold/shape_to_constant.h"
#include "passes/pass.h"

namespace kiln::passes {
namespace {

// Folding one shape chain can make the next one static (a folded Reshape target gives its
// output a static shape, whose Shape then folds). Real models need two or three rounds.
constexpr int kMaxFoldRounds = 8;

// Passes in a stage run in order; a repeated stage runs again while any of its passes fired.
struct Stage {
  std::vector<Pass> passes;
  int max_rounds = 1;
};

// The whole optimizer, in order.
std::vector<Stage> pipeline_stages(const PipelineOptions& options) {
  const ConstantFoldingOptions folding{options.evaluate, options.max_folded_bytes};
  return {
      // Exported graphs carry no-op nodes (Identity, inference Dropout) that hide patterns
      // from every later pass; remove them first.
      {{{"identity-elimination", eliminate_identities}}},
      // Don't spend folding work on nodes no output needs.
      {{{"dead-node-elimination", eliminate_dead_nodes}}},
      // Shapes known at build time become constants, then everything computed only from
      // constants is evaluated once here instead of on every request; repeated because each
      // fold can make more shapes static.
      {{{"shape-to-constant", fold_shapes_to_constants},
        {"constant-folding", [folding](ir::Graph& g) { return fold_constants(g, folding); }}},
       kMaxFoldRounds},
      // Folding leaves constants and shape producers nothing reads any more.
      {{{"dead-node-elimination", eliminate_dead_nodes}}},
  };
}

Status check_after(ir::Graph& graph, const std::string& pass) {
  Status inferred = ir::infer_shapes(graph);
  if (!inferred.ok()) return inferred.with_context("shape inference after pass '" + pass + "'");
  Status verified = ir::verify(graph);
  if (!verified.ok()) return verified.with_context("IR verifier after pass '" + pass + "'");
  return {};
}

Status check_dump_after(const PipelineOptions& options) {
  if (options.dump_after.empty()) return {};
  if (!options.dump_stream) return invalid_argument("--dump-after is set but there is no stream to print to");
  if (options.dump_after == kDumpAfterAll) return {};
  const std::vector<std::string> names = pipeline_pass_names();
  if (std::find(names.begin(), names.end(), options.dump_after) != names.end()) return {};
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return invalid_argument("--dump-after names unknown pass '" + options.dump_after + "' (passes: " + list + ", or " +
                          kDumpAfterAll + ")");
}

Result<bool> run_one(ir::Graph& graph, const Pass& pass, const PipelineOptions& options) {
  PassRecord record{pass.name, false, graph.nodes().size(), 0};
  Result<bool> fired = pass.run(graph);
  if (!fired.ok()) return fired.status().with_context("pass '" + pass.name + "'");
  record.fired = *fired;
  record.nodes_after = graph.nodes().size();
  if (options.verify_each) KILN_RETURN_IF_ERROR(check_after(graph, pass.name));
  if (options.dump_after == kDumpAfterAll || options.dump_after == pass.name)
    *options.dump_stream << "// after " << pass.name << '\n' << ir::to_text(graph);
  if (options.report) options.report->passes.push_back(record);
  return record.fired;
}

}  // namespace

std::vector<std::string> pipeline_pass_names() {
  std::vector<std::string> names;
  for (const Stage& stage : pipeline_stages(PipelineOptions{}))
    for (const Pass& pass : stage.passes)
      if (std::find(names.begin(), names.end(), pass.name) == names.end()) names.push_back(pass.name);
  return names;
}

Status run_pipeline(ir::Graph& graph, const PipelineOptions& options) {
  KILN_RETURN_IF_ERROR(check_dump_after(options));
  for (const Stage& stage : pipeline_stages(options)) {
    for (int round = 0; round < stage.max_rounds; ++round) {
      bool any_fired = false;
      for (const Pass& pass : stage.passes) {
        KILN_ASSIGN_OR_RETURN(bool fired, run_one(graph, pass, options));
        any_fired = any_fired || fired;
      }
      if (!any_fired) break;
    }
  }
  return {};
}

}  // namespace kiln::passes
