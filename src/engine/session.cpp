#include "kiln/session.h"

#include "engine/constant_evaluator.h"
#include "engine/engine_session.h"
#include "engine/graph_executor.h"
#include "onnx/importer.h"
#include "passes/pipeline.h"
#include "plan/plan_file.h"

namespace kiln {
namespace {

class ReferenceSession final : public Session {
 public:
  explicit ReferenceSession(std::unique_ptr<engine::GraphExecutor> executor) : executor_(std::move(executor)) {
    for (const ir::Value* in : executor_->graph().inputs()) inputs_.push_back(engine::tensor_info_of(*in));
    for (const ir::Value* out : executor_->graph().outputs()) outputs_.push_back(engine::tensor_info_of(*out));
  }

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& inputs) const override {
    return executor_->run(inputs);
  }
  std::string description() const override { return "reference executor"; }

 private:
  std::unique_ptr<engine::GraphExecutor> executor_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
};

}  // namespace

Result<std::unique_ptr<Session>> Session::open(const std::string& model_path, const SessionOptions& options) {
  if (plan::looks_like_plan(model_path)) return engine::open_plan_session(model_path, options);
  KILN_ASSIGN_OR_RETURN(ir::Graph graph, onnx_import::import_file(model_path));
  if (!options.backend.empty()) return engine::build_engine_session(std::move(graph), model_path, options);
  if (options.optimize) {
    passes::PipelineOptions pipeline;
    pipeline.evaluate = engine::reference_node_evaluator();
    pipeline.channels_last = options.channels_last;
    KILN_RETURN_IF_ERROR(passes::run_pipeline(graph, pipeline).with_context("graph optimizer"));
  }
  KILN_ASSIGN_OR_RETURN(auto executor, engine::GraphExecutor::create(std::move(graph)));
  return std::unique_ptr<Session>(new ReferenceSession(std::move(executor)));
}

}  // namespace kiln
