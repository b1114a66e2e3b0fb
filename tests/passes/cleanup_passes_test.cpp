// Before/expected textual IR for the cleanup passes.
#include <gtest/gtest.h>

#include "ir/shape_inference.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "passes/cleanup/dead_node_elimination.h"
#include "passes/cleanup/identity_elimination.h"

namespace kiln::passes {
namespace {

ir::Value* add_input(ir::Graph& g, const std::string& name) {
  ir::Value* x = g.add_value(name);
  x->set_type(ir::ValueType{DType::kFloat32, ir::SymShape{ir::Dim::known(2), ir::Dim::known(4)}});
  g.add_input(x);
  return x;
}

ir::Graph new_graph(const std::string& name) {
  ir::Graph g;
  g.name = name;
  g.opset = 17;
  return g;
}

TEST(DeadNodeElimination, RemovesNodesNoOutputReads) {
  ir::Graph g = new_graph("dce");
  ir::Value* x = add_input(g, "x");
  ir::Value* r = g.add_value("r");
  ir::Value* unused = g.add_value("n");
  ir::Value* unused_weight = g.add_constant("w", Tensor(DType::kFloat32, Shape{4}));
  g.add_node(OpKind::Relu, "relu", {x}, {r});
  g.add_node(OpKind::Add, "unused", {x, unused_weight}, {unused});
  g.add_output(r);
  ASSERT_TRUE(ir::infer_shapes(g).ok());

  auto fired = eliminate_dead_nodes(g);
  ASSERT_TRUE(fired.ok()) << fired.status().to_string();
  EXPECT_TRUE(*fired);
  EXPECT_EQ(ir::to_text(g),
            "graph dce (opset 17)\n"
            "  input x: float32[2,4]\n"
            "  %r: float32[2,4] = Relu(%x)  # relu\n"
            "  output %r\n");
  EXPECT_TRUE(ir::verify(g).ok());

  auto again = eliminate_dead_nodes(g);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(IdentityElimination, RewiresReadersAndKeepsOutputNames) {
  ir::Graph g = new_graph("ident");
  ir::Value* x = add_input(g, "x");
  ir::Value* bias = g.add_constant("bias", Tensor(DType::kFloat32, Shape{4}));
  ir::Value* r = g.add_value("r");
  ir::Value* i = g.add_value("i");
  ir::Value* a = g.add_value("a");
  ir::Value* y = g.add_value("y");
  g.add_node(OpKind::Relu, "relu", {x}, {r});
  g.add_node(OpKind::Identity, "id1", {r}, {i});
  g.add_node(OpKind::Add, "add", {i, bias}, {a});
  g.add_node(OpKind::Identity, "id2", {a}, {y});
  g.add_output(y);
  ASSERT_TRUE(ir::infer_shapes(g).ok());

  auto fired = eliminate_identities(g);
  ASSERT_TRUE(fired.ok()) << fired.status().to_string();
  EXPECT_TRUE(*fired);
  EXPECT_EQ(ir::to_text(g),
            "graph ident (opset 17)\n"
            "  input x: float32[2,4]\n"
            "  const bias: float32[4]\n"
            "  %r: float32[2,4] = Relu(%x)  # relu\n"
            "  %y: float32[2,4] = Add(%r, %bias)  # add\n"
            "  output %y\n");
  EXPECT_TRUE(ir::verify(g).ok());
}

TEST(IdentityElimination, KeepsIdentityBetweenGraphInputAndOutput) {
  ir::Graph g = new_graph("passthrough");
  ir::Value* x = add_input(g, "x");
  ir::Value* y = g.add_value("y");
  g.add_node(OpKind::Identity, "id", {x}, {y});
  g.add_output(y);
  ASSERT_TRUE(ir::infer_shapes(g).ok());
  auto fired = eliminate_identities(g);
  ASSERT_TRUE(fired.ok());
  EXPECT_FALSE(*fired);
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.outputs().front()->name(), "y");
}

TEST(IdentityElimination, RemovesInferenceDropoutButNotOneWhoseMaskIsRead) {
  ir::Graph g = new_graph("dropout");
  ir::Value* x = add_input(g, "x");
  ir::Value* training = g.add_constant("training", Tensor::from_vector<bool>(DType::kBool, Shape{}, {false}));
  ir::Value* d1 = g.add_value("d1");
  ir::Value* d2 = g.add_value("d2");
  ir::Value* mask = g.add_value("mask");
  ir::Value* y = g.add_value("y");
  ir::Value* m = g.add_value("m");
  g.add_node(OpKind::Dropout, "drop_inference", {x, nullptr, training}, {d1});
  g.add_node(OpKind::Dropout, "drop_with_mask", {d1}, {d2, mask});
  g.add_node(OpKind::Relu, "relu", {d2}, {y});
  g.add_node(OpKind::Not, "not", {mask}, {m});
  g.add_output(y);
  g.add_output(m);
  ASSERT_TRUE(ir::infer_shapes(g).ok());

  auto fired = eliminate_identities(g);
  ASSERT_TRUE(fired.ok()) << fired.status().to_string();
  EXPECT_TRUE(*fired);
  EXPECT_EQ(ir::to_text(g),
            "graph dropout (opset 17)\n"
            "  input x: float32[2,4]\n"
            "  %d2: float32[2,4], %mask: bool[2,4] = Dropout(%x)  # drop_with_mask\n"
            "  %y: float32[2,4] = Relu(%d2)  # relu\n"
            "  %m: bool[2,4] = Not(%mask)  # not\n"
            "  output %y\n"
            "  output %m\n");
  EXPECT_TRUE(ir::verify(g).ok());
}

}  // namespace
}  // namespace kiln::passes
