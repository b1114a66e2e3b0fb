// Writes small valid ONNX models (one per importer feature) into the directory given as the
// only argument: the fuzzer's seed corpus.
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

using onnx::AttributeProto;
using onnx::TensorProto;

struct Model {
  onnx::ModelProto proto;
  explicit Model(int64_t opset) {
    proto.set_ir_version(7);
    proto.set_producer_name("kiln-fuzz-seeds");
    auto* import = proto.add_opset_import();
    import->set_version(opset);
    proto.mutable_graph()->set_name("seed");
  }
  onnx::GraphProto& g() { return *proto.mutable_graph(); }
  void input(const std::string& name, int32_t type, const std::vector<std::string>& dims) {
    auto* t = g().add_input();
    t->set_name(name);
    auto* tensor = t->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    for (const auto& d : dims) {
      auto* dim = tensor->mutable_shape()->add_dim();
      if (!d.empty() && d[0] >= '0' && d[0] <= '9')
        dim->set_dim_value(std::stoll(d));
      else if (!d.empty())
        dim->set_dim_param(d);
    }
  }
  void output(const std::string& name) { g().add_output()->set_name(name); }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
    auto* n = g().add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g().node_size()));
    for (auto& i : in) n->add_input(i);
    for (auto& o : out) n->add_output(o);
    return n;
  }
  void floats(const std::string& name, std::vector<int64_t> dims, std::vector<float> values) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    std::string raw(values.size() * sizeof(float), '\0');
    std::memcpy(raw.data(), values.data(), raw.size());
    t->set_raw_data(raw);
  }
  void ints(const std::string& name, std::vector<int64_t> values) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (auto v : values) t->add_int64_data(v);
  }
};

AttributeProto* attr(onnx::NodeProto* n, const std::string& name, AttributeProto::AttributeType type) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

std::vector<std::pair<std::string, Model>> seeds() {
  std::vector<std::pair<std::string, Model>> out;
  {
    Model m(17);
    m.input("x", TensorProto::FLOAT, {"N", "4"});
    m.floats("b", {4}, {0.5f, -1.0f, 2.0f, 0.0f});
    m.node("Add", {"x", "b"}, {"s"});
    m.node("Relu", {"s"}, {"y"});
    m.output("y");
    out.emplace_back("add_relu", std::move(m));
  }
  {
    Model m(11);
    m.input("x", TensorProto::FLOAT, {"2", "3", "4"});
    attr(m.node("Softmax", {"x"}, {"s"}), "axis", AttributeProto::INT)->set_i(1);
    auto* sq = m.node("Unsqueeze", {"s"}, {"u"});
    attr(sq, "axes", AttributeProto::INTS)->add_ints(0);
    auto* red = m.node("ReduceMean", {"u"}, {"y"});
    attr(red, "axes", AttributeProto::INTS)->add_ints(-1);
    m.output("y");
    out.emplace_back("softmax11_unsqueeze_reduce", std::move(m));
  }
  {
    Model m(9);
    m.input("x", TensorProto::FLOAT, {"1", "1", "2", "2"});
    auto* up = m.node("Upsample", {"x", "scales"}, {"u"});
    attr(up, "mode", AttributeProto::STRING)->set_s("nearest");
    m.floats("scales", {4}, {1, 1, 2, 2});
    auto* slice = m.node("Slice", {"u"}, {"s"});
    attr(slice, "starts", AttributeProto::INTS)->add_ints(1);
    attr(slice, "ends", AttributeProto::INTS)->add_ints(3);
    attr(slice, "axes", AttributeProto::INTS)->add_ints(2);
    auto* pad = m.node("Pad", {"s"}, {"p"});
    auto* pads = attr(pad, "pads", AttributeProto::INTS);
    for (int i = 0; i < 8; ++i) pads->add_ints(i % 2);
    attr(pad, "value", AttributeProto::FLOAT)->set_f(1.0f);
    auto* clip = m.node("Clip", {"p"}, {"c"});
    attr(clip, "max", AttributeProto::FLOAT)->set_f(6.0f);
    attr(m.node("TopK", {"c"}, {"v", "i"}), "k", AttributeProto::INT)->set_i(1);
    m.output("v");
    out.emplace_back("legacy_ops_opset9", std::move(m));
  }
  {
    Model m(13);
    m.input("x", TensorProto::FLOAT, {"1", "2", "5", "5"});
    m.floats("w", {2, 2, 3, 3}, std::vector<float>(36, 0.25f));
    auto* conv = m.node("Conv", {"x", "w"}, {"c"});
    auto* k = attr(conv, "kernel_shape", AttributeProto::INTS);
    k->add_ints(3);
    k->add_ints(3);
    auto* c = m.node("Constant", {}, {"shape"});
    auto* t = attr(c, "value", AttributeProto::TENSOR)->mutable_t();
    t->set_data_type(TensorProto::INT64);
    t->add_dims(2);
    t->add_int64_data(1);
    t->add_int64_data(-1);
    m.node("Reshape", {"c", "shape"}, {"r"});
    m.ints("split", {9, 9});
    auto* split = m.node("Split", {"r", "split"}, {"a", "b"});
    attr(split, "axis", AttributeProto::INT)->set_i(1);
    m.node("Concat", {"b", "a"}, {"y"});
    attr(m.g().mutable_node(m.g().node_size() - 1), "axis", AttributeProto::INT)->set_i(1);
    m.output("y");
    out.emplace_back("conv_reshape_split", std::move(m));
  }
  {
    Model m(15);
    m.input("x", TensorProto::BOOL, {"3"});
    auto* strings = m.node("Constant", {}, {"names"});
    auto* ss = attr(strings, "value_strings", AttributeProto::STRINGS);
    ss->add_strings("a");
    ss->add_strings("b");
    m.node("Not", {"x"}, {"y"});
    m.node("Shape", {"x"}, {"s"});
    m.output("y");
    m.output("names");
    out.emplace_back("bool_strings", std::move(m));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  for (auto& [name, model] : seeds()) {
    const std::string path = std::string(argv[1]) + "/" + name + ".onnx";
    std::ofstream out(path, std::ios::binary);
    if (!out || !model.proto.SerializeToOstream(&out)) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
