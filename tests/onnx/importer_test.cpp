// Model-level import: inputs, initializers, declared types, constants, metadata and errors.
#include "onnx/importer.h"

#include <gtest/gtest.h>

#include <random>

#include "model_builder.h"

namespace kiln::onnx_test {
namespace {

using onnx::TensorProto;

std::vector<float> random_floats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> out(n);
  for (auto& v : out) v = dist(rng);
  return out;
}

TEST(Importer, AddReluWithInitializer) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<std::string>{"batch", "4"});
  const auto bias = random_floats(4, 7);
  m.initializer("bias", {4}, bias);
  m.node("Add", {"x", "bias"}, {"sum"}, "add");
  m.node("Relu", {"sum"}, {"y"}, "relu");
  m.output("y", TensorProto::FLOAT);
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  ASSERT_EQ(graph->inputs().size(), 1u);
  EXPECT_EQ(graph->inputs()[0]->name(), "x");
  EXPECT_EQ(graph->inputs()[0]->type().dtype, DType::kFloat32);
  ASSERT_TRUE(graph->inputs()[0]->type().shape);
  EXPECT_EQ((*graph->inputs()[0]->type().shape)[0], ir::Dim::symbolic("batch"));
  EXPECT_EQ((*graph->inputs()[0]->type().shape)[1], ir::Dim::known(4));
  ASSERT_EQ(graph->nodes().size(), 2u);
  EXPECT_EQ(graph->nodes()[0]->op(), OpKind::Add);
  EXPECT_EQ(graph->nodes()[1]->op(), OpKind::Relu);
  const ir::Value* b = graph->find_value("bias");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->is_constant());
  for (size_t i = 0; i < bias.size(); ++i) EXPECT_EQ(b->constant()->data<float>()[i], bias[i]);
  ASSERT_EQ(graph->outputs().size(), 1u);
  EXPECT_EQ(graph->outputs()[0]->name(), "y");
  EXPECT_EQ(graph->name, "test_graph");
  EXPECT_EQ(graph->opset, kLatestOpset);
  EXPECT_EQ(graph->metadata.at("producer_name"), "kiln-tests");
}

TEST(Importer, AddReluInfersAndVerifies) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<std::string>{"batch", "4"});
  m.initializer("bias", {4}, random_floats(4, 8));
  m.node("Add", {"x", "bias"}, {"sum"}, "add");
  m.node("Relu", {"sum"}, {"y"}, "relu");
  m.output("y", TensorProto::FLOAT);
  auto graph = m.import(/*infer_and_verify=*/true);
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Value* y = graph->find_value("y");
  ASSERT_TRUE(y->type().shape);
  EXPECT_EQ(ir::sym_shape_to_string(*y->type().shape), "[batch,4]");
}

TEST(Importer, SymbolicAndMissingDims) {
  ModelBuilder m;
  m.input("x", TensorProto::INT64, std::vector<std::string>{"N", "", "3"});
  auto* no_shape = m.graph().add_input();
  no_shape->set_name("r");
  no_shape->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::FLOAT);
  m.node("Identity", {"x"}, {"y"});
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const auto& shape = *graph->inputs()[0]->type().shape;
  ASSERT_EQ(shape.size(), 3u);
  EXPECT_EQ(shape[0].symbol, "N");
  EXPECT_FALSE(shape[1].is_known());
  EXPECT_TRUE(shape[1].symbol.empty());
  EXPECT_EQ(shape[2].value, 3);
  EXPECT_FALSE(graph->inputs()[1]->type().shape.has_value());
}

TEST(Importer, InitializerListedAsInputIsAConstant) {
  ModelBuilder m(9);
  m.model().set_ir_version(3);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
  m.input("w", TensorProto::FLOAT, std::vector<int64_t>{2});
  m.initializer("w", {2}, random_floats(2, 9));
  m.node("Mul", {"x", "w"}, {"y"});
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  ASSERT_EQ(graph->inputs().size(), 1u);
  EXPECT_EQ(graph->inputs()[0]->name(), "x");
  EXPECT_TRUE(graph->find_value("w")->is_constant());
}

TEST(Importer, ValueInfoAndOutputTypesAreDeclared) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<std::string>{"N", "8"});
  m.node("Relu", {"x"}, {"h"});
  m.node("Relu", {"h"}, {"y"});
  auto* info = m.graph().add_value_info();
  info->set_name("h");
  info->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::FLOAT);
  info->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("N");
  info->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(8);
  auto* out = m.output("y", TensorProto::FLOAT);
  out->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("N");
  out->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(8);
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(graph->find_value("h")->type().to_string(), "float32[N,8]");
  EXPECT_EQ(graph->find_value("y")->type().to_string(), "float32[N,8]");
}

TEST(Importer, ConstantNodesBecomeConstantValues) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{3});
  const auto values = random_floats(3, 11);
  set_tensor(m.node("Constant", {}, {"c_tensor"}), "value", float_tensor("", {3}, values, false));
  set_float(m.node("Constant", {}, {"c_float"}), "value_float", 2.5f);
  set_floats(m.node("Constant", {}, {"c_floats"}), "value_floats", {1.0f, -2.0f});
  set_int(m.node("Constant", {}, {"c_int"}), "value_int", -7);
  set_ints(m.node("Constant", {}, {"c_ints"}), "value_ints", {4, 5, 6});
  set_string(m.node("Constant", {}, {"c_string"}), "value_string", "hello");
  auto* strings = m.node("Constant", {}, {"c_strings"})->add_attribute();
  strings->set_name("value_strings");
  strings->set_type(onnx::AttributeProto::STRINGS);
  strings->add_strings("a");
  strings->add_strings("bc");
  m.node("Add", {"x", "c_tensor"}, {"y"});
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(graph->nodes().size(), 1u);  // only the Add
  const Tensor* t = graph->find_value("c_tensor")->constant();
  ASSERT_NE(t, nullptr);
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(t->data<float>()[i], values[i]);
  EXPECT_EQ(graph->find_value("c_float")->constant()->rank(), 0u);
  EXPECT_EQ(graph->find_value("c_float")->constant()->data<float>()[0], 2.5f);
  EXPECT_EQ(graph->find_value("c_floats")->constant()->data<float>()[1], -2.0f);
  EXPECT_EQ(graph->find_value("c_int")->constant()->dtype(), DType::kInt64);
  EXPECT_EQ(graph->find_value("c_int")->constant()->data<int64_t>()[0], -7);
  EXPECT_EQ(graph->find_value("c_ints")->constant()->shape(), Shape{3});
  EXPECT_EQ(graph->find_value("c_string")->constant()->strings()[0], "hello");
  EXPECT_EQ(graph->find_value("c_strings")->constant()->strings()[1], "bc");
}

TEST(Importer, AttributesOfEveryKind) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 1, 4, 4});
  auto* n = m.node("MaxPool", {"x"}, {"y"}, "pool");
  set_ints(n, "kernel_shape", {2, 2});
  set_int(n, "ceil_mode", 0);
  set_string(n, "auto_pad", "NOTSET");
  auto* lrn = m.node("LeakyRelu", {"y"}, {"z"}, "lrelu");
  set_float(lrn, "alpha", 0.25f);
  m.output("z");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* pool = producer_of(*graph, "y");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->attrs().get_ints("kernel_shape"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(pool->attrs().get_int("ceil_mode", -1), 0);
  EXPECT_EQ(pool->attrs().get_string("auto_pad", ""), "NOTSET");
  EXPECT_EQ(producer_of(*graph, "z")->attrs().get_float("alpha", 0.0f), 0.25f);
}

TEST(Importer, OptionalInputsAndTrailingOutputs) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
  m.int64_initializer("max_clip", {}, {});
  m.graph().mutable_initializer(0)->set_data_type(TensorProto::FLOAT);
  m.graph().mutable_initializer(0)->add_float_data(1.0f);
  m.node("Clip", {"x", "", "max_clip"}, {"y"}, "clip");
  m.node("Dropout", {"y"}, {"z", ""}, "drop");
  m.output("z");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  const ir::Node* clip = producer_of(*graph, "y");
  ASSERT_EQ(clip->inputs().size(), 3u);
  EXPECT_EQ(clip->input(1), nullptr);
  EXPECT_EQ(clip->input(2)->name(), "max_clip");
  EXPECT_EQ(producer_of(*graph, "z")->outputs().size(), 1u);
}

TEST(Importer, NodesOutOfOrderAreSorted) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
  m.node("Relu", {"h"}, {"y"}, "second");
  m.node("Neg", {"x"}, {"h"}, "first");
  m.output("y");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(graph->nodes()[0]->name(), "first");
}

TEST(Importer, UnsupportedOpsAreReportedTogether) {
  ModelBuilder m(11);
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 4});
  m.node("NonMaxSuppression", {"x", "x"}, {"a"}, "nms_1");
  m.node("NonMaxSuppression", {"x", "x"}, {"b"}, "nms_2");
  m.node("Relu", {"x"}, {"c"}, "fine");
  auto* loop = m.node("Loop", {"", ""}, {"d"}, "loop");
  auto* body = loop->add_attribute();
  body->set_name("body");
  body->set_type(onnx::AttributeProto::GRAPH);
  body->mutable_g()->set_name("body");
  auto* ms = m.node("FusedMatMul", {"x", "x"}, {"e"}, "fused");
  ms->set_domain("com.microsoft");
  auto* ms_import = m.model().add_opset_import();
  ms_import->set_domain("com.microsoft");
  ms_import->set_version(1);
  m.output("c");
  auto graph = m.import();
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kUnimplemented);
  const std::string& msg = graph.status().message();
  EXPECT_NE(msg.find("3 unsupported ops"), std::string::npos) << msg;
  EXPECT_NE(msg.find("NonMaxSuppression (opset 11, node 'nms_1')"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("nms_2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Loop (opset 11, node 'loop')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FusedMatMul (domain com.microsoft, opset 1, node 'fused')"), std::string::npos) << msg;
}

TEST(Importer, SubgraphAttributeMakesAKnownOpUnsupported) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
  auto* relu = m.node("Relu", {"x"}, {"y"}, "odd");
  auto* g = relu->add_attribute();
  g->set_name("branch");
  g->set_type(onnx::AttributeProto::GRAPH);
  m.output("y");
  auto graph = m.import();
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(graph.status().message().find("GRAPH"), std::string::npos);
}

TEST(Importer, OpsetOutsideTheSupportedRange) {
  for (int64_t opset : {0, 18}) {
    ModelBuilder m(opset);
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
    m.node("Relu", {"x"}, {"y"});
    m.output("y");
    auto graph = m.import();
    ASSERT_FALSE(graph.ok());
    EXPECT_EQ(graph.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(graph.status().message().find("opset " + std::to_string(opset)), std::string::npos);
    EXPECT_NE(graph.status().message().find("1 to 17"), std::string::npos);
  }
}

TEST(Importer, StructuralErrorsAreInvalidArgument) {
  {
    ModelBuilder m;
    m.model().clear_graph();
    EXPECT_EQ(m.import().status().code(), StatusCode::kInvalidArgument);
  }
  {
    ModelBuilder m;
    m.model().set_ir_version(0);
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
    auto r = m.import();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("ir_version"), std::string::npos);
  }
  {
    ModelBuilder m;
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
    m.node("Relu", {"missing"}, {"y"}, "r");
    m.output("y");
    auto r = m.import();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("'missing'"), std::string::npos);
  }
  {
    ModelBuilder m;
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
    m.node("Relu", {"x"}, {"y"});
    m.node("Neg", {"x"}, {"y"});
    m.output("y");
    EXPECT_EQ(m.import().status().code(), StatusCode::kInvalidArgument);
  }
  {
    ModelBuilder m;
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
    m.output("nowhere");
    EXPECT_EQ(m.import().status().code(), StatusCode::kInvalidArgument);
  }
  {
    ModelBuilder m;
    m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
    m.node("Relu", {"y"}, {"x2"});
    m.node("Relu", {"x2"}, {"y"});
    m.output("y");
    auto r = m.import();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("cycle"), std::string::npos);
  }
}

TEST(Importer, ErrorsArePrefixedWithTheModelPath) {
  auto missing = onnx_import::import_file("/nonexistent/dir/model.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "cannot open model file '/nonexistent/dir/model.onnx'");
}

TEST(Importer, MetadataIsRecorded) {
  ModelBuilder m;
  m.model().set_producer_version("1.2.3");
  m.model().set_doc_string("a test model");
  m.model().set_model_version(42);
  auto* prop = m.model().add_metadata_props();
  prop->set_key("author");
  prop->set_value("kiln");
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2});
  m.output("x");
  auto graph = m.import();
  ASSERT_TRUE(graph.ok()) << graph.status().to_string();
  EXPECT_EQ(graph->metadata.at("producer_version"), "1.2.3");
  EXPECT_EQ(graph->metadata.at("doc_string"), "a test model");
  EXPECT_EQ(graph->metadata.at("model_version"), "42");
  EXPECT_EQ(graph->metadata.at("author"), "kiln");
}

TEST(Importer, NonTensorInputIsUnimplemented) {
  ModelBuilder m;
  auto* seq = m.graph().add_input();
  seq->set_name("s");
  seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  m.output("s");
  auto r = m.import();
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("'s'"), std::string::npos);
}

}  // namespace
}  // namespace kiln::onnx_test
