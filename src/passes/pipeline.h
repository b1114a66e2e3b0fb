// The graph optimizer: runs the passes in a fixed order (pipeline.cpp lists it and says why),
// optionally printing the IR after a pass and verifying it after each one.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "passes/fold/constant_folding.h"

namespace kiln::passes {

#ifdef NDEBUG
constexpr bool kVerifyEachPassByDefault = false;
#else
constexpr bool kVerifyEachPassByDefault = true;
#endif

// What one pass run did.
struct PassRecord {
  std::string name;
  bool fired = false;
  size_t nodes_before = 0;
  size_t nodes_after = 0;
};

struct PipelineReport {
  std::vector<PassRecord> passes;  // in the order they ran (repeated passes appear repeatedly)
};

constexpr const char* kDumpAfterAll = "all";

struct PipelineOptions {
  // A pass name, or kDumpAfterAll: ir::to_text of the graph after it goes to dump_stream.
  std::string dump_after;
  std::ostream* dump_stream = nullptr;  // required when dump_after is set
  // Shape inference + verifier after every pass; the error names the pass that broke the IR.
  bool verify_each = kVerifyEachPassByDefault;
  // Evaluates nodes for constant folding; without one, constant folding is skipped.
  NodeEvaluator evaluate;
  int64_t max_folded_bytes = kDefaultMaxFoldedBytes;
  PipelineReport* report = nullptr;  // filled when set
  // Rewrite 2-D convs and pools to channels_last (passes/layout/channels_last.h). Only for
  // backends that run that attribute fast (CUDA: NHWC tensor-core convolutions); elsewhere the
  // Transposes at the borders are pure cost.
  bool channels_last = false;
  // After channels_last: FusedConvs whose channels are multiples of 16 run on 16-channel blocks
  // (passes/layout/channel_blocking.h). For the CPU backend (oneDNN's blocked convolutions).
  bool channel_blocked = false;
  // ScaledDotProductAttention reads Q/K/V sequence-major (passes/layout/attention_layout.h),
  // dropping the head-split Transposes, and reads them as slots of the packed Q/K/V projection
  // (passes/layout/packed_qkv_attention.h), dropping the Split. For backends whose attention
  // kernel takes strides.
  bool sequence_major_attention = false;
  // erf GELU becomes its tanh approximation (passes/precision/approximate_gelu.h): changes
  // results by up to 4.7e-4, lets the CUDA GEMM epilogue apply it. Opt-in.
  bool approximate_gelu = false;
};

Status run_pipeline(ir::Graph& graph, const PipelineOptions& options);

// Names of the passes in the pipeline, in order (for --dump-after validation and help text).
std::vector<std::string> pipeline_pass_names();

}  // namespace kiln::passes
