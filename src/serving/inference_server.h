// The transport-independent server: owns the model repository, the loaded model versions and
// their schedulers. Front ends call it from their I/O threads; infer() only validates and
// enqueues, inference runs on scheduler threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "serving/inference.h"
#include "serving/engine_cache.h"
#include "serving/model_config.pb.h"
#include "serving/model_repository.h"
#include "serving/periodic_thread.h"
#include "serving/scheduler/scheduler.h"
#include "serving/server_log.h"

namespace kiln::serving {

// As in Triton: kNone loads everything at start; kExplicit only through the repository API;
// kPoll loads everything at start, then follows the repository's changes on disk.
enum class ModelControlMode { kNone, kExplicit, kPoll };

struct ServerOptions {
  std::string repository;
  ModelControlMode control_mode = ModelControlMode::kNone;
  std::chrono::nanoseconds repository_poll_interval = std::chrono::seconds(15);  // kPoll only
  // Where engines built from ONNX models are kept between starts (engine_cache.h); empty: no
  // cache, every load builds in memory. kiln serve defaults it to <repository>/.kiln-cache.
  std::string engine_cache_directory;
  // Size limit of the engine cache's plans in bytes; storing an entry evicts the least recently
  // used others beyond it. 0: no limit.
  uint64_t engine_cache_max_bytes = 0;
  LogFn log;  // load progress and warnings; none: stderr (called from several load threads at once)
  // Models loaded at once at start-up and by a poll that finds several changes (Triton's
  // --model-load-thread-count). ONNX models that build GPU engines still build one at a time:
  // concurrent builds would time their tactics against each other.
  int model_load_threads = 4;
};

struct TensorMetadata {
  std::string name;
  std::string datatype;        // wire name, "FP32"
  std::vector<int64_t> shape;  // -1: variable (the batch dimension too)
};

struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;
  std::string platform;
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
};

struct RepositoryEntry {
  std::string name;
  std::string version;  // "" for a model that failed before any version was known
  std::string state;    // READY, LOADING, UNAVAILABLE
  std::string reason;
};

struct VersionStatistics {
  std::string name;
  std::string version;
  ModelStatistics stats;
};

class InferenceServer {
 public:
  // Scans the repository and, in kNone and kPoll modes, loads every model. Models that fail to load are
  // reported in the repository index; the server still starts.
  static Result<std::unique_ptr<InferenceServer>> create(const ServerOptions& options);
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Validates the request against the model's configuration and hands it to the scheduler.
  // The request always completes through its on_complete callback, errors included.
  void infer(std::unique_ptr<InferenceRequest> request);

  bool live() const { return !shutting_down_; }
  // Ready: not shutting down and every model found at start-up loaded.
  bool ready() const;
  bool model_ready(const std::string& name, const std::string& version) const;
  // OK when ready; else why not (loading, its load failed, no such version).
  Status model_readiness(const std::string& name, const std::string& version) const;
  Result<ModelMetadata> model_metadata(const std::string& name, const std::string& version) const;
  Result<ModelConfig> model_config(const std::string& name, const std::string& version) const;
  std::vector<RepositoryEntry> repository_index(bool ready_only) const;
  // Repository API; kExplicit mode only.
  Status load_model(const std::string& name);
  Status unload_model(const std::string& name);
  // Every loaded version when name is empty; one model's versions, or one version.
  Result<std::vector<VersionStatistics>> statistics(const std::string& name, const std::string& version) const;

  // Stops accepting requests, completes the accepted ones, unloads every model.
  void shutdown();

 private:
  struct LoadedVersion {
    int64_t version = 0;
    std::shared_ptr<const Session> session;
    std::unique_ptr<Scheduler> scheduler;
  };
  struct LoadedModel {
    ModelConfig config;
    bool runs_on_gpu = false;  // every instance KIND_GPU: inputs may be in CUDA shared memory
    std::map<int64_t, std::shared_ptr<LoadedVersion>> versions;  // the policy's versions
  };

  explicit InferenceServer(ServerOptions options);
  // Called with load_mutex_ held. Builds without holding mutex_, so other models keep serving
  // (and this one shows as LOADING) while an engine builds.
  Status load_locked(const std::string& name);
  // load_locked for each name, on up to options_.model_load_threads threads. Called with
  // load_mutex_ held; failures are recorded as load_locked records them.
  void load_concurrently_locked(const std::vector<std::string>& names);
  Status load_unrecorded(const std::string& name);
  // Called with load_mutex_ held.
  void unload_locked(const std::string& name);
  // One rescan of the repository (kPoll mode runs it every repository_poll_interval): models
  // that appeared load, models whose directory changed reload (the previous version serves until
  // the new one is ready, and keeps serving if the new one fails), models that vanished unload.
  void poll_repository();
  void log(const std::string& line) const;
  Result<std::shared_ptr<LoadedModel>> find_model(const std::string& name) const;
  Result<std::shared_ptr<LoadedVersion>> find_version(const LoadedModel& model, const std::string& name,
                                                      const std::string& version) const;
  Status validate_request(const ModelConfig& config, InferenceRequest& request) const;
  void retire(std::shared_ptr<LoadedModel> model);

  ServerOptions options_;
  ModelRepository repository_;
  EngineCache engine_cache_;
  std::atomic<bool> shutting_down_{false};
  std::mutex load_mutex_;     // one load or unload at a time
  mutable std::mutex mutex_;  // guards models_, failures_ and loading_
  // infer() holds it shared from finding a model until its scheduler took the request; a swap
  // of models_ holds it exclusively. So once a reload or unload has swapped a model out, no
  // request can still reach the old scheduler as it shuts down: each was queued before (and is
  // drained) or finds the new model. Taken before mutex_.
  std::shared_mutex swap_mutex_;
  std::map<std::string, std::shared_ptr<LoadedModel>> models_;
  std::map<std::string, std::string> failures_;  // model name -> why it is not loaded
  std::set<std::string> loading_;
  // kPoll: each model directory's fingerprint when it was last (re)loaded; guarded by load_mutex_.
  std::map<std::string, std::string> fingerprints_;
  std::unique_ptr<PeriodicThread> poller_;  // kPoll only; stopped before the models retire
};

}  // namespace kiln::serving
