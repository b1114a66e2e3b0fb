// A Session stand-in for scheduler tests: one FP32 input "x" of shape [N,F], one output "y" =
// x * 2 + 1 computed here, and a configurable pause per run so that requests pile up.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "kiln/batch_runner.h"
#include "kiln/session.h"

namespace kiln::serving::testing {

class FakeSession : public Session {
 public:
  FakeSession(int64_t features, std::chrono::milliseconds run_time) : run_time_(run_time) {
    inputs_.push_back({"x", DType::kFloat32, {kDynamicDim, features}, {"N", ""}, true, false});
    outputs_.push_back({"y", DType::kFloat32, {kDynamicDim, features}, {"N", ""}, true, false});
  }
  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& feeds) const override {
    runs_.fetch_add(1);
    std::this_thread::sleep_for(run_time_);
    auto it = feeds.find("x");
    if (it == feeds.end()) return invalid_argument("missing x");
    const Tensor& x = it->second;
    Tensor y(DType::kFloat32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y.data<float>()[i] = x.data<float>()[i] * 2.0f + 1.0f;
    return std::vector<Tensor>{y};
  }
  int runs() const { return runs_.load(); }

 private:
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  std::chrono::milliseconds run_time_;
  mutable std::atomic<int> runs_{0};
};

// A FakeSession that also takes batches as row groups (as engines do): it joins the groups in
// the order given and counts the batches and groups it was handed.
class FakeBatchRunnerSession final : public FakeSession, public BatchRunner {
 public:
  using FakeSession::FakeSession;
  Result<std::vector<Tensor>> run_parts(const std::map<std::string, std::vector<Tensor>>& parts) const override {
    auto it = parts.find("x");
    if (it == parts.end() || parts.size() != 1) return invalid_argument("run_parts takes x only");
    part_runs_.fetch_add(1);
    groups_.fetch_add(static_cast<int>(it->second.size()));
    int64_t rows = 0;
    for (const Tensor& g : it->second) rows += g.shape()[0];
    Shape shape = it->second.front().shape();
    shape[0] = rows;
    Tensor joined(DType::kFloat32, shape);
    int64_t at = 0;
    for (const Tensor& g : it->second)
      for (int64_t i = 0; i < g.numel(); ++i) joined.data<float>()[at++] = g.data<float>()[i];
    return run({{"x", joined}});
  }
  int part_runs() const { return part_runs_.load(); }
  int groups() const { return groups_.load(); }

 private:
  mutable std::atomic<int> part_runs_{0};
  mutable std::atomic<int> groups_{0};
};

}  // namespace kiln::serving::testing
