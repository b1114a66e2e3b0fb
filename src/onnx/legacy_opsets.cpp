// Which ops of opsets 1-6 mean what their IR form means (ONNX docs/Changelog.md, one entry per
// op version). Ops not listed here are refused in such models.
#include "onnx/legacy_opsets.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <map>

#include "onnx/model_loader.h"

namespace kiln::onnx_import {
namespace {

// How an op's pre-7 versions relate to its IR form.
enum class LegacyForm {
  kSame,              // same meaning (possibly with consumed_inputs, which is dropped)
  kLegacyBroadcast,   // same, except that an 'axis' attribute selects axis-aligned broadcasting
  kUpgradedElsewhere, // the attribute forms are converted by opset_upgrade.cpp (its opset < N paths)
};

struct LegacyRule {
  LegacyForm form = LegacyForm::kSame;
  int64_t first_opset = kMinSupportedOpset;  // older versions of the op have another meaning
};

const std::map<std::string, LegacyRule>& legacy_rules() {
  static const std::map<std::string, LegacyRule> kRules = {
      // Elementwise unary ops and activations.
      {"Abs", {}}, {"Neg", {}}, {"Exp", {}}, {"Log", {}}, {"Sqrt", {}}, {"Reciprocal", {}},
      {"Floor", {}}, {"Ceil", {}}, {"Relu", {}}, {"Sigmoid", {}}, {"Tanh", {}}, {"Elu", {}},
      {"Selu", {}}, {"HardSigmoid", {}}, {"LeakyRelu", {}}, {"Softplus", {}}, {"Softsign", {}},
      {"Not", {}}, {"Identity", {}},
      // Variadic ops: same-shape inputs then, numpy broadcasting (a superset) now.
      {"Sum", {}}, {"Max", {}}, {"Min", {}}, {"Mean", {}},
      // Binary ops: 'broadcast' without 'axis' aligns trailing dims, as numpy does.
      {"Add", {LegacyForm::kLegacyBroadcast}}, {"Sub", {LegacyForm::kLegacyBroadcast}},
      {"Mul", {LegacyForm::kLegacyBroadcast}}, {"Div", {LegacyForm::kLegacyBroadcast}},
      {"Pow", {LegacyForm::kLegacyBroadcast}}, {"And", {LegacyForm::kLegacyBroadcast}},
      {"Or", {LegacyForm::kLegacyBroadcast}}, {"Xor", {LegacyForm::kLegacyBroadcast}},
      {"Equal", {LegacyForm::kLegacyBroadcast}}, {"Greater", {LegacyForm::kLegacyBroadcast}},
      {"Less", {LegacyForm::kLegacyBroadcast}},
      // Windows, normalization, linear algebra.
      {"Conv", {}}, {"ConvTranspose", {}}, {"MaxPool", {}}, {"AveragePool", {}},
      {"GlobalAveragePool", {}}, {"GlobalMaxPool", {}},
      {"GlobalLpPool", {LegacyForm::kSame, 2}},  // GlobalLpPool-1 took p as a float
      {"InstanceNormalization", {}}, {"LRN", {}}, {"LpNormalization", {}}, {"MatMul", {}},
      // Tensor manipulation.
      {"Transpose", {}}, {"Shape", {}}, {"Size", {}}, {"Flatten", {}}, {"Gather", {}},
      {"DepthToSpace", {}}, {"SpaceToDepth", {}}, {"ArgMax", {}}, {"ArgMin", {}}, {"Constant", {}},
      {"Concat", {LegacyForm::kSame, 4}},  // Concat-1's axis was optional with default 1
      {"Tile", {LegacyForm::kSame, 6}},    // Tile-1 took tiles and axis inputs
      // Attribute forms that opset_upgrade.cpp converts (it handles every opset below the IR form).
      {"Softmax", {LegacyForm::kUpgradedElsewhere}}, {"LogSoftmax", {LegacyForm::kUpgradedElsewhere}},
      {"Hardmax", {LegacyForm::kUpgradedElsewhere}}, {"Squeeze", {LegacyForm::kUpgradedElsewhere}},
      {"Unsqueeze", {LegacyForm::kUpgradedElsewhere}}, {"Slice", {LegacyForm::kUpgradedElsewhere}},
      {"TopK", {LegacyForm::kUpgradedElsewhere}}, {"Clip", {LegacyForm::kUpgradedElsewhere}},
      {"Dropout", {LegacyForm::kUpgradedElsewhere}},
      {"Split", {LegacyForm::kUpgradedElsewhere, 2}},  // Split-1 could take the sizes as an input
      {"Pad", {LegacyForm::kUpgradedElsewhere, 2}},    // Pad-1 named its attribute 'paddings'
      {"ReduceSum", {LegacyForm::kUpgradedElsewhere}}, {"ReduceMean", {LegacyForm::kUpgradedElsewhere}},
      {"ReduceMax", {LegacyForm::kUpgradedElsewhere}}, {"ReduceMin", {LegacyForm::kUpgradedElsewhere}},
      {"ReduceProd", {LegacyForm::kUpgradedElsewhere}}, {"ReduceL1", {LegacyForm::kUpgradedElsewhere}},
      {"ReduceL2", {LegacyForm::kUpgradedElsewhere}}, {"ReduceLogSum", {LegacyForm::kUpgradedElsewhere}},
      {"ReduceLogSumExp", {LegacyForm::kUpgradedElsewhere}},
      {"ReduceSumSquare", {LegacyForm::kUpgradedElsewhere}},
  };
  return kRules;
}

bool has_attribute(const onnx::NodeProto& node, const std::string& name) {
  return std::any_of(node.attribute().begin(), node.attribute().end(),
                     [&](const onnx::AttributeProto& attr) { return attr.name() == name; });
}

const char* const kConvertHint = "; convert the model to opset 7 or later with onnx.version_converter";

}  // namespace

std::optional<std::string> legacy_node_refusal(const onnx::NodeProto& node, int64_t opset) {
  if (opset >= kFirstModernOpset) return std::nullopt;
  const auto& rules = legacy_rules();
  auto it = rules.find(node.op_type());
  if (it == rules.end())
    return "its opset " + std::to_string(opset) + " form is not imported (kiln imports opsets below " +
           std::to_string(kFirstModernOpset) + " only for ops whose meaning has not changed)" + kConvertHint;
  const LegacyRule& rule = it->second;
  if (opset < rule.first_opset)
    return "its form before opset " + std::to_string(rule.first_opset) + " differs from the current one" + kConvertHint;
  if (rule.form == LegacyForm::kLegacyBroadcast && has_attribute(node, "axis"))
    return "it uses the legacy axis-aligned broadcasting (attribute 'axis')" + std::string(kConvertHint);
  return std::nullopt;
}

void drop_legacy_attributes(NodeDraft& node) {
  node.attrs.erase("consumed_inputs");
  node.attrs.erase("broadcast");
}

}  // namespace kiln::onnx_import
