// Shape and constant folding, and the whole pipeline: the BERT-style shape chain folds away and
// the optimized graph computes the same outputs as the original on the reference executor.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "engine/constant_evaluator.h"
#include "engine/graph_executor.h"
#include "ir/shape_inference.h"
#include "ir/text.h"
#include "passes/fold/constant_folding.h"
#include "passes/pipeline.h"

namespace kiln::passes {
namespace {

constexpr uint64_t kSeed = 20261129;

Tensor int64s(const Shape& shape, const std::vector<int64_t>& values) {
  return Tensor::from_vector<int64_t>(DType::kInt64, shape, values);
}

Tensor random_floats(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): what BERT exports do to flatten.
ir::Graph make_shape_chain() {
  ir::Graph g;
  g.name = "bert_shape_chain";
  g.opset = 17;
  ir::Value* x = g.add_value("x");
  x->set_type(ir::ValueType{DType::kFloat32, ir::SymShape{ir::Dim::known(2), ir::Dim::known(3), ir::Dim::known(4)}});
  g.add_input(x);
  ir::Value* index = g.add_constant("index", int64s(Shape{}, {0}));
  ir::Value* axes = g.add_constant("axes", int64s(Shape{1}, {0}));
  ir::Value* rest = g.add_constant("rest", int64s(Shape{1}, {-1}));
  ir::Value* s = g.add_value("s");
  ir::Value* batch = g.add_value("batch");
  ir::Value* batch1 = g.add_value("batch1");
  ir::Value* c = g.add_value("c");
  ir::Value* y = g.add_value("y");
  g.add_node(OpKind::Shape, "shape", {x}, {s});
  g.add_node(OpKind::Gather, "gather", {s, index}, {batch});
  g.add_node(OpKind::Unsqueeze, "unsqueeze", {batch, axes}, {batch1});
  Attributes concat_axis;
  concat_axis.set("axis", int64_t{0});
  g.add_node(OpKind::Concat, "concat", {batch1, rest}, {c}, concat_axis);
  g.add_node(OpKind::Reshape, "reshape", {x, c}, {y});
  g.add_output(y);
  return g;
}

// The shape chain plus no-op nodes, a weight computed from constants, and a dead branch.
ir::Graph make_model(uint64_t weight_seed) {
  ir::Graph g = make_shape_chain();
  g.name = "model";
  ir::Value* flat = g.outputs().front();
  g.mutable_outputs().clear();
  ir::Value* w = g.add_constant("w", random_floats(Shape{12, 5}, weight_seed));
  ir::Value* scale = g.add_constant("scale", random_floats(Shape{12, 5}, weight_seed + 1));
  ir::Value* scaled_w = g.add_value("scaled_w");
  ir::Value* id = g.add_value("id");
  ir::Value* dropped = g.add_value("dropped");
  ir::Value* out = g.add_value("out");
  ir::Value* dead = g.add_value("dead");
  g.add_node(OpKind::Mul, "scale_weight", {w, scale}, {scaled_w});
  g.add_node(OpKind::Identity, "identity", {flat}, {id});
  g.add_node(OpKind::Dropout, "dropout", {id}, {dropped});
  g.add_node(OpKind::MatMul, "matmul", {dropped, scaled_w}, {out});
  g.add_node(OpKind::Neg, "dead_branch", {out}, {dead});
  g.add_output(out);
  return g;
}

PipelineOptions folding_options(PipelineReport* report = nullptr) {
  PipelineOptions options;
  options.evaluate = engine::reference_node_evaluator();
  options.verify_each = true;
  options.report = report;
  return options;
}

TEST(ShapeFolding, BertShapeChainFoldsToAConstantReshapeTarget) {
  ir::Graph g = make_shape_chain();
  ASSERT_TRUE(ir::infer_shapes(g).ok());
  PipelineReport report;
  Status status = run_pipeline(g, folding_options(&report));
  ASSERT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(ir::to_text(g),
            "graph bert_shape_chain (opset 17)\n"
            "  input x: float32[2,3,4]\n"
            "  const c: int64[2]\n"
            "  %y: float32[2,12] = Reshape(%x, %c)  # reshape\n"
            "  output %y\n");
  const Tensor* target = g.find_value("c")->constant();
  ASSERT_NE(target, nullptr);
  ASSERT_EQ(target->numel(), 2);
  EXPECT_EQ(target->data<int64_t>()[0], 2);
  EXPECT_EQ(target->data<int64_t>()[1], -1);

  bool folded = false;
  for (const PassRecord& r : report.passes)
    if (r.name == "constant-folding" && r.fired) {
      folded = true;
      EXPECT_LT(r.nodes_after, r.nodes_before);
    }
  EXPECT_TRUE(folded);
}

TEST(ShapeFolding, DynamicDimsAreNotFolded) {
  ir::Graph g = make_shape_chain();
  (*g.inputs().front()->mutable_type().shape)[0] = ir::Dim::symbolic("batch");
  ASSERT_TRUE(ir::infer_shapes(g).ok());
  ASSERT_TRUE(run_pipeline(g, folding_options()).ok());
  EXPECT_EQ(g.nodes().size(), 5u);
}

TEST(ConstantFolding, OutputsOverTheSizeLimitStay) {
  ir::Graph g;
  g.opset = 17;
  ir::Value* x = g.add_value("x");
  x->set_type(ir::ValueType{DType::kFloat32, ir::SymShape{ir::Dim::known(4), ir::Dim::known(4)}});
  g.add_input(x);
  ir::Value* shape = g.add_constant("shape", int64s(Shape{2}, {4, 4}));
  ir::Value* filled = g.add_value("filled");
  ir::Value* y = g.add_value("y");
  g.add_node(OpKind::ConstantOfShape, "fill", {shape}, {filled});
  g.add_node(OpKind::Add, "add", {x, filled}, {y});
  g.add_output(y);
  ASSERT_TRUE(ir::infer_shapes(g).ok());

  const int64_t filled_bytes = 4 * 4 * static_cast<int64_t>(sizeof(float));
  ConstantFoldingOptions small{engine::reference_node_evaluator(), filled_bytes - 1};
  auto kept = fold_constants(g, small);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(*kept);
  EXPECT_EQ(g.nodes().size(), 2u);

  ConstantFoldingOptions enough{engine::reference_node_evaluator(), filled_bytes};
  auto folded = fold_constants(g, enough);
  ASSERT_TRUE(folded.ok());
  EXPECT_TRUE(*folded);
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_TRUE(g.find_value("filled")->is_constant());
}

TEST(ConstantFolding, OverridableInitializersAreNotFolded) {
  ir::Graph g;
  g.opset = 17;
  ir::Value* w = g.add_constant("w", random_floats(Shape{3}, kSeed));
  g.add_input(w);  // an initializer listed as an input: callers may replace it
  ir::Value* y = g.add_value("y");
  g.add_node(OpKind::Neg, "neg", {w}, {y});
  g.add_output(y);
  ASSERT_TRUE(ir::infer_shapes(g).ok());
  auto fired = fold_constants(g, ConstantFoldingOptions{engine::reference_node_evaluator()});
  ASSERT_TRUE(fired.ok());
  EXPECT_FALSE(*fired);
}

TEST(Pipeline, OptimizedModelComputesTheSameOutputs) {
  ir::Graph original = make_model(kSeed);
  ir::Graph optimized = make_model(kSeed);
  ASSERT_TRUE(ir::infer_shapes(original).ok());
  ASSERT_TRUE(ir::infer_shapes(optimized).ok());
  PipelineReport report;
  Status status = run_pipeline(optimized, folding_options(&report));
  ASSERT_TRUE(status.ok()) << status.to_string();
  // Only the Reshape and the MatMul are left.
  ASSERT_EQ(optimized.nodes().size(), 2u) << ir::to_text(optimized);
  EXPECT_EQ(optimized.outputs().front()->name(), "out");

  auto reference = engine::GraphExecutor::create(std::move(original));
  auto fast = engine::GraphExecutor::create(std::move(optimized));
  ASSERT_TRUE(reference.ok() && fast.ok());
  std::map<std::string, Tensor> inputs{{"x", random_floats(Shape{2, 3, 4}, kSeed + 7)}};
  auto expected = (*reference)->run(inputs);
  auto actual = (*fast)->run(inputs);
  ASSERT_TRUE(expected.ok()) << expected.status().to_string();
  ASSERT_TRUE(actual.ok()) << actual.status().to_string();
  ASSERT_EQ(actual->size(), expected->size());
  const Tensor& a = actual->front();
  const Tensor& e = expected->front();
  ASSERT_EQ(a.shape(), e.shape());
  constexpr float kTolerance = 1e-5f;
  for (int64_t i = 0; i < e.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], e.data<float>()[i], kTolerance) << i;
}

TEST(Pipeline, DumpAfterPrintsTheNamedPassOnly) {
  ir::Graph g = make_model(kSeed);
  ASSERT_TRUE(ir::infer_shapes(g).ok());
  std::ostringstream dump;
  PipelineOptions options = folding_options();
  options.dump_after = "identity-elimination";
  options.dump_stream = &dump;
  ASSERT_TRUE(run_pipeline(g, options).ok());
  EXPECT_NE(dump.str().find("// after identity-elimination\ngraph model"), std::string::npos) << dump.str();
  EXPECT_EQ(dump.str().find("// after constant-folding"), std::string::npos);
  EXPECT_EQ(dump.str().find("Identity("), std::string::npos);
}

TEST(Pipeline, UnknownDumpAfterPassIsAnError) {
  ir::Graph g = make_model(kSeed);
  std::ostringstream dump;
  PipelineOptions options = folding_options();
  options.dump_after = "no-such-pass";
  options.dump_stream = &dump;
  Status status = run_pipeline(g, options);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no-such-pass"), std::string::npos) << status.to_string();
}

}  // namespace
}  // namespace kiln::passes
