#include "serve_grpc_wire.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "serve_grpc_codec.h"

namespace kiln::cli::serve {
namespace {

std::string random_bytes(size_t n, std::mt19937& random) {
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

inference::ModelInferRequest sample_request(std::mt19937& random) {
  inference::ModelInferRequest message;
  message.set_model_name("resnet");
  message.set_model_version("3");
  message.set_id("request-7");
  (*message.mutable_parameters())["priority"].set_int64_param(2);
  auto* image = message.add_inputs();
  image->set_name("image");
  image->set_datatype("FP32");
  for (int64_t d : {2, 3, 100, 100}) image->add_shape(d);
  auto* flags = message.add_inputs();
  flags->set_name("flags");
  flags->set_datatype("INT8");
  flags->add_shape(10);
  message.add_outputs()->set_name("logits");
  message.add_raw_input_contents(random_bytes(2 * 3 * 100 * 100 * 4, random));
  message.add_raw_input_contents(random_bytes(10, random));
  return message;
}

// The serialized bytes cut into pieces of random sizes, as gRPC's slices come.
std::vector<std::string_view> cut(const std::string& wire, std::mt19937& random) {
  std::vector<std::string_view> pieces;
  size_t at = 0;
  while (at < wire.size()) {
    const size_t n = std::min(wire.size() - at, std::uniform_int_distribution<size_t>(1, 70000)(random));
    pieces.push_back(std::string_view(wire).substr(at, n));
    at += n;
  }
  return pieces;
}

TEST(SplitModelInferRequest, TakesTheRawContentsOutAndParsesTheRest) {
  std::mt19937 random(7);
  const inference::ModelInferRequest original = sample_request(random);
  const std::string wire = original.SerializeAsString();
  serving::TransferBufferPool pool(size_t{64} << 20);
  for (int round = 0; round < 5; ++round) {
    inference::ModelInferRequest message;
    std::vector<InferBody> raw;
    ASSERT_TRUE(split_model_infer_request(cut(wire, random), pool, message, raw).ok());
    EXPECT_EQ(message.model_name(), "resnet");
    EXPECT_EQ(message.model_version(), "3");
    EXPECT_EQ(message.id(), "request-7");
    EXPECT_EQ(message.parameters().at("priority").int64_param(), 2);
    ASSERT_EQ(message.inputs_size(), 2);
    EXPECT_EQ(message.inputs(1).name(), "flags");
    ASSERT_EQ(message.outputs_size(), 1);
    EXPECT_EQ(message.raw_input_contents_size(), 0);
    ASSERT_EQ(raw.size(), 2u);
    EXPECT_EQ(raw[0].bytes, original.raw_input_contents(0));
    EXPECT_EQ(raw[1].bytes, original.raw_input_contents(1));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(raw[0].bytes.data()) % 64, 0u) << "tensors can view the buffer as any type";
  }
  EXPECT_GT(pool.pooled_bytes(), 0u) << "the large input came from the pool";
}

TEST(SplitModelInferRequest, TheDecodedTensorsViewTheTransferBuffer) {
  std::mt19937 random(8);
  const std::string wire = sample_request(random).SerializeAsString();
  serving::TransferBufferPool pool(size_t{64} << 20);
  inference::ModelInferRequest message;
  std::vector<InferBody> raw;
  ASSERT_TRUE(split_model_infer_request(cut(wire, random), pool, message, raw).ok());
  const serving::SharedMemoryRegistry no_regions(false);
  serving::InferenceRequest request;
  ASSERT_TRUE(decode_model_infer_request(message, raw, no_regions, request).ok());
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].tensor.raw_data(), static_cast<const void*>(raw[0].bytes.data())) << "no copy after the split";
  EXPECT_EQ(request.inputs[0].tensor.shape(), Shape({2, 3, 100, 100}));
}

TEST(SplitModelInferRequest, RefusesTruncatedAndMalformedMessagesNamingTheProblem) {
  std::mt19937 random(9);
  const std::string wire = sample_request(random).SerializeAsString();
  serving::TransferBufferPool pool(size_t{64} << 20);
  inference::ModelInferRequest message;
  std::vector<InferBody> raw;
  // Cut inside the large raw entry: always an error, never a shorter tensor.
  const std::string cut_short = wire.substr(0, wire.size() - 100);
  Status status = split_model_infer_request({cut_short}, pool, message, raw);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("truncated"), std::string::npos) << status.message();
  EXPECT_FALSE(split_model_infer_request({std::string_view("\x0b\x01", 2)}, pool, message, raw).ok()) << "wire type 3 (a group)";
  EXPECT_FALSE(split_model_infer_request({std::string_view("\x00\x01", 2)}, pool, message, raw).ok()) << "field number 0";
  EXPECT_FALSE(split_model_infer_request({std::string_view("\x0a\xff", 2)}, pool, message, raw).ok()) << "a cut-off length";
  const std::string endless_varint(11, '\xff');
  EXPECT_FALSE(split_model_infer_request({endless_varint}, pool, message, raw).ok());
  // Every prefix either splits or fails cleanly (ASan/UBSan watch the reads).
  const std::string small = [] {
    inference::ModelInferRequest m;
    m.set_model_name("m");
    m.add_inputs()->set_name("x");
    m.add_raw_input_contents("abcdefgh");
    return m.SerializeAsString();
  }();
  for (size_t n = 0; n <= small.size(); ++n) (void)split_model_infer_request({std::string_view(small).substr(0, n)}, pool, message, raw);
  EXPECT_TRUE(split_model_infer_request({small}, pool, message, raw).ok());
  EXPECT_EQ(raw.at(0).bytes, "abcdefgh");
}

}  // namespace
}  // namespace kiln::cli::serve
