// Models of default-domain opsets 1-6: ops whose meaning has not changed import (their legacy
// attributes dropped) and compute what the opset says; ops whose old form means something else
// are refused as UNIMPLEMENTED, naming the op and the opset.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/graph_executor.h"
#include "model_builder.h"

namespace kiln::onnx_test {
namespace {

using onnx::TensorProto;

constexpr int64_t kOpset6 = 6;
constexpr int64_t kOpset1 = 1;

std::vector<float> random_floats(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> values(count);
  for (float& v : values) v = dist(rng);
  return values;
}

TEST(LegacyOpset, EluOpset6ImportsAndComputesElu) {
  constexpr float kAlpha = 0.7f;
  ModelBuilder m(kOpset6);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{3, 4});
  onnx::NodeProto* elu = m.node("Elu", {"x"}, {"y"}, "elu");
  set_float(elu, "alpha", kAlpha);
  set_ints(elu, "consumed_inputs", {0});  // Elu-1's memory hint; meaningless since opset 6
  m.output("y");
  auto graph = m.import(/*infer_and_verify=*/true);
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_FALSE(producer_of(*graph, "y")->attrs().has("consumed_inputs"));

  const std::vector<float> x = random_floats(12, 606);
  auto executor = engine::GraphExecutor::create(std::move(graph).value());
  ASSERT_TRUE(executor.ok()) << executor.status().to_string();
  auto out = (*executor)->run({{"x", Tensor::from_vector(DType::kFloat32, Shape{3, 4}, x)}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  for (size_t i = 0; i < x.size(); ++i) {
    const double expected = x[i] > 0 ? x[i] : kAlpha * (std::exp(static_cast<double>(x[i])) - 1.0);
    EXPECT_NEAR(out->at(0).data<float>()[i], expected, 1e-5) << i;
  }
}

TEST(LegacyOpset, BinaryOpWithTrailingBroadcastImports) {
  ModelBuilder m(kOpset6);
  m.input("a", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
  m.input("b", TensorProto::FLOAT, std::vector<int64_t>{3});
  set_int(m.node("Add", {"a", "b"}, {"y"}, "add"), "broadcast", 1);
  m.output("y");
  auto graph = m.import(/*infer_and_verify=*/true);
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_FALSE(producer_of(*graph, "y")->attrs().has("broadcast"));
  EXPECT_EQ(graph->find_value("y")->type().to_string(), "float32[2,3]");
}

void expect_refused(const ModelBuilder& m, const std::string& op_and_opset) {
  auto graph = m.import();
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(graph.status().message().find(op_and_opset), std::string::npos) << graph.status().to_string();
}

TEST(LegacyOpset, OpsWhoseOldFormDiffersAreRefused) {
  {  // Reshape-1 took the shape as an attribute.
    ModelBuilder m(kOpset1);
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
    set_ints(m.node("Reshape", {"x"}, {"y"}, "r"), "shape", {3, 2});
    m.output("y");
    expect_refused(m, "Reshape (opset 1, node 'r'");
  }
  {  // Axis-aligned legacy broadcasting has no opset-7+ equivalent.
    ModelBuilder m(kOpset6);
    m.input("a", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
    m.input("b", TensorProto::FLOAT, std::vector<int64_t>{2});
    onnx::NodeProto* mul = m.node("Mul", {"a", "b"}, {"y"}, "mul");
    set_int(mul, "broadcast", 1);
    set_int(mul, "axis", 0);
    m.output("y");
    expect_refused(m, "Mul (opset 6, node 'mul'");
  }
  {  // Concat-1's axis defaulted to 1; Concat-4 made it required.
    ModelBuilder m(3);
    m.input("a", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
    m.node("Concat", {"a", "a"}, {"y"}, "cat");
    m.output("y");
    expect_refused(m, "Concat (opset 3, node 'cat'");
  }
}

}  // namespace
}  // namespace kiln::onnx_test
