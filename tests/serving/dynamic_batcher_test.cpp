#include "serving/scheduler/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "fake_session.h"

namespace kiln::serving {
namespace {

using testing::FakeSession;
using namespace std::chrono_literals;
constexpr int64_t kFeatures = 3;

struct Submitted {
  std::vector<float> input;
  std::future<InferenceResponse> response;
};

Submitted submit(Scheduler& scheduler, std::mt19937& rng, int64_t rows, uint64_t timeout_us = 0,
                 Clock::time_point client_deadline = Clock::time_point::max()) {
  std::uniform_real_distribution<float> dist(-5.0f, 5.0f);
  Submitted s;
  s.input.resize(static_cast<size_t>(rows * kFeatures));
  for (float& v : s.input) v = dist(rng);
  auto promise = std::make_shared<std::promise<InferenceResponse>>();
  s.response = promise->get_future();
  auto request = std::make_unique<InferenceRequest>();
  request->model_name = "fake";
  request->timeout_us = timeout_us;
  request->client_deadline = client_deadline;
  request->inputs.push_back({"x", Tensor::from_vector(DType::kFloat32, Shape{rows, kFeatures}, s.input)});
  request->on_complete = [promise](InferenceResponse&& r) { promise->set_value(std::move(r)); };
  scheduler.enqueue(std::move(request));
  return s;
}

void expect_doubled_plus_one(const Submitted& s, const InferenceResponse& r) {
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.outputs.size(), 1u);
  const Tensor& y = r.outputs[0].tensor;
  ASSERT_EQ(static_cast<size_t>(y.numel()), s.input.size());
  for (size_t i = 0; i < s.input.size(); ++i) EXPECT_FLOAT_EQ(y.data<float>()[i], s.input[i] * 2.0f + 1.0f);
}

TEST(DynamicBatcher, ConcurrentRequestsShareBatches) {
  auto session = std::make_shared<FakeSession>(kFeatures, 20ms);
  BatcherOptions options;
  options.max_batch_size = 8;
  options.dynamic_batching = true;
  options.max_queue_delay = 50ms;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(1234);
  std::vector<Submitted> submitted;
  const int64_t rows[] = {1, 2, 1, 3, 1, 1, 2, 1, 1, 2};
  for (int64_t r : rows) submitted.push_back(submit(batcher, rng, r));
  for (Submitted& s : submitted) {
    InferenceResponse r = s.response.get();
    expect_doubled_plus_one(s, r);
    EXPECT_GE(r.timestamps.compute_start, r.timestamps.queued);
    EXPECT_GE(r.timestamps.compute_end, r.timestamps.compute_start);
  }
  const ModelStatistics stats = batcher.statistics();
  EXPECT_EQ(stats.inference_count, 15u);
  EXPECT_LT(stats.execution_count, std::size(rows));
  EXPECT_EQ(stats.success.count, std::size(rows));
  EXPECT_EQ(static_cast<uint64_t>(session->runs()), stats.execution_count);
  for (const auto& [size, batch] : stats.batch_stats) EXPECT_LE(size, 8u);
}

// A session with a batch runner gets each batch of several requests as their own tensors, in
// queue order (no join in the batcher), and each request still gets back its own rows.
TEST(DynamicBatcher, HandsBatchesToTheSessionsBatchRunnerAsRowGroups) {
  auto session = std::make_shared<testing::FakeBatchRunnerSession>(kFeatures, 20ms);
  BatcherOptions options;
  options.max_batch_size = 8;
  options.dynamic_batching = true;
  options.max_queue_delay = 50ms;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(4321);
  std::vector<Submitted> submitted;
  const int64_t rows[] = {2, 1, 3, 1, 1, 2, 1, 2};
  for (int64_t r : rows) submitted.push_back(submit(batcher, rng, r));
  for (Submitted& s : submitted) expect_doubled_plus_one(s, s.response.get());
  const ModelStatistics stats = batcher.statistics();
  EXPECT_EQ(stats.inference_count, 13u);
  EXPECT_LT(stats.execution_count, std::size(rows));
  ASSERT_GT(session->part_runs(), 0);
  // Every request that shared a batch went in as one group; single requests ran through run().
  const int single_runs = static_cast<int>(stats.execution_count) - session->part_runs();
  EXPECT_EQ(session->groups() + single_runs, static_cast<int>(std::size(rows)));
  EXPECT_EQ(session->runs(), static_cast<int>(stats.execution_count));
}

TEST(DynamicBatcher, WithoutDynamicBatchingRunsOneByOne) {
  auto session = std::make_shared<FakeSession>(kFeatures, 1ms);
  BatcherOptions options;
  options.max_batch_size = 8;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(99);
  std::vector<Submitted> submitted;
  for (int i = 0; i < 5; ++i) submitted.push_back(submit(batcher, rng, 2));
  for (Submitted& s : submitted) expect_doubled_plus_one(s, s.response.get());
  EXPECT_EQ(batcher.statistics().execution_count, 5u);
  EXPECT_EQ(batcher.statistics().inference_count, 10u);
}

TEST(DynamicBatcher, FullQueueRejectsWithResourceExhausted) {
  auto session = std::make_shared<FakeSession>(kFeatures, 100ms);
  BatcherOptions options;
  options.max_batch_size = 1;
  options.dynamic_batching = true;
  options.max_queue_size = 2;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(7);
  std::vector<Submitted> submitted;
  submitted.push_back(submit(batcher, rng, 1));
  std::this_thread::sleep_for(30ms);  // the worker is now busy with the first request
  for (int i = 0; i < 4; ++i) submitted.push_back(submit(batcher, rng, 1));
  int rejected = 0;
  for (Submitted& s : submitted) {
    InferenceResponse r = s.response.get();
    if (r.status.ok()) {
      expect_doubled_plus_one(s, r);
    } else {
      EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted) << r.status.message();
      ++rejected;
    }
  }
  EXPECT_EQ(rejected, 2);
  EXPECT_EQ(batcher.statistics().fail.count, 2u);
}

TEST(DynamicBatcher, QueueTimeoutRejectsWaitingRequests) {
  auto session = std::make_shared<FakeSession>(kFeatures, 100ms);
  BatcherOptions options;
  options.max_batch_size = 1;
  options.dynamic_batching = true;
  options.default_timeout_us = 20000;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(11);
  Submitted first = submit(batcher, rng, 1);
  std::this_thread::sleep_for(10ms);
  Submitted second = submit(batcher, rng, 1);  // waits ~90 ms behind the first: past its timeout
  expect_doubled_plus_one(first, first.response.get());
  InferenceResponse late = second.response.get();
  EXPECT_EQ(late.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(late.status.message().find("timeout"), std::string::npos);
}

// A client that stopped waiting (gRPC deadline) gets DEADLINE_EXCEEDED, and its request is never
// run: the instance stays free for requests someone still waits for.
TEST(DynamicBatcher, ClientDeadlineDropsQueuedRequestsUnrun) {
  auto session = std::make_shared<FakeSession>(kFeatures, 150ms);
  BatcherOptions options;
  options.max_batch_size = 8;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(5);
  Submitted busy = submit(batcher, rng, 1);  // holds the only instance for 150 ms
  std::this_thread::sleep_for(20ms);
  Submitted expires = submit(batcher, rng, 1, 0, Clock::now() + 30ms);
  Submitted already_past = submit(batcher, rng, 1, 0, Clock::now() - 1ms);
  Submitted patient = submit(batcher, rng, 1, 0, Clock::now() + 10s);
  const InferenceResponse past = already_past.response.get();
  EXPECT_EQ(past.status.code(), StatusCode::kDeadlineExceeded) << past.status.message();
  EXPECT_NE(past.status.message().find("deadline"), std::string::npos) << past.status.message();
  expect_doubled_plus_one(busy, busy.response.get());
  const InferenceResponse expired = expires.response.get();
  EXPECT_EQ(expired.status.code(), StatusCode::kDeadlineExceeded) << expired.status.message();
  expect_doubled_plus_one(patient, patient.response.get());
  EXPECT_EQ(session->runs(), 2) << "a request past its client deadline ran";
  const ModelStatistics stats = batcher.statistics();
  EXPECT_EQ(stats.success.count, 2u);
  EXPECT_EQ(stats.fail.count, 2u);
}

TEST(DynamicBatcher, ShutdownDrainsAcceptedRequestsAndRejectsNewOnes) {
  auto session = std::make_shared<FakeSession>(kFeatures, 5ms);
  BatcherOptions options;
  options.max_batch_size = 4;
  options.dynamic_batching = true;
  options.instance_count = 2;
  DynamicBatcher batcher(session, options, "fake", "1");
  std::mt19937 rng(5);
  std::vector<Submitted> submitted;
  for (int i = 0; i < 12; ++i) submitted.push_back(submit(batcher, rng, 1));
  batcher.shutdown();
  for (Submitted& s : submitted) expect_doubled_plus_one(s, s.response.get());
  Submitted after = submit(batcher, rng, 1);
  EXPECT_EQ(after.response.get().status.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kiln::serving
