#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "ir/text.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

// x -> Relu -> Add(relu, bias) -> y, with a symbolic batch dim.
Graph make_small_graph() {
  Graph g;
  g.name = "small";
  g.opset = 17;
  Value* x = g.add_value("x");
  x->set_type(ValueType{DType::kFloat32, SymShape{Dim::symbolic("N"), Dim::known(4)}});
  g.add_input(x);
  Value* bias = g.add_constant("bias", Tensor(DType::kFloat32, Shape{4}));
  Value* r = g.add_value("r");
  Value* y = g.add_value("y");
  g.add_node(OpKind::Relu, "relu", {x}, {r});
  g.add_node(OpKind::Add, "add", {r, bias}, {y});
  g.add_output(y);
  return g;
}

TEST(Graph, ValueNamesAreUnique) {
  Graph g;
  Value* a = g.add_value("t");
  Value* b = g.add_value("t");
  EXPECT_NE(a->name(), b->name());
  EXPECT_EQ(g.find_value("t"), a);
  EXPECT_EQ(g.find_value(b->name()), b);
}

TEST(Graph, SortTopologicallyRestoresOrder) {
  Graph g;
  Value* x = g.add_value("x");
  x->set_type(ValueType{DType::kFloat32, SymShape{Dim::known(2)}});
  g.add_input(x);
  Value* a = g.add_value("a");
  Value* b = g.add_value("b");
  // Added consumer-first: b = Relu(a) before a = Neg(x).
  g.add_node(OpKind::Relu, "second", {a}, {b});
  g.add_node(OpKind::Neg, "first", {x}, {a});
  g.add_output(b);
  EXPECT_FALSE(verify(g).ok());
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(g.nodes()[0]->name(), "first");
  EXPECT_EQ(g.nodes()[1]->name(), "second");
}

TEST(Graph, CycleIsReported) {
  Graph g;
  Value* a = g.add_value("a");
  Value* b = g.add_value("b");
  g.add_node(OpKind::Relu, "n1", {b}, {a});
  g.add_node(OpKind::Relu, "n2", {a}, {b});
  Status s = g.sort_topologically();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cycle"), std::string::npos);
}

TEST(Graph, RemoveNodeAndUnusedValues) {
  Graph g = make_small_graph();
  Node* add = g.nodes()[1].get();
  Value* r = g.nodes()[0]->outputs()[0];
  g.mutable_outputs() = {r};
  g.remove_node(add);
  g.remove_unused_values();
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.find_value("y"), nullptr);
  EXPECT_EQ(g.find_value("bias"), nullptr);
  EXPECT_TRUE(verify(g).ok());
}

TEST(Verifier, AcceptsWellFormedGraph) {
  Graph g = make_small_graph();
  ASSERT_TRUE(infer_shapes(g).ok());
  Status s = verify(g);
  EXPECT_TRUE(s.ok()) << s.to_string();
}

TEST(Verifier, RejectsUndefinedInput) {
  Graph g = make_small_graph();
  ASSERT_TRUE(infer_shapes(g).ok());
  Value* ghost = g.add_value("ghost");
  ghost->set_type(ValueType{DType::kFloat32, SymShape{}});
  Value* out = g.add_value("z");
  g.add_node(OpKind::Relu, "reads_ghost", {ghost}, {out});
  Status s = verify(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ghost"), std::string::npos);
  EXPECT_NE(s.message().find("reads_ghost"), std::string::npos);
}

TEST(Verifier, RejectsWrongArity) {
  Graph g = make_small_graph();
  ASSERT_TRUE(infer_shapes(g).ok());
  Value* out = g.add_value("z");
  g.add_node(OpKind::Relu, "two_inputs", {g.inputs()[0], g.inputs()[0]}, {out});
  Status s = verify(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("two_inputs"), std::string::npos);
}

TEST(Verifier, RejectsUnproducedOutput) {
  Graph g = make_small_graph();
  ASSERT_TRUE(infer_shapes(g).ok());
  Value* dangling = g.add_value("dangling");
  dangling->set_type(ValueType{DType::kFloat32, SymShape{}});
  g.add_output(dangling);
  Status s = verify(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("dangling"), std::string::npos);
}

TEST(ShapeInference, PropagatesSymbolicDims) {
  Graph g = make_small_graph();
  ASSERT_TRUE(infer_shapes(g).ok());
  EXPECT_EQ(g.outputs()[0]->type().to_string(), "float32[N,4]");
}

TEST(ShapeInference, MergeKeepsDeclaredSymbolsAndRejectsConflicts) {
  ValueType declared{DType::kFloat32, SymShape{Dim::symbolic("batch"), Dim::known(8)}};
  ValueType inferred{DType::kFloat32, SymShape{Dim{}, Dim::known(8)}};
  auto merged = merge_value_types(declared, inferred, "v");
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->to_string(), "float32[batch,8]");

  ValueType conflicting{DType::kFloat32, SymShape{Dim{}, Dim::known(9)}};
  auto bad = merge_value_types(declared, conflicting, "v");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'v'"), std::string::npos);

  ValueType other_dtype{DType::kInt64, SymShape{Dim{}, Dim::known(8)}};
  EXPECT_FALSE(merge_value_types(declared, other_dtype, "v").ok());
}

TEST(Text, DumpIsReadable) {
  Graph g = make_small_graph();
  ASSERT_TRUE(infer_shapes(g).ok());
  const std::string expected =
      "graph small (opset 17)\n"
      "  input x: float32[N,4]\n"
      "  const bias: float32[4]\n"
      "  %r: float32[N,4] = Relu(%x)  # relu\n"
      "  %y: float32[N,4] = Add(%r, %bias)  # add\n"
      "  output %y\n";
  EXPECT_EQ(to_text(g), expected);
}

}  // namespace
}  // namespace kiln::ir
