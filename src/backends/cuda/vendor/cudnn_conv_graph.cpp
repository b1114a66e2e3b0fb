#include "backends/cuda/vendor/cudnn_conv_graph.h"

#include <array>
#include <cstdio>
#include <optional>
#include <set>
#include <utility>

#include "backends/cuda/vendor/cudnn_backend_descriptor.h"
#include "backends/cuda/vendor/cudnn_engine_config.h"

namespace kiln::cuda {
namespace {

// Tensor uids, fixed per role: the variant pack names the data pointers by them.
enum TensorUid : int64_t {
  kUidX = 1,
  kUidW = 2,
  kUidBias = 3,
  kUidZ = 4,
  kUidY = 5,
  // Virtual (never stored) FP32 intermediates.
  kUidConvOut = 101,
  kUidBiasOut = 102,
  kUidResidualOut = 103,
};

// Every tensor is declared 16-byte aligned (the arena and constants are 256-byte aligned);
// tensor-core engines need it for their vector loads. run() checks the pointers.
constexpr int64_t kAlignment = 16;

// Tactic id layout below kConvGraphTacticBase: 10 bits of engine index, 20 of knob fingerprint.
constexpr int kFingerprintBits = 20;
constexpr int64_t kMaxEngineIndex = (int64_t{1} << 10) - 1;
constexpr uint32_t kFingerprintMask = (uint32_t{1} << kFingerprintBits) - 1;

// How many finalized plans each heuristic list contributes: enough to hold cuDNN's best
// guesses, few enough that the builder's timing of every tactic stays short (each plan is
// finalized again per prepare, and runtime-compiled engines compile then).
constexpr size_t kMaxHeuristicTactics = 8;
constexpr size_t kMaxFallbackTactics = 3;

struct HeuristicList {
  cudnnBackendHeurMode_t mode;
  const char* name;
  size_t max_tactics;
};
constexpr HeuristicList kHeuristicLists[] = {
    {CUDNN_HEUR_MODE_A, "heuristic A", kMaxHeuristicTactics},
    {CUDNN_HEUR_MODE_FALLBACK, "fallback", kMaxFallbackTactics},
};

using Dims = std::array<int64_t, 4>;

// Strides of a packed tensor with dims ordered [N, C, H, W] (cuDNN's order for every layout):
// the layout only changes the strides. Filters [K, C/g, R, S] follow the same rule (KCRS/KRSC).
Dims packed_strides(const Dims& d, ConvLayout layout) {
  if (layout == ConvLayout::kNCHW) return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
  return {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
}

Status validate(const ConvGraphConfig& c) {
  const ConvGeometry& g = c.geometry;
  for (int64_t v : {g.batch, g.in_channels, g.in_h, g.in_w, g.out_channels, g.kernel_h, g.kernel_w, g.groups, g.stride_h, g.stride_w,
                    g.dilation_h, g.dilation_w}) {
    if (v <= 0) return invalid_argument("ConvGraphPlan: sizes, strides, dilations and groups must be positive");
  }
  if (g.pad_h < 0 || g.pad_w < 0) return invalid_argument("ConvGraphPlan: negative padding");
  if (g.in_channels % g.groups != 0 || g.out_channels % g.groups != 0) {
    return invalid_argument("ConvGraphPlan: channels do not divide into " + std::to_string(g.groups) + " groups");
  }
  if (g.out_h() <= 0 || g.out_w() <= 0) return invalid_argument("ConvGraphPlan: the window does not fit in the padded input");
  return Status::ok_status();
}

const char* activation_name(GraphActivation a) {
  switch (a) {
    case GraphActivation::kNone: return "";
    case GraphActivation::kRelu: return "relu";
    case GraphActivation::kSigmoid: return "sigmoid";
    case GraphActivation::kTanh: return "tanh";
    case GraphActivation::kGeluErf: return "gelu";
    case GraphActivation::kGeluTanh: return "gelu_tanh";
  }
  return "?";
}

cudnnPointwiseMode_t activation_mode(GraphActivation a) {
  switch (a) {
    case GraphActivation::kRelu: return CUDNN_POINTWISE_RELU_FWD;
    case GraphActivation::kSigmoid: return CUDNN_POINTWISE_SIGMOID_FWD;
    case GraphActivation::kTanh: return CUDNN_POINTWISE_TANH_FWD;
    case GraphActivation::kGeluErf: return CUDNN_POINTWISE_GELU_FWD;
    case GraphActivation::kGeluTanh: return CUDNN_POINTWISE_GELU_APPROX_TANH_FWD;
    case GraphActivation::kNone: break;
  }
  return CUDNN_POINTWISE_IDENTITY;
}

// "conv NHWC float16 2x64x28x28 -> 128 3x3 /1 pad 1 + bias + Z + relu", for error messages.
std::string describe(const ConvGraphConfig& c) {
  const ConvGeometry& g = c.geometry;
  std::string s = std::string("conv ") + (c.layout == ConvLayout::kNHWC ? "NHWC " : "NCHW ") + std::string(dtype_name(c.dtype)) + " " +
                  std::to_string(g.batch) + "x" + std::to_string(g.in_channels) + "x" + std::to_string(g.in_h) + "x" +
                  std::to_string(g.in_w) + " -> " + std::to_string(g.out_channels) + " " + std::to_string(g.kernel_h) + "x" +
                  std::to_string(g.kernel_w) + " /" + std::to_string(g.stride_h) + " pad " + std::to_string(g.pad_h);
  if (g.groups > 1) s += " groups " + std::to_string(g.groups);
  if (c.has_bias) s += " + bias";
  if (c.has_residual) s += " + Z";
  if (c.activation != GraphActivation::kNone) s += std::string(" + ") + activation_name(c.activation);
  return s;
}

Result<BackendDescriptor> make_tensor(int64_t uid, cudnnDataType_t type, const Dims& dims, const Dims& strides, bool is_virtual) {
  KILN_ASSIGN_OR_RETURN(BackendDescriptor t, BackendDescriptor::create(CUDNN_BACKEND_TENSOR_DESCRIPTOR));
  const std::vector<int64_t> dim_values(dims.begin(), dims.end()), stride_values(strides.begin(), strides.end());
  KILN_RETURN_IF_ERROR(t.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_DATA_TYPE), CUDNN_TYPE_DATA_TYPE, type));
  KILN_RETURN_IF_ERROR(t.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_DIMENSIONS), CUDNN_TYPE_INT64, dim_values));
  KILN_RETURN_IF_ERROR(t.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_STRIDES), CUDNN_TYPE_INT64, stride_values));
  KILN_RETURN_IF_ERROR(t.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_UNIQUE_ID), CUDNN_TYPE_INT64, uid));
  KILN_RETURN_IF_ERROR(t.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT), CUDNN_TYPE_INT64, kAlignment));
  KILN_RETURN_IF_ERROR(t.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_IS_VIRTUAL), CUDNN_TYPE_BOOLEAN, is_virtual));
  KILN_RETURN_IF_ERROR(t.finalize().with_context("tensor uid " + std::to_string(uid)));
  return t;
}

// One pointwise operation y = mode(x[, b]) computed in FP32.
Result<BackendDescriptor> make_pointwise(cudnnPointwiseMode_t mode, const BackendDescriptor& x, const BackendDescriptor* b,
                                         const BackendDescriptor& y, std::vector<BackendDescriptor>& keep) {
  KILN_ASSIGN_OR_RETURN(BackendDescriptor pw, BackendDescriptor::create(CUDNN_BACKEND_POINTWISE_DESCRIPTOR));
  KILN_RETURN_IF_ERROR(pw.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_POINTWISE_MODE), CUDNN_TYPE_POINTWISE_MODE, mode));
  KILN_RETURN_IF_ERROR(pw.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_POINTWISE_MATH_PREC), CUDNN_TYPE_DATA_TYPE, CUDNN_DATA_FLOAT));
  KILN_RETURN_IF_ERROR(pw.finalize());
  KILN_ASSIGN_OR_RETURN(BackendDescriptor op, BackendDescriptor::create(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR));
  KILN_RETURN_IF_ERROR(op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR), pw));
  KILN_RETURN_IF_ERROR(op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_XDESC), x));
  if (b != nullptr) KILN_RETURN_IF_ERROR(op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_BDESC), *b));
  KILN_RETURN_IF_ERROR(op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_YDESC), y));
  KILN_RETURN_IF_ERROR(op.finalize());
  keep.push_back(std::move(pw));
  return op;
}

}  // namespace

// The finalized operation graph with every descriptor it refers to, and later its plan: kept
// together for the plan's lifetime (cuDNN documents no ownership between descriptors).
struct ConvGraphPlan::State {
  std::vector<BackendDescriptor> keep;  // tensors, the convolution descriptor, pointwise descriptors, operations
  BackendDescriptor graph;
  BackendDescriptor engine_config;
  BackendDescriptor plan;

  Status build(cudnnHandle_t handle, const ConvGraphConfig& c) {
    KILN_RETURN_IF_ERROR(validate(c));
    KILN_ASSIGN_OR_RETURN(const cudnnDataType_t io, cudnn_data_type(c.dtype));
    const ConvGeometry& g = c.geometry;
    const Dims x_dims{g.batch, g.in_channels, g.in_h, g.in_w};
    const Dims w_dims{g.out_channels, g.in_channels / g.groups, g.kernel_h, g.kernel_w};  // groups: C/g in W
    const Dims y_dims{g.batch, g.out_channels, g.out_h(), g.out_w()};
    const Dims bias_dims{1, g.out_channels, 1, 1};
    const Dims y_strides = packed_strides(y_dims, c.layout);

    KILN_ASSIGN_OR_RETURN(BackendDescriptor x, make_tensor(kUidX, io, x_dims, packed_strides(x_dims, c.layout), false));
    KILN_ASSIGN_OR_RETURN(BackendDescriptor w, make_tensor(kUidW, io, w_dims, packed_strides(w_dims, c.layout), false));
    KILN_ASSIGN_OR_RETURN(BackendDescriptor y, make_tensor(kUidY, io, y_dims, y_strides, false));
    // The epilogue, in order; the last step writes Y, the others virtual FP32 tensors.
    std::vector<std::pair<cudnnPointwiseMode_t, int64_t>> steps;  // mode, uid of the second operand (0: unary)
    if (c.has_bias) steps.emplace_back(CUDNN_POINTWISE_ADD, kUidBias);
    if (c.has_residual) steps.emplace_back(CUDNN_POINTWISE_ADD, kUidZ);
    if (c.activation != GraphActivation::kNone) steps.emplace_back(activation_mode(c.activation), 0);
    const bool fused = !steps.empty();

    // A bare convolution writes Y itself; a fused one an FP32 virtual tensor the epilogue reads.
    BackendDescriptor conv_out;
    if (fused) {
      KILN_ASSIGN_OR_RETURN(conv_out, make_tensor(kUidConvOut, CUDNN_DATA_FLOAT, y_dims, y_strides, true));
    }
    const BackendDescriptor& conv_y = fused ? conv_out : y;

    KILN_ASSIGN_OR_RETURN(BackendDescriptor conv, BackendDescriptor::create(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR));
    const std::vector<int64_t> dilations{g.dilation_h, g.dilation_w}, strides{g.stride_h, g.stride_w}, pads{g.pad_h, g.pad_w};
    KILN_RETURN_IF_ERROR(conv.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS), CUDNN_TYPE_INT64, int64_t{2}));
    KILN_RETURN_IF_ERROR(conv.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_COMP_TYPE), CUDNN_TYPE_DATA_TYPE, CUDNN_DATA_FLOAT));
    KILN_RETURN_IF_ERROR(conv.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_CONV_MODE), CUDNN_TYPE_CONVOLUTION_MODE, CUDNN_CROSS_CORRELATION));
    KILN_RETURN_IF_ERROR(conv.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_DILATIONS), CUDNN_TYPE_INT64, dilations));
    KILN_RETURN_IF_ERROR(conv.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES), CUDNN_TYPE_INT64, strides));
    KILN_RETURN_IF_ERROR(conv.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS), CUDNN_TYPE_INT64, pads));
    KILN_RETURN_IF_ERROR(conv.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS), CUDNN_TYPE_INT64, pads));
    KILN_RETURN_IF_ERROR(conv.finalize());

    KILN_ASSIGN_OR_RETURN(BackendDescriptor conv_op, BackendDescriptor::create(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR));
    // alpha/beta are float for FP32 compute (double only for double compute).
    constexpr float kAlpha = 1.0f, kBeta = 0.0f;
    KILN_RETURN_IF_ERROR(conv_op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X), x));
    KILN_RETURN_IF_ERROR(conv_op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W), w));
    KILN_RETURN_IF_ERROR(conv_op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y), conv_y));
    KILN_RETURN_IF_ERROR(conv_op.set_descriptor(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC), conv));
    KILN_RETURN_IF_ERROR(conv_op.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA), CUDNN_TYPE_FLOAT, kAlpha));
    KILN_RETURN_IF_ERROR(conv_op.set_value(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA), CUDNN_TYPE_FLOAT, kBeta));
    KILN_RETURN_IF_ERROR(conv_op.finalize().with_context("convolution forward operation"));

    std::vector<cudnnBackendDescriptor_t> ops{conv_op.get()};
    std::vector<BackendDescriptor> step_ops;
    // `previous` walks the chain: the conv's output, then each step's.
    const BackendDescriptor* previous = &conv_y;
    std::vector<BackendDescriptor> intermediates;
    intermediates.reserve(steps.size());  // stable addresses for `previous`
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto [mode, operand_uid] = steps[i];
      const bool last = i + 1 == steps.size();
      const BackendDescriptor* out = &y;
      if (!last) {
        const int64_t uid = operand_uid == kUidBias ? kUidBiasOut : kUidResidualOut;
        KILN_ASSIGN_OR_RETURN(BackendDescriptor t, make_tensor(uid, CUDNN_DATA_FLOAT, y_dims, y_strides, true));
        intermediates.push_back(std::move(t));
        out = &intermediates.back();
      }
      BackendDescriptor operand;
      if (operand_uid == kUidBias) {
        KILN_ASSIGN_OR_RETURN(operand, make_tensor(kUidBias, io, bias_dims, packed_strides(bias_dims, c.layout), false));
      } else if (operand_uid == kUidZ) {
        KILN_ASSIGN_OR_RETURN(operand, make_tensor(kUidZ, io, y_dims, y_strides, false));
      }
      KILN_ASSIGN_OR_RETURN(BackendDescriptor op, make_pointwise(mode, *previous, operand_uid != 0 ? &operand : nullptr, *out, keep));
      ops.push_back(op.get());
      step_ops.push_back(std::move(op));
      if (operand_uid != 0) keep.push_back(std::move(operand));
      previous = out;
    }

    KILN_ASSIGN_OR_RETURN(graph, BackendDescriptor::create(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR));
    KILN_RETURN_IF_ERROR(set_graph_handle(graph, handle));
    KILN_RETURN_IF_ERROR(graph.set_values(KILN_CUDNN_ATTR(CUDNN_ATTR_OPERATIONGRAPH_OPS), CUDNN_TYPE_BACKEND_DESCRIPTOR, ops));
    KILN_RETURN_IF_ERROR(graph.finalize().with_context("operation graph of " + describe(c)));

    for (BackendDescriptor* d : {&x, &w, &y, &conv_out, &conv, &conv_op}) keep.push_back(std::move(*d));
    for (BackendDescriptor& d : intermediates) keep.push_back(std::move(d));
    for (BackendDescriptor& d : step_ops) keep.push_back(std::move(d));
    return Status::ok_status();
  }
};

namespace {

// What keeps a configuration from being a tactic, or nullopt when it is fine. FP32 storage
// wants FP32 math: no TF32 (unless allowed), no inputs down-converted to 16 bits, no Winograd
// (its transforms cost about 2e-5 relative error, over the FP32 bound); no dtype wants
// reduced-precision (16-bit) accumulation.
std::optional<std::string> numerics_veto(const EngineConfigFacts& f, const ConvGraphConfig& c) {
  if (f.has(CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION)) return "reduced-precision reduction";
  if (c.dtype != DType::kFloat32) return std::nullopt;
  if (f.has(CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS)) return "down-converts FP32 inputs";
  if (!c.allow_tf32 && f.has(CUDNN_NUMERICAL_NOTE_TENSOR_CORE)) return "TF32 tensor cores (not allowed)";
  for (cudnnBackendNumericalNote_t n : {CUDNN_NUMERICAL_NOTE_WINOGRAD, CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4, CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6,
                                        CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13}) {
    if (f.has(n)) return "Winograd on FP32";
  }
  return std::nullopt;
}

Result<int32_t> tactic_of(const EngineConfigFacts& f) {
  if (f.engine < 0 || f.engine > kMaxEngineIndex) {
    return unimplemented("cuDNN engine index " + std::to_string(f.engine) + " does not fit a kiln tactic id");
  }
  const uint64_t h = f.knob_fingerprint;
  const auto folded = static_cast<uint32_t>((h ^ (h >> 20) ^ (h >> 40) ^ (h >> 60)) & kFingerprintMask);
  return kConvGraphTacticBase | static_cast<int32_t>(f.engine << kFingerprintBits) | static_cast<int32_t>(folded);
}

std::string tactic_name(const EngineConfigFacts& f, const HeuristicList& list, size_t index, int32_t tactic) {
  std::array<char, 16> knobs{};
  std::snprintf(knobs.data(), knobs.size(), "%05x", static_cast<unsigned>(tactic) & kFingerprintMask);
  // "runtime compiled": the plan compiles its kernel at finalize (NVRTC), so it costs build and load time.
  const bool compiled = f.has(CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION);
  return "cudnn graph engine " + std::to_string(f.engine) + " (" + list.name + " #" + std::to_string(index) + ", knobs " + knobs.data() +
         (compiled ? ", runtime compiled)" : ")");
}

// A configuration that passed the checks, with its finalized plan.
struct Accepted {
  EngineConfigFacts facts;
  BackendDescriptor config;
  BackendDescriptor plan;
  size_t workspace_bytes = 0;
};

// Checks one configuration and finalizes its plan; an error says why it is not a tactic.
Result<Accepted> accept(cudnnHandle_t handle, const ConvGraphConfig& c, EngineConfigFacts facts, BackendDescriptor config) {
  if (const std::optional<std::string> veto = numerics_veto(facts, c)) return unimplemented(*veto);
  if (facts.workspace_bytes > static_cast<int64_t>(kConvGraphWorkspaceLimit)) return resource_exhausted("workspace over the limit");
  KILN_ASSIGN_OR_RETURN(BackendDescriptor plan, finalize_execution_plan(handle, config));
  KILN_ASSIGN_OR_RETURN(const int64_t workspace, plan.get_int64(KILN_CUDNN_ATTR(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE)));
  if (workspace < 0 || workspace > static_cast<int64_t>(kConvGraphWorkspaceLimit)) return resource_exhausted("workspace over the limit");
  return Accepted{std::move(facts), std::move(config), std::move(plan), static_cast<size_t>(workspace)};
}

}  // namespace

Result<std::vector<ConvGraphEngine>> ConvGraphPlan::engines(std::shared_ptr<CudnnHandle> handle, const ConvGraphConfig& config) {
  return handle->locked([&](cudnnHandle_t h) -> Result<std::vector<ConvGraphEngine>> {
    State state;
    KILN_RETURN_IF_ERROR(state.build(h, config));
    std::vector<ConvGraphEngine> found;
    std::set<int32_t> seen;
    std::string last_refusal;
    for (const HeuristicList& list : kHeuristicLists) {
      Result<DescriptorArray> configs = heuristic_configs(state.graph, list.mode);
      if (!configs.ok()) {
        last_refusal = configs.status().message();
        continue;
      }
      size_t taken = 0;
      for (size_t i = 0; i < configs->owned.size(); ++i) {
        Result<EngineConfigFacts> facts = engine_config_facts(configs->owned[i]);
        if (!facts.ok()) {
          last_refusal = facts.status().message();
          continue;
        }
        Result<int32_t> tactic = tactic_of(*facts);
        // The first configuration with an id is the one create() finds again: later ones with
        // the same engine and fingerprint are the same configuration (or a collision) and
        // skipped. Past the list's quota the ids are still marked seen, so that the fallback
        // list never offers, under its own name, a configuration create() finds in list A.
        if (!tactic.ok() || !seen.insert(*tactic).second || taken >= list.max_tactics) continue;
        const std::string name = tactic_name(*facts, list, i, *tactic);
        Result<Accepted> accepted = accept(h, config, std::move(facts).value(), std::move(configs->owned[i]));
        if (!accepted.ok()) {
          last_refusal = name + ": " + accepted.status().message();
          continue;
        }
        found.push_back({*tactic, name, accepted->workspace_bytes});
        ++taken;
      }
    }
    if (found.empty()) {
      return unimplemented("cuDNN graph API: no engine for " + describe(config) + (last_refusal.empty() ? "" : " (last refusal: " + last_refusal + ")"));
    }
    return found;
  });
}

Result<ConvGraphPlan> ConvGraphPlan::create(std::shared_ptr<CudnnHandle> handle, const ConvGraphConfig& config, int32_t tactic) {
  if (!is_conv_graph_tactic(tactic)) return invalid_argument("ConvGraphPlan: " + std::to_string(tactic) + " is not a graph tactic id");
  ConvGraphPlan plan;
  plan.handle_ = handle;
  plan.config_ = config;
  plan.state_ = std::make_unique<State>();
  const Status status = handle->locked([&](cudnnHandle_t h) -> Status {
    State& state = *plan.state_;
    KILN_RETURN_IF_ERROR(state.build(h, config));
    std::string refusal;
    for (const HeuristicList& list : kHeuristicLists) {
      Result<DescriptorArray> configs = heuristic_configs(state.graph, list.mode);
      if (!configs.ok()) continue;
      for (size_t i = 0; i < configs->owned.size(); ++i) {
        Result<EngineConfigFacts> facts = engine_config_facts(configs->owned[i]);
        if (!facts.ok()) continue;
        Result<int32_t> id = tactic_of(*facts);
        if (!id.ok() || *id != tactic) continue;
        const std::string name = tactic_name(*facts, list, i, tactic);
        Result<Accepted> accepted = accept(h, config, std::move(facts).value(), std::move(configs->owned[i]));
        if (!accepted.ok()) {
          refusal = name + ": " + accepted.status().message();
          continue;
        }
        state.engine_config = std::move(accepted->config);
        state.plan = std::move(accepted->plan);
        plan.workspace_bytes_ = accepted->workspace_bytes;
        plan.name_ = name;
        return Status::ok_status();
      }
    }
    const int64_t engine = (static_cast<int64_t>(tactic) - kConvGraphTacticBase) >> kFingerprintBits;
    return not_found("cuDNN graph engine " + std::to_string(engine) + " with knob fingerprint " +
                     std::to_string(static_cast<uint32_t>(tactic) & kFingerprintMask) + " is not offered for " + describe(config) +
                     (refusal.empty() ? " (a plan built with another cuDNN or GPU?)" : " (" + refusal + ")"));
  });
  KILN_RETURN_IF_ERROR(status);
  return plan;
}

ConvGraphPlan::~ConvGraphPlan() = default;
ConvGraphPlan::ConvGraphPlan(ConvGraphPlan&& other) noexcept = default;
ConvGraphPlan& ConvGraphPlan::operator=(ConvGraphPlan&& other) noexcept = default;

Status ConvGraphPlan::run(const void* x, const void* w, const void* bias, const void* z, void* y, void* workspace,
                          cudaStream_t stream) const {
  if (state_ == nullptr) return failed_precondition("ConvGraphPlan::run on an empty (moved-from) plan");
  if (workspace_bytes_ > 0 && workspace == nullptr) {
    return invalid_argument("ConvGraphPlan::run: the plan needs " + std::to_string(workspace_bytes_) + " bytes of workspace");
  }
  if (config_.has_bias && bias == nullptr) return invalid_argument("ConvGraphPlan::run: the graph adds a bias; none given");
  if (config_.has_residual && z == nullptr) return invalid_argument("ConvGraphPlan::run: the graph adds Z; none given");
  // The variant pack takes void*; cuDNN only reads X, W, bias and Z.
  std::array<int64_t, 5> uids{kUidX, kUidW, kUidY, 0, 0};
  std::array<void*, 5> pointers{const_cast<void*>(x), const_cast<void*>(w), y, nullptr, nullptr};
  size_t count = 3;
  if (config_.has_bias) {
    uids[count] = kUidBias;
    pointers[count++] = const_cast<void*>(bias);
  }
  if (config_.has_residual) {
    uids[count] = kUidZ;
    pointers[count++] = const_cast<void*>(z);
  }
  for (size_t i = 0; i < count; ++i) {
    if (pointers[i] == nullptr || reinterpret_cast<uintptr_t>(pointers[i]) % kAlignment != 0) {
      return invalid_argument("ConvGraphPlan::run: tensor uid " + std::to_string(uids[i]) + " is null or not 16-byte aligned");
    }
  }
  // Made per call: one execution context's pointers never leak into another's call, and the
  // kernel stays re-entrant. Host-side only (no device memory, nothing a capture would record).
  KILN_ASSIGN_OR_RETURN(BackendDescriptor pack, BackendDescriptor::create(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR));
  KILN_RETURN_IF_ERROR(pack.set(KILN_CUDNN_ATTR(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS), CUDNN_TYPE_INT64, static_cast<int64_t>(count), uids.data()));
  KILN_RETURN_IF_ERROR(pack.set(KILN_CUDNN_ATTR(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS), CUDNN_TYPE_VOID_PTR, static_cast<int64_t>(count),
                                pointers.data()));
  void* workspace_pointer = workspace;
  KILN_RETURN_IF_ERROR(pack.set(KILN_CUDNN_ATTR(CUDNN_ATTR_VARIANT_PACK_WORKSPACE), CUDNN_TYPE_VOID_PTR, 1, &workspace_pointer));
  KILN_RETURN_IF_ERROR(pack.finalize());
  return handle_->on_stream(stream, [&](cudnnHandle_t h) -> Status {
    const cudnnStatus_t status = cudnnBackendExecute(h, state_->plan.get(), pack.get());
    if (status == CUDNN_STATUS_SUCCESS) return Status::ok_status();
    return cudnn_backend_status(status, "cudnnBackendExecute(" + name_ + ")");
  });
}

}  // namespace kiln::cuda
