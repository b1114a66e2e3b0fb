// Corrupt input must give an error or a valid graph, never a crash (run under ASan/UBSan).
#include <gtest/gtest.h>

#include <random>

#include "ir/verifier.h"
#include "model_builder.h"

namespace kiln::onnx_test {
namespace {

using onnx::TensorProto;

std::string small_model_bytes() {
  ModelBuilder m(11);
  m.input("x", TensorProto::FLOAT, std::vector<std::string>{"N", "3"});
  m.initializer("b", {3}, {0.5f, -1.5f, 2.0f});
  m.node("Add", {"x", "b"}, {"s"}, "add");
  auto* sq = m.node("Unsqueeze", {"s"}, {"u"}, "unsq");
  set_ints(sq, "axes", {0});
  auto* sm = m.node("Softmax", {"u"}, {"y"}, "softmax");
  set_int(sm, "axis", 1);
  m.output("y", TensorProto::FLOAT);
  return m.bytes();
}

TEST(Robustness, EveryPrefixOfAModel) {
  const std::string bytes = small_model_bytes();
  ASSERT_TRUE(onnx_import::import_bytes(bytes, "", {.infer_and_verify = false}).ok());
  size_t accepted = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto graph = onnx_import::import_bytes(std::string_view(bytes).substr(0, n), "", {.infer_and_verify = false});
    if (graph.ok()) {
      ++accepted;
    } else {
      EXPECT_FALSE(graph.status().message().empty());
    }
  }
  // Cutting the model must lose something essential in all but a few prefixes.
  EXPECT_LT(accepted, bytes.size() / 2);
  auto empty = onnx_import::import_bytes("", "", {});
  EXPECT_EQ(empty.status().code(), StatusCode::kDataLoss);
}

TEST(Robustness, TruncatedIsDataLossWithTheLabel) {
  const std::string bytes = small_model_bytes();
  auto graph = onnx_import::import_bytes(std::string_view(bytes).substr(0, bytes.size() / 3), "", {});
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(graph.status().message().find("is not a valid ONNX model"), std::string::npos);
}

TEST(Robustness, RandomGarbage) {
  constexpr int kTrials = 500;
  std::mt19937_64 rng(99);
  int accepted = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string bytes(rng() % 512, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    auto graph = onnx_import::import_bytes(bytes, "", {});
    if (graph.ok()) {
      ++accepted;
      EXPECT_TRUE(ir::verify(*graph).ok());
    }
  }
  EXPECT_LT(accepted, kTrials / 100);  // noise is almost never a model with a graph and ir_version
}

TEST(Robustness, RandomByteFlipsOfAValidModel) {
  const std::string bytes = small_model_bytes();
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    auto graph = onnx_import::import_bytes(mutated, "", {.infer_and_verify = false});
    if (graph.ok()) (void)ir::verify(*graph);  // must not crash either way
  }
}

}  // namespace
}  // namespace kiln::onnx_test
