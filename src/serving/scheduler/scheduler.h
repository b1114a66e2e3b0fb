// A model version's scheduler: accepts requests, runs them on the model's instances and
// completes each one exactly once through its on_complete callback (errors included).
#pragma once

#include <memory>

#include "serving/inference.h"
#include "serving/scheduler/model_statistics.h"

namespace kiln::serving {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Takes ownership; the request completes later on a scheduler thread, or right away with an
  // error (queue full, shutting down).
  virtual void enqueue(std::unique_ptr<InferenceRequest> request) = 0;
  // Stops accepting requests, runs every accepted one, then joins the worker threads.
  virtual void shutdown() = 0;
  virtual ModelStatistics statistics() const = 0;
};

}  // namespace kiln::serving
