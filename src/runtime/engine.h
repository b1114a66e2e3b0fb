// Engine: a plan file loaded once -- constants uploaded to the device, one prepared kernel per
// step -- and shared by any number of ExecutionContexts (each with its own arena and stream).
// The runtime needs only core, the backends and the plan format: no importer, passes or builder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/device.h"
#include "kiln/status.h"
#include "plan/plan_file.h"

namespace kiln::runtime {

class ExecutionContext;

struct EngineTensor {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;
  size_t nbytes = 0;
};

// One step as kiln inspect and profiles show it.
struct StepInfo {
  std::string name;
  std::string op;
  std::string backend;     // empty for alias steps (views that move no data)
  std::string tactic;      // what the kernel says it is
  double measured_ms = 0;  // the builder's timing
  int64_t flops = 0;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // cpu_threads > 0: the plan's "cpu" steps run on a CPU backend with that many threads (a
  // session's own count); 0: the process's shared one (KILN_CPU_THREADS, else every core).
  static Result<std::shared_ptr<Engine>> load(const std::string& plan_path, int cpu_threads = 0);
  static Result<std::shared_ptr<Engine>> from_plan(std::shared_ptr<const plan::PlanFile> plan, int cpu_threads = 0);
  ~Engine();

  // Profiles: the input shapes the plan was built for, each a complete engine (its own steps
  // and memory plan) over the shared constants.
  size_t profile_count() const { return profiles_.size(); }
  int cpu_threads() const { return cpu_threads_; }  // 0: the process's shared CPU backend
  const std::shared_ptr<const plan::PlanFile>& plan_file() const { return plan_; }
  const std::vector<EngineTensor>& inputs(size_t profile = 0) const { return profiles_.at(profile).inputs; }
  const std::vector<EngineTensor>& outputs(size_t profile = 0) const { return profiles_.at(profile).outputs; }
  const backends::Device& device() const { return *device_; }
  const plan::PlanHeader& header() const { return plan_->header(); }
  std::vector<StepInfo> steps(size_t profile = 0) const;

  // A new context for one profile: allocates its arena, workspace, stream and staging buffers.
  Result<std::unique_ptr<ExecutionContext>> create_context(size_t profile = 0, bool use_graph_capture = true) const;

 private:
  friend class ExecutionContext;
  int cpu_threads_ = 0;
  struct Step {
    std::unique_ptr<backends::Kernel> kernel;  // null for alias steps
    std::vector<int> inputs;
    std::vector<int> outputs;
  };
  struct ProfileState {
    const plan::Profile* proto = nullptr;
    std::vector<Attributes> attributes;            // per step; kernels may keep references to them
    std::vector<std::vector<Tensor>> constant_views;  // per step: host views of its constant inputs
    std::vector<Step> steps;
    std::vector<EngineTensor> inputs;
    std::vector<EngineTensor> outputs;
    size_t workspace_bytes = 0;
  };
  Engine() = default;
  Status prepare(ProfileState& profile, size_t index);
  Status upload_constants();
  // Where a constant value lies on the device (the weights upload, or the mapped file on the host).
  const void* constant_address(const plan::Value& value) const;

  std::shared_ptr<const plan::PlanFile> plan_;
  const backends::Device* device_ = nullptr;
  backends::DeviceBuffer device_weights_;  // empty on the host: constants are used in place
  std::vector<ProfileState> profiles_;
};

}  // namespace kiln::runtime
