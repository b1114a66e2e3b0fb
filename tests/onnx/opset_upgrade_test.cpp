// Older opsets are brought into the IR form (opset 17; Reduce* in the opset-18 form).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/graph_executor.h"
#include "model_builder.h"

namespace kiln::onnx_test {
namespace {

using onnx::TensorProto;

std::vector<int64_t> int_constant(const ir::Value* v) {
  EXPECT_NE(v, nullptr);
  if (v == nullptr || !v->is_constant()) return {};
  const Tensor* t = v->constant();
  EXPECT_EQ(t->dtype(), DType::kInt64);
  return {t->data<int64_t>(), t->data<int64_t>() + t->numel()};
}

Result<ir::Graph> single_node(int64_t opset, const std::string& op, const std::vector<int64_t>& input_dims,
                              void (*configure)(onnx::NodeProto*), std::vector<std::string> extra_inputs = {},
                              int32_t elem_type = TensorProto::FLOAT) {
  ModelBuilder m(opset);
  m.input("x", elem_type, input_dims);
  std::vector<std::string> inputs = {"x"};
  inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
  configure(m.node(op, inputs, {"y"}, "n"));
  m.output("y");
  return m.import();
}

TEST(OpsetUpgrade, SqueezeAndUnsqueezeAxesBecomeInputs) {
  for (const char* op : {"Squeeze", "Unsqueeze"}) {
    auto graph = single_node(11, op, {1, 3, 1}, [](onnx::NodeProto* n) { set_ints(n, "axes", {0, 2}); });
    ASSERT_TRUE(graph.ok()) << graph.status().to_string();
    const ir::Node* node = producer_of(*graph, "y");
    EXPECT_FALSE(node->attrs().has("axes"));
    ASSERT_EQ(node->inputs().size(), 2u);
    EXPECT_EQ(int_constant(node->input(1)), (std::vector<int64_t>{0, 2}));
  }
  // Squeeze-11 without axes: squeeze all unit dims, the same as an absent axes input.
  auto all = single_node(11, "Squeeze", {1, 3, 1}, [](onnx::NodeProto*) {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(producer_of(*all, "y")->input(1), nullptr);
  // Opset 13 already has the IR form.
  auto current = single_node(13, "Squeeze", {1, 3}, [](onnx::NodeProto*) {});
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(producer_of(*current, "y")->inputs().size(), 1u);
}

TEST(OpsetUpgrade, SqueezeOpset11InfersLikeOpset13) {
  auto graph = single_node(11, "Squeeze", {1, 3, 1}, [](onnx::NodeProto* n) { set_ints(n, "axes", {0, 2}); });
  ASSERT_TRUE(graph.ok());
  ModelBuilder m(11);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 3, 1});
  set_ints(m.node("Squeeze", {"x"}, {"y"}, "n"), "axes", {0, 2});
  m.output("y");
  auto inferred = m.import(/*infer_and_verify=*/true);
  ASSERT_TRUE(inferred.ok()) << inferred.status().to_string();
  EXPECT_EQ(inferred->find_value("y")->type().to_string(), "float32[3]");
}

TEST(OpsetUpgrade, SplitSizesBecomeInput) {
  ModelBuilder m(11);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{6});
  auto* n = m.node("Split", {"x"}, {"a", "b"}, "split");
  set_ints(n, "split", {2, 4});
  set_int(n, "axis", 0);
  m.output("a");
  m.output("b");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* node = producer_of(*graph, "a");
  EXPECT_EQ(int_constant(node->input(1)), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(node->attrs().get_int("axis", -1), 0);
}

TEST(OpsetUpgrade, ReduceAxesBecomeInputs) {
  // ReduceSum took axes as an input in 13; every other Reduce* only in 18.
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {11, "ReduceSum"}, {11, "ReduceMean"}, {17, "ReduceMax"}, {13, "ReduceL2"}, {17, "ReduceLogSumExp"}};
  for (const auto& [opset, op] : cases) {
    SCOPED_TRACE(op + " opset " + std::to_string(opset));
    auto graph = single_node(opset, op, {2, 3, 4}, [](onnx::NodeProto* n) {
      set_ints(n, "axes", {1, -1});
      set_int(n, "keepdims", 0);
    });
    ASSERT_TRUE(graph.ok()) << graph.status().to_string();
    const ir::Node* node = producer_of(*graph, "y");
    EXPECT_FALSE(node->attrs().has("axes"));
    EXPECT_EQ(node->attrs().get_int("keepdims", 1), 0);
    EXPECT_EQ(int_constant(node->input(1)), (std::vector<int64_t>{1, -1}));
  }
  ModelBuilder m(13);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
  m.int64_initializer("axes", {1}, {1});
  m.node("ReduceSum", {"x", "axes"}, {"y"}, "n");
  m.output("y");
  auto current = m.import();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(producer_of(*current, "y")->input(1)->name(), "axes");
}

TEST(OpsetUpgrade, SliceAttributesBecomeInputs) {
  auto graph = single_node(9, "Slice", {4, 5}, [](onnx::NodeProto* n) {
    set_ints(n, "starts", {1, 0});
    set_ints(n, "ends", {3, 5});
    set_ints(n, "axes", {0, 1});
  });
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* node = producer_of(*graph, "y");
  EXPECT_EQ(int_constant(node->input(1)), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(int_constant(node->input(2)), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(int_constant(node->input(3)), (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(node->attrs().empty());
}

TEST(OpsetUpgrade, PadAttributesBecomeInputs) {
  auto graph = single_node(10, "Pad", {2, 2}, [](onnx::NodeProto* n) {
    set_ints(n, "pads", {0, 1, 0, 1});
    set_float(n, "value", 1.5f);
    set_string(n, "mode", "constant");
  });
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* node = producer_of(*graph, "y");
  EXPECT_EQ(int_constant(node->input(1)), (std::vector<int64_t>{0, 1, 0, 1}));
  ASSERT_NE(node->input(2), nullptr);
  EXPECT_EQ(node->input(2)->constant()->dtype(), DType::kFloat32);
  EXPECT_EQ(node->input(2)->constant()->data<float>()[0], 1.5f);
  EXPECT_EQ(node->attrs().get_string("mode", ""), "constant");
  EXPECT_FALSE(node->attrs().has("value"));

  auto zero = single_node(10, "Pad", {2, 2}, [](onnx::NodeProto* n) { set_ints(n, "pads", {0, 1, 0, 1}); });
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(producer_of(*zero, "y")->input(2), nullptr);
}

TEST(OpsetUpgrade, PadValueOfUndeclaredDtypeIsCastAtRunTime) {
  ModelBuilder m(10);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
  m.node("Relu", {"x"}, {"h"}, "relu");  // h has no declared type
  auto* pad = m.node("Pad", {"h"}, {"y"}, "pad");
  set_ints(pad, "pads", {1, 1});
  set_float(pad, "value", -2.0f);
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* node = producer_of(*graph, "y");
  ASSERT_NE(node->input(2), nullptr);
  ASSERT_NE(node->input(2)->producer(), nullptr);
  EXPECT_EQ(node->input(2)->producer()->op(), OpKind::CastLike);
}

TEST(OpsetUpgrade, ClipBoundsBecomeInputs) {
  auto both = single_node(10, "Clip", {4}, [](onnx::NodeProto* n) {
    set_float(n, "min", -0.5f);
    set_float(n, "max", 0.75f);
  }, {}, TensorProto::DOUBLE);
  ASSERT_TRUE(both.ok()) << both.status().to_string();
  const ir::Node* node = producer_of(*both, "y");
  EXPECT_EQ(node->input(1)->constant()->dtype(), DType::kFloat64);
  EXPECT_EQ(node->input(1)->constant()->data<double>()[0], -0.5);
  EXPECT_EQ(node->input(2)->constant()->data<double>()[0], 0.75);

  auto max_only = single_node(6 + 1, "Clip", {4}, [](onnx::NodeProto* n) { set_float(n, "max", 6.0f); });
  ASSERT_TRUE(max_only.ok());
  const ir::Node* relu6 = producer_of(*max_only, "y");
  EXPECT_EQ(relu6->input(1), nullptr);
  EXPECT_EQ(relu6->input(2)->constant()->data<float>()[0], 6.0f);
}

TEST(OpsetUpgrade, TopKAndDropout) {
  ModelBuilder m(9);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 8});
  set_int(m.node("TopK", {"x"}, {"v", "i"}, "topk"), "k", 3);
  set_float(m.node("Dropout", {"x"}, {"d"}, "drop"), "ratio", 0.25f);
  m.output("v");
  m.output("d");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(int_constant(producer_of(*graph, "v")->input(1)), (std::vector<int64_t>{3}));
  const ir::Node* drop = producer_of(*graph, "d");
  EXPECT_FALSE(drop->attrs().has("ratio"));
  EXPECT_EQ(drop->input(1)->constant()->data<float>()[0], 0.25f);
}

TEST(OpsetUpgrade, UpsampleAndResize10BecomeResize11Form) {
  auto up7 = single_node(7, "Upsample", {1, 1, 2, 2}, [](onnx::NodeProto* n) {
    set_floats(n, "scales", {1.0f, 1.0f, 2.0f, 2.0f});
  });
  ASSERT_TRUE(up7.ok()) << up7.status().to_string();
  const ir::Node* r = producer_of(*up7, "y");
  EXPECT_EQ(r->op(), OpKind::Resize);
  ASSERT_EQ(r->inputs().size(), 3u);
  EXPECT_EQ(r->input(1), nullptr);
  EXPECT_EQ(r->input(2)->constant()->data<float>()[3], 2.0f);
  EXPECT_EQ(r->attrs().get_string("coordinate_transformation_mode", ""), "asymmetric");
  EXPECT_EQ(r->attrs().get_string("nearest_mode", ""), "floor");
  EXPECT_EQ(r->attrs().get_string("mode", ""), "nearest");

  for (const auto& [opset, op] : std::vector<std::pair<int64_t, std::string>>{{9, "Upsample"}, {10, "Resize"}}) {
    ModelBuilder m(opset);
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 1, 2, 2});
    m.initializer("scales", {4}, {1.0f, 1.0f, 2.0f, 3.0f});
    set_string(m.node(op, {"x", "scales"}, {"y"}, "up"), "mode", "linear");
    m.output("y");
    auto graph = m.import();
    ASSERT_TRUE(graph.ok()) << graph.status().to_string();
    const ir::Node* node = producer_of(*graph, "y");
    EXPECT_EQ(node->op(), OpKind::Resize);
    EXPECT_EQ(node->input(1), nullptr);
    EXPECT_EQ(node->input(2)->name(), "scales");
    EXPECT_EQ(node->attrs().get_string("mode", ""), "linear");
    EXPECT_EQ(node->attrs().get_string("coordinate_transformation_mode", ""), "asymmetric");
    EXPECT_FALSE(node->attrs().has("nearest_mode"));
  }
}

TEST(OpsetUpgrade, BatchNormLegacyAttributes) {
  ModelBuilder m(7);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 2, 3, 3});
  for (const char* p : {"scale", "bias", "mean", "var"}) m.initializer(p, {2}, {1.0f, 0.5f});
  auto* bn = m.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y", "m", "v", "sm", "sv"}, "bn");
  set_int(bn, "spatial", 1);
  set_float(bn, "epsilon", 1e-3f);
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* node = producer_of(*graph, "y");
  EXPECT_FALSE(node->attrs().has("spatial"));
  EXPECT_EQ(node->outputs().size(), 1u);
  EXPECT_EQ(node->attrs().get_float("epsilon", 0.0f), 1e-3f);

  m.graph().mutable_node(0)->mutable_attribute(0)->set_i(0);
  auto per_activation = m.import();
  EXPECT_EQ(per_activation.status().code(), StatusCode::kUnimplemented);
}

TEST(OpsetUpgrade, SoftmaxOnLastAxisStaysOneNode) {
  auto graph = single_node(11, "Softmax", {2, 3, 4}, [](onnx::NodeProto* n) { set_int(n, "axis", 2); });
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  ASSERT_EQ(graph->nodes().size(), 1u);
  EXPECT_EQ(graph->nodes()[0]->attrs().get_int("axis", 0), -1);
}

TEST(OpsetUpgrade, SoftmaxOpset11CoercesTo2D) {
  constexpr int64_t kD0 = 2, kD1 = 3, kD2 = 4;
  // A static input shape becomes a constant; a symbolic one is read with a Shape node.
  const std::vector<std::vector<std::string>> input_dims = {{"2", "3", "4"}, {"N", "3", "4"}};
  for (const auto& dims : input_dims) {
    for (const char* op : {"Softmax", "LogSoftmax"}) {
      SCOPED_TRACE(std::string(op) + " " + dims[0]);
      ModelBuilder m(11);
      m.input("x", TensorProto::FLOAT, dims);
      m.node(op, {"x"}, {"y"}, "sm");  // default axis 1: normalise over the last two dims together
      m.output("y");
      auto graph = m.import(/*infer_and_verify=*/true);
      ASSERT_TRUE(graph.ok()) << graph.status().to_string();
      EXPECT_EQ(count_nodes(*graph, OpKind::Flatten), 1u);
      EXPECT_EQ(count_nodes(*graph, OpKind::Reshape), 1u);
      const bool symbolic = dims[0] == "N";
      EXPECT_EQ(count_nodes(*graph, OpKind::Shape), symbolic ? 1u : 0u);
      if (!symbolic) {
        EXPECT_EQ(graph->find_value("y")->type().to_string(), "float32[2,3,4]");
      }

      std::mt19937_64 rng(31337);
      std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
      std::vector<float> x(kD0 * kD1 * kD2);
      for (auto& v : x) v = dist(rng);
      auto executor = engine::GraphExecutor::create(std::move(graph).value());
      ASSERT_TRUE(executor.ok()) << executor.status().to_string();
      auto out = (*executor)->run({{"x", Tensor::from_vector(DType::kFloat32, Shape{kD0, kD1, kD2}, x)}});
      ASSERT_TRUE(out.ok()) << out.status().to_string();
      ASSERT_EQ(out->at(0).shape(), (Shape{kD0, kD1, kD2}));
      const bool log = std::string(op) == "LogSoftmax";
      const int64_t row = kD1 * kD2;
      for (int64_t b = 0; b < kD0; ++b) {
        double max = -INFINITY, sum = 0.0;
        for (int64_t i = 0; i < row; ++i) max = std::max<double>(max, x[b * row + i]);
        for (int64_t i = 0; i < row; ++i) sum += std::exp(x[b * row + i] - max);
        for (int64_t i = 0; i < row; ++i) {
          const double e = x[b * row + i] - max;
          const double expected = log ? e - std::log(sum) : std::exp(e) / sum;
          EXPECT_NEAR(out->at(0).data<float>()[b * row + i], expected, 1e-5) << b << "," << i;
        }
      }
    }
  }
}

TEST(OpsetUpgrade, ScatterBecomesScatterElements) {
  ModelBuilder m(9);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 2});
  m.int64_initializer("idx", {1, 2}, {1, 0});
  m.initializer("upd", {1, 2}, {5.0f, 6.0f});
  set_int(m.node("Scatter", {"x", "idx", "upd"}, {"y"}, "sc"), "axis", 0);
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(producer_of(*graph, "y")->op(), OpKind::ScatterElements);
}

}  // namespace
}  // namespace kiln::onnx_test

namespace kiln::onnx_test {
namespace {

// Found by the fuzzer: legacy nodes without their data input must be an error, not a crash.
TEST(OpsetUpgrade, LegacyNodesWithoutInputsAreErrors) {
  const std::vector<std::pair<std::string, void (*)(onnx::NodeProto*)>> cases = {
      {"Pad", [](onnx::NodeProto* n) { set_float(n, "value", 1.0f); }},
      {"Clip", [](onnx::NodeProto* n) { set_float(n, "min", 0.0f); }},
      {"Upsample", [](onnx::NodeProto* n) { set_floats(n, "scales", {1.0f}); }},
      {"Softmax", [](onnx::NodeProto*) {}},
  };
  for (const auto& [op, configure] : cases) {
    ModelBuilder m(9);
    configure(m.node(op, {}, {"y"}, "bad"));
    m.output("y");
    auto graph = m.import();
    ASSERT_FALSE(graph.ok()) << op;
    EXPECT_NE(graph.status().message().find("'bad'"), std::string::npos) << graph.status().message();
  }
}

}  // namespace
}  // namespace kiln::onnx_test
