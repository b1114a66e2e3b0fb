#include "passes/pipeline.h"

#include <algorithm>

#include "ir/shape_inference.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "passes/cleanup/dead_node_elimination.h"
#include "passes/cleanup/identity_elimination.h"
#include "passes/fold/batch_norm_folding.h"
#include "passes/fold/shape_to_constant.h"
#include "passes/fuse/attention_fusion.h"
#include "passes/fuse/conv_fusion.h"
#include "passes/fuse/gelu_fusion.h"
#include "passes/fuse/horizontal_conv_fusion.h"
#include "passes/fuse/horizontal_matmul_fusion.h"
#include "passes/fuse/layer_norm_fusion.h"
#include "passes/fuse/matmul_fusion.h"
#include "passes/layout/attention_layout.h"
#include "passes/layout/attention_mask_rows.h"
#include "passes/layout/channel_blocking.h"
#include "passes/layout/channels_last.h"
#include "passes/layout/packed_qkv_attention.h"
#include "passes/layout/reshape_cancellation.h"
#include "passes/layout/transpose_cancellation.h"
#include "passes/pass.h"
#include "passes/precision/approximate_gelu.h"

namespace kiln::passes {
namespace {

// Folding one shape chain can make the next one static (a folded Reshape target gives its
// output a static shape, whose Shape then folds): a transformer folds about one layer per round,
// so the stage repeats until nothing fires; the cap only guards against a pass that never settles.
constexpr int kMaxFoldRounds = 256;

// Passes in a stage run in order; a repeated stage runs again while any of its passes fired.
struct Stage {
  std::vector<Pass> passes;
  int max_rounds = 1;
};

// The whole optimizer, in order.
std::vector<Stage> pipeline_stages(const PipelineOptions& options) {
  const ConstantFoldingOptions folding{options.evaluate, options.max_folded_bytes};
  std::vector<Stage> stages = {
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
      // Back-to-back layout moves are one move (or none); the fusions below then see the
      // canonical single Transpose (attention's K^T) and no redundant Reshapes.
      {{{"transpose-cancellation", cancel_transposes}}},
      {{{"reshape-cancellation", cancel_reshapes}}},
      // An inference BatchNormalization is an affine map per channel: folded into the conv or
      // matmul weights it costs nothing at run time.
      {{{"batch-norm-folding", fold_batch_norms}}},
      // Exporters decompose GELU and LayerNorm into 5 to 10 elementwise nodes; one op each is
      // one kernel (and the Gelu can then join the matmul before it).
      {{{"gelu-fusion", fuse_gelu}}},
      {{{"layer-norm-fusion", fuse_layer_norms}}},
      // The attention core as one op lets a backend run it without writing the [S, S] scores
      // to memory (flash attention); before matmul fusion, which must not take its MatMuls.
      {{{"attention-fusion", fuse_attention}}},
      // A padding mask materialized per query row is read as one row (the same for every query).
      {{{"attention-mask-rows", shrink_uniform_attention_masks}}},
      // Bias, residual and activation ride along in the conv's epilogue instead of a pass over
      // memory each; every Conv becomes FusedConv so backends implement one conv op.
      {{{"conv-fusion", fuse_conv_chains}}},
      // Same for matrix products: bias and activation in the GEMM epilogue.
      {{{"matmul-fusion", fuse_matmul_chains}}},
      // Sibling products of one input (attention's Q, K, V) become one wider product and a
      // Split: the input is read once and the GEMM is large enough to fill the machine.
      {{{"horizontal-matmul-fusion", fuse_sibling_matmuls}}},
      {{{"horizontal-conv-fusion", fuse_sibling_pointwise_convs}}},
  };
  // After the fusions, so every conv is one FusedConv (residual included) and whole conv
  // regions go channels-last with Transposes only at their borders.
  if (options.channels_last) stages.push_back({{{"channels-last", convert_to_channels_last}}});
  if (options.channels_last && options.channel_blocked)
    stages.push_back({{{"channel-blocking", convert_to_channel_blocked}}});
  // After attention fusion, which leaves the head-split Transposes of Q, K and V in place.
  // Then Q, K and V read straight from the fused projection instead of a Split's copies.
  if (options.sequence_major_attention) {
    stages.push_back({{{"sequence-major-attention", use_sequence_major_attention}}});
    stages.push_back({{{"packed-qkv-attention", use_packed_qkv_attention}}});
  }
  // After matmul fusion, so the activations it absorbed are rewritten where they now live.
  if (options.approximate_gelu) stages.push_back({{{"approximate-gelu", approximate_gelu}}});
  // Fusions leave weights and scale constants that nothing reads any more.
  stages.push_back({{{"dead-node-elimination", eliminate_dead_nodes}}});
  return stages;
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
  PipelineOptions every_pass;
  every_pass.channels_last = true;  // optional passes are valid --dump-after names too
  every_pass.channel_blocked = true;
  every_pass.sequence_major_attention = true;
  every_pass.approximate_gelu = true;
  for (const Stage& stage : pipeline_stages(every_pass))
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
