#include "engine_test_graphs.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "ir/shape_inference.h"
#include "plan/plan_file.h"

namespace kiln::engine_test {

Result<std::shared_ptr<runtime::Engine>> build_and_load(ir::Graph graph, const engine::BuildOptions& options,
                                                        const std::string& name) {
  KILN_ASSIGN_OR_RETURN(engine::BuildResult built, engine::build_engine(std::move(graph), options));
  const std::string path =
      (std::filesystem::temp_directory_path() / ("kiln_engine_test_" + std::to_string(::getpid()) + "_" + name + ".plan")).string();
  KILN_RETURN_IF_ERROR(plan::write_plan(path, built.header, built.weights));
  auto engine = runtime::Engine::load(path);
  std::filesystem::remove(path);
  return engine;
}

Tensor random_tensor(DType dtype, const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

ir::Graph small_cnn(const std::string& input_batch) {
  ir::Graph g;
  g.name = "small_cnn";
  g.opset = 17;
  ir::Value* x = g.add_value("x");
  ir::SymShape shape = ir::sym_shape_from(Shape{2, 3, 8, 8});
  if (!input_batch.empty()) shape[0] = ir::Dim::symbolic(input_batch);
  x->set_type({DType::kFloat32, shape});
  g.add_input(x);
  ir::Value* w = g.add_constant("conv_w", random_tensor(DType::kFloat32, Shape{4, 3, 3, 3}, 11));
  ir::Value* b = g.add_constant("conv_b", random_tensor(DType::kFloat32, Shape{4}, 12));
  ir::Value* conv = g.add_value("conv");
  ir::Node* c = g.add_node(OpKind::Conv, "conv", {x, w, b}, {conv});
  c->mutable_attrs().set("pads", std::vector<int64_t>{1, 1, 1, 1});
  c->mutable_attrs().set("kernel_shape", std::vector<int64_t>{3, 3});
  ir::Value* relu = g.add_value("relu");
  g.add_node(OpKind::Relu, "relu", {conv}, {relu});
  ir::Value* pool = g.add_value("pool");
  ir::Node* p = g.add_node(OpKind::MaxPool, "pool", {relu}, {pool});
  p->mutable_attrs().set("kernel_shape", std::vector<int64_t>{2, 2});
  p->mutable_attrs().set("strides", std::vector<int64_t>{2, 2});
  ir::Value* flat = g.add_value("flat");
  g.add_node(OpKind::Flatten, "flatten", {pool}, {flat});
  ir::Value* fc_w = g.add_constant("fc_w", random_tensor(DType::kFloat32, Shape{64, 10}, 13));
  ir::Value* fc_b = g.add_constant("fc_b", random_tensor(DType::kFloat32, Shape{10}, 14));
  ir::Value* mm = g.add_value("mm");
  g.add_node(OpKind::MatMul, "fc", {flat, fc_w}, {mm});
  ir::Value* logits = g.add_value("logits");
  g.add_node(OpKind::Add, "fc_bias", {mm, fc_b}, {logits});
  ir::Value* probs = g.add_value("probs");
  g.add_node(OpKind::Softmax, "softmax", {logits}, {probs});
  g.add_output(probs);
  g.add_output(logits);
  (void)ir::infer_shapes(g);
  return g;
}

std::map<std::string, Tensor> random_feeds(const ir::Graph& graph, uint32_t seed) {
  std::map<std::string, Tensor> feeds;
  for (const ir::Value* in : graph.inputs()) {
    if (in->is_constant()) continue;
    feeds[in->name()] = random_tensor(in->type().dtype, ir::shape_of(*in->type().shape), seed++);
  }
  return feeds;
}

double relative_error(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32) return INFINITY;
  double max_diff = 0, max_ref = 1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    if (std::isnan(x) != std::isnan(y)) return INFINITY;
    max_diff = std::max(max_diff, std::abs(x - y));
    max_ref = std::max(max_ref, std::abs(y));
  }
  return max_diff / max_ref;
}

}  // namespace kiln::engine_test
