#include "serving/inference_server.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "kiln/cuda_ipc.h"
#include "serving/datatype.h"
#include "serving/directory_fingerprint.h"
#include "serving/model_config_loader.h"
#include "serving/scheduler/dynamic_batcher.h"
#include "serving/version_loader.h"

namespace kiln::serving {
namespace {

void fail_request(std::unique_ptr<InferenceRequest> request, Status status) {
  InferenceResponse response;
  response.id = request->id;
  response.model_name = request->model_name;
  response.model_version = request->model_version;
  response.status = std::move(status);
  response.requested = request->outputs;
  response.timestamps = request->timestamps;
  if (request->on_complete) request->on_complete(std::move(response));
}

// Outputs the client asked for in shared memory are copied into its regions when the inference
// succeeded; an output too large for its region turns the response into that error.
void deliver_to_shared_memory(InferenceRequest& request) {
  const bool any = std::any_of(request.outputs.begin(), request.outputs.end(),
                               [](const RequestedOutput& o) { return o.shared_memory.has_value(); });
  if (!any) return;
  request.on_complete = [inner = std::move(request.on_complete)](InferenceResponse&& response) {
    for (const NamedTensor& output : response.outputs) {
      if (!response.status.ok()) break;
      const RequestedOutput* requested = response.requested_for(output.name);
      if (requested != nullptr && requested->shared_memory)
        response.status = write_shared_memory_output(output.name, output.tensor, *requested->shared_memory);
    }
    if (inner) inner(std::move(response));
  };
}

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

template <class ConfigTensor>
TensorMetadata tensor_metadata(const ConfigTensor& tensor, int max_batch_size) {
  TensorMetadata meta;
  meta.name = tensor.name();
  const std::optional<DType> dtype = dtype_from_config_type(tensor.data_type());
  meta.datatype = dtype ? std::string(wire_name(*dtype)) : "INVALID";
  if (max_batch_size > 0) meta.shape.push_back(kDynamicDim);
  meta.shape.insert(meta.shape.end(), tensor.dims().begin(), tensor.dims().end());
  return meta;
}

}  // namespace

InferenceServer::InferenceServer(ServerOptions options)
    : options_(std::move(options)),
      repository_(options_.repository),
      engine_cache_(options_.engine_cache_directory, [this](const std::string& line) { log(line); },
                    options_.engine_cache_max_bytes) {}

InferenceServer::~InferenceServer() { shutdown(); }

void InferenceServer::log(const std::string& line) const {
  if (options_.log) return options_.log(line);
  std::fprintf(stderr, "kiln serve: %s\n", line.c_str());
}

Result<std::unique_ptr<InferenceServer>> InferenceServer::create(const ServerOptions& options) {
  std::unique_ptr<InferenceServer> server(new InferenceServer(options));
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> names, server->repository_.list_models());
  if (options.control_mode == ModelControlMode::kExplicit) return server;
  {
    std::lock_guard<std::mutex> lock(server->load_mutex_);
    for (const std::string& name : names) {
      // Taken before the load: a change made while it loads shows at the next poll.
      if (options.control_mode == ModelControlMode::kPoll) {
        server->fingerprints_[name] = directory_fingerprint(server->repository_.model_directory(name));
      }
    }
    server->load_concurrently_locked(names);  // failures are in failures_ and the repository index
  }
  if (options.control_mode == ModelControlMode::kPoll) {
    InferenceServer* raw = server.get();
    server->poller_ = std::make_unique<PeriodicThread>(options.repository_poll_interval, [raw] { raw->poll_repository(); });
  }
  return server;
}

void InferenceServer::load_concurrently_locked(const std::vector<std::string>& names) {
  const size_t threads = std::min(names.size(), static_cast<size_t>(std::max(options_.model_load_threads, 1)));
  std::atomic<size_t> next{0};
  auto load_next = [&] {
    for (size_t i = next++; i < names.size() && !shutting_down_; i = next++) (void)load_locked(names[i]);
  };
  // The calling thread is one of the loaders: with one thread no other is started.
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(load_next);
  load_next();
  for (std::thread& helper : helpers) helper.join();
}

Status InferenceServer::load_locked(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loading_.insert(name);
  }
  log("model '" + name + "': loading");
  Status status = load_unrecorded(name);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loading_.erase(name);
    if (!status.ok()) failures_[name] = status.message();
  }
  log(status.ok() ? "model '" + name + "': ready" : "model '" + name + "': not loaded: " + status.message());
  return status;
}

Status InferenceServer::load_unrecorded(const std::string& name) {
  KILN_RETURN_IF_ERROR(check_model_name(name));
  const std::string display_path = repository_.root() + "/" + name + "/" + kConfigFileName;
  ModelConfig config;
  ConfigLocations locations;
  if (repository_.has_config(name)) {
    KILN_ASSIGN_OR_RETURN(config, read_model_config(repository_.config_path(name), display_path, &locations));
  }
  KILN_RETURN_IF_ERROR(validate_model_config(config, name, display_path));
  const bool default_file = config.default_model_filename().empty();
  const std::string file_name = default_file ? kDefaultModelFileName : config.default_model_filename();
  if (Status status = check_model_name(file_name); !status.ok()) {
    return invalid_argument(display_path + ": default_model_filename: " + status.message());
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> available, repository_.list_versions(name));
  const std::vector<int64_t> selected = select_versions(config.version_policy(), available);
  if (selected.empty()) return not_found("model '" + name + "': no version directory matches the version policy");

  auto model = std::make_shared<LoadedModel>();
  std::vector<std::pair<int64_t, std::shared_ptr<const Session>>> sessions;
  for (size_t i = 0; i < selected.size(); ++i) {
    const std::string path = default_file ? repository_.default_model_file(name, selected[i])
                                          : repository_.model_file(name, selected[i], file_name);
    VersionSource source{name, selected[i], path, repository_.model_directory(name), display_path};
    // The first (highest) version completes the configuration; the others must agree with it.
    ModelConfig checked = config;
    Result<std::shared_ptr<const Session>> session =
        load_version(i == 0 ? config : checked, source, locations, engine_cache_, [this](const std::string& line) { log(line); });
    if (!session.ok()) return session.status();
    sessions.emplace_back(selected[i], std::move(session).value());
  }
  model->config = config;
  // The completed config has every instance group's kind resolved (KIND_AUTO included).
  model->runs_on_gpu = !config.instance_group().empty() &&
                       std::all_of(config.instance_group().begin(), config.instance_group().end(),
                                   [](const ModelInstanceGroup& g) { return g.kind() == ModelInstanceGroup::KIND_GPU; });
  const BatcherOptions batcher = batcher_options_from_config(config);
  for (auto& [version, session] : sessions) {
    auto loaded = std::make_shared<LoadedVersion>();
    loaded->version = version;
    loaded->session = session;
    loaded->scheduler = std::make_unique<DynamicBatcher>(session, batcher, name, std::to_string(version));
    model->versions[version] = std::move(loaded);
  }
  std::shared_ptr<LoadedModel> previous;
  bool installed = false;
  {
    std::unique_lock<std::shared_mutex> swap_lock(swap_mutex_);
    std::lock_guard<std::mutex> lock(mutex_);
    // shutdown() may have emptied models_ while this built: do not install behind its back.
    if (shutting_down_) {
      previous = std::move(model);
    } else {
      failures_.erase(name);
      if (auto it = models_.find(name); it != models_.end()) previous = it->second;
      models_[name] = std::move(model);
      installed = true;
    }
  }
  if (previous) retire(std::move(previous));
  if (!installed) return unavailable("the server is shutting down");
  return {};
}

void InferenceServer::retire(std::shared_ptr<LoadedModel> model) {
  for (auto& [version, loaded] : model->versions) loaded->scheduler->shutdown();
}

Result<std::shared_ptr<InferenceServer::LoadedModel>> InferenceServer::find_model(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    if (loading_.contains(name)) return unavailable("model '" + name + "' is loading");
    auto failure = failures_.find(name);
    if (failure != failures_.end()) return unavailable("model '" + name + "' is not ready: " + failure->second);
    return not_found("unknown model: '" + name + "'");
  }
  return it->second;
}

Result<std::shared_ptr<InferenceServer::LoadedVersion>> InferenceServer::find_version(const LoadedModel& model,
                                                                                      const std::string& name,
                                                                                      const std::string& version) const {
  if (model.versions.empty()) return unavailable("model '" + name + "' has no loaded version");
  if (version.empty()) return model.versions.rbegin()->second;
  KILN_ASSIGN_OR_RETURN(int64_t number, parse_version(version));
  auto it = model.versions.find(number);
  if (it == model.versions.end()) return not_found("model '" + name + "' has no loaded version " + version);
  return it->second;
}

Status InferenceServer::validate_request(const ModelConfig& config, InferenceRequest& request) const {
  const int max_batch = config.max_batch_size();
  int64_t batch = -1;
  for (NamedTensor& input : request.inputs) {
    auto it = std::find_if(config.input().begin(), config.input().end(),
                           [&](const ModelInput& c) { return c.name() == input.name; });
    if (it == config.input().end()) {
      return invalid_argument("unexpected inference input '" + input.name + "' for model '" + config.name() + "'");
    }
    const std::optional<DType> expected = dtype_from_config_type(it->data_type());
    if (!expected || *expected != input.tensor.dtype()) {
      return invalid_argument("input '" + input.name + "': datatype " + std::string(wire_name(input.tensor.dtype())) +
                              " does not match the model's " + (expected ? std::string(wire_name(*expected)) : "?"));
    }
    std::vector<int64_t> dims = input.tensor.shape().dims();
    const std::vector<int64_t> expected_dims(it->dims().begin(), it->dims().end());
    std::string expected_text = shape_text(expected_dims);
    if (max_batch > 0) {
      expected_text = "[-1," + expected_text.substr(1);
      if (dims.empty() || dims[0] < 1 || dims[0] > max_batch) {
        return invalid_argument("input '" + input.name + "': shape " + shape_text(dims) + " needs a batch dimension between 1 and " +
                                std::to_string(max_batch) + " (expected " + expected_text + ")");
      }
      if (batch >= 0 && dims[0] != batch) {
        return invalid_argument("input '" + input.name + "': batch size " + std::to_string(dims[0]) +
                                " differs from the other inputs' " + std::to_string(batch));
      }
      batch = dims[0];
      dims.erase(dims.begin());
    }
    bool matches = dims.size() == expected_dims.size();
    for (size_t i = 0; matches && i < dims.size(); ++i) {
      matches = expected_dims[i] == kDynamicDim || expected_dims[i] == dims[i];
    }
    if (!matches) {
      return invalid_argument("input '" + input.name + "': shape " + input.tensor.shape().to_string() +
                              " does not match the model's " + expected_text);
    }
    if (it->has_reshape()) {
      std::vector<int64_t> target(it->reshape().shape().begin(), it->reshape().shape().end());
      if (max_batch > 0) target.insert(target.begin(), batch);
      Result<Tensor> reshaped = input.tensor.reshaped(Shape(target));
      if (!reshaped.ok()) return reshaped.status().with_context("input '" + input.name + "' reshape");
      input.tensor = std::move(reshaped).value();
    }
  }
  for (const ModelInput& c : config.input()) {
    if (c.optional()) continue;
    if (std::none_of(request.inputs.begin(), request.inputs.end(), [&](const NamedTensor& t) { return t.name == c.name(); })) {
      return invalid_argument("missing inference input '" + c.name() + "' for model '" + config.name() + "'");
    }
  }
  for (const RequestedOutput& output : request.outputs) {
    if (std::none_of(config.output().begin(), config.output().end(),
                     [&](const ModelOutput& c) { return c.name() == output.name; })) {
      return invalid_argument("unexpected inference output '" + output.name + "' for model '" + config.name() + "'");
    }
  }
  return {};
}

void InferenceServer::infer(std::unique_ptr<InferenceRequest> request) {
  if (request->timestamps.received == Clock::time_point{}) request->timestamps.received = Clock::now();
  if (shutting_down_) return fail_request(std::move(request), unavailable("the server is shutting down"));
  std::shared_lock<std::shared_mutex> swap_lock(swap_mutex_);
  Result<std::shared_ptr<LoadedModel>> model = find_model(request->model_name);
  if (!model.ok()) return fail_request(std::move(request), model.status());
  Result<std::shared_ptr<LoadedVersion>> version = find_version(**model, request->model_name, request->model_version);
  if (!version.ok()) return fail_request(std::move(request), version.status());
  if (Status status = validate_request((*model)->config, *request); !status.ok()) {
    return fail_request(std::move(request), status);
  }
  if (!(*model)->runs_on_gpu) {
    // GPU memory (a CUDA shared-memory region) read on the host would crash the server.
    for (const NamedTensor& input : request->inputs) {
      if (input.tensor.nbytes() > 0 && is_cuda_device_memory(input.tensor.raw_data()))
        return fail_request(std::move(request), invalid_argument("input '" + input.name + "' is in CUDA shared memory, but model '" +
                                                                 request->model_name + "' runs on the CPU (KIND_CPU)"));
    }
  }
  request->model_version = std::to_string((*version)->version);
  deliver_to_shared_memory(*request);
  (*version)->scheduler->enqueue(std::move(request));
}

bool InferenceServer::ready() const {
  if (shutting_down_) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  return failures_.empty() && loading_.empty();
}

bool InferenceServer::model_ready(const std::string& name, const std::string& version) const {
  return model_readiness(name, version).ok();
}

Status InferenceServer::model_readiness(const std::string& name, const std::string& version) const {
  if (shutting_down_) return unavailable("the server is shutting down");
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedModel> model, find_model(name));
  return find_version(*model, name, version).status();
}

Result<ModelMetadata> InferenceServer::model_metadata(const std::string& name, const std::string& version) const {
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedModel> model, find_model(name));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedVersion> loaded, find_version(*model, name, version));
  (void)loaded;
  const ModelConfig& config = model->config;
  ModelMetadata meta;
  meta.name = name;
  for (auto it = model->versions.rbegin(); it != model->versions.rend(); ++it) meta.versions.push_back(std::to_string(it->first));
  meta.platform = config.platform().empty() ? config.backend() : config.platform();
  for (const ModelInput& input : config.input()) meta.inputs.push_back(tensor_metadata(input, config.max_batch_size()));
  for (const ModelOutput& output : config.output()) meta.outputs.push_back(tensor_metadata(output, config.max_batch_size()));
  return meta;
}

Result<ModelConfig> InferenceServer::model_config(const std::string& name, const std::string& version) const {
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedModel> model, find_model(name));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedVersion> loaded, find_version(*model, name, version));
  (void)loaded;
  return model->config;
}

std::vector<RepositoryEntry> InferenceServer::repository_index(bool ready_only) const {
  std::vector<std::string> names;
  if (Result<std::vector<std::string>> listed = repository_.list_models(); listed.ok()) names = *listed;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, model] : models_) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  for (const std::string& name : loading_) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  std::vector<RepositoryEntry> entries;
  for (const std::string& name : names) {
    if (auto it = models_.find(name); it != models_.end()) {
      for (const auto& [version, loaded] : it->second->versions) entries.push_back({name, std::to_string(version), "READY", ""});
    } else if (ready_only) {
      continue;
    } else if (loading_.contains(name)) {
      entries.push_back({name, "", "LOADING", ""});
    } else if (auto failure = failures_.find(name); failure != failures_.end()) {
      entries.push_back({name, "", "UNAVAILABLE", failure->second});
    } else {
      entries.push_back({name, "", "", ""});
    }
  }
  return entries;
}

Status InferenceServer::load_model(const std::string& name) {
  if (options_.control_mode != ModelControlMode::kExplicit) {
    return unavailable("explicit model load / unload is not allowed if polling is enabled or model control mode is none");
  }
  if (shutting_down_) return unavailable("the server is shutting down");
  std::lock_guard<std::mutex> lock(load_mutex_);
  return load_locked(name);
}

Status InferenceServer::unload_model(const std::string& name) {
  if (options_.control_mode != ModelControlMode::kExplicit) {
    return unavailable("explicit model load / unload is not allowed if polling is enabled or model control mode is none");
  }
  KILN_RETURN_IF_ERROR(check_model_name(name));
  std::lock_guard<std::mutex> load_lock(load_mutex_);  // waits for a load of the model in progress
  unload_locked(name);  // unloading a model that is not loaded is not an error (as in Triton)
  return {};
}

void InferenceServer::unload_locked(const std::string& name) {
  std::shared_ptr<LoadedModel> model;
  {
    std::unique_lock<std::shared_mutex> swap_lock(swap_mutex_);
    std::lock_guard<std::mutex> lock(mutex_);
    failures_.erase(name);
    auto it = models_.find(name);
    if (it == models_.end()) return;
    model = std::move(it->second);
    models_.erase(it);
  }
  retire(std::move(model));
}

void InferenceServer::poll_repository() {
  Result<std::vector<std::string>> names = repository_.list_models();
  if (!names.ok()) {
    // A repository that cannot be read (an unmounted volume) keeps what is loaded instead of
    // unloading every model; the next poll tries again.
    log("repository poll: " + names.status().message() + "; the loaded models stay");
    return;
  }
  std::lock_guard<std::mutex> load_lock(load_mutex_);
  std::map<std::string, std::string> current;
  for (const std::string& name : *names) current[name] = directory_fingerprint(repository_.model_directory(name));
  for (auto it = fingerprints_.begin(); it != fingerprints_.end();) {
    if (shutting_down_) return;
    if (current.contains(it->first)) {
      ++it;
      continue;
    }
    log("model '" + it->first + "': removed from the repository, unloading");
    unload_locked(it->first);
    it = fingerprints_.erase(it);
  }
  std::vector<std::string> changed;
  for (const auto& [name, fingerprint] : current) {
    auto known = fingerprints_.find(name);
    if (known != fingerprints_.end() && known->second == fingerprint) continue;
    log("model '" + name + "': " + (known == fingerprints_.end() ? "added to" : "changed in") + " the repository");
    fingerprints_[name] = fingerprint;
    changed.push_back(name);
  }
  // Failures are recorded in failures_; a reload that failed leaves the previous model serving.
  load_concurrently_locked(changed);
}

Result<std::vector<VersionStatistics>> InferenceServer::statistics(const std::string& name, const std::string& version) const {
  std::vector<std::pair<std::string, std::shared_ptr<LoadedModel>>> models;
  if (name.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    models.assign(models_.begin(), models_.end());
  } else {
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedModel> model, find_model(name));
    models.emplace_back(name, std::move(model));
  }
  std::vector<VersionStatistics> result;
  for (const auto& [model_name, model] : models) {
    if (!version.empty()) {
      KILN_ASSIGN_OR_RETURN(std::shared_ptr<LoadedVersion> loaded, find_version(*model, model_name, version));
      result.push_back({model_name, version, loaded->scheduler->statistics()});
      continue;
    }
    for (const auto& [number, loaded] : model->versions) {
      result.push_back({model_name, std::to_string(number), loaded->scheduler->statistics()});
    }
  }
  return result;
}

void InferenceServer::shutdown() {
  shutting_down_ = true;
  if (poller_) poller_->stop();  // waits for a poll in progress, which stops at its next model
  std::map<std::string, std::shared_ptr<LoadedModel>> models;
  {
    std::unique_lock<std::shared_mutex> swap_lock(swap_mutex_);
    std::lock_guard<std::mutex> lock(mutex_);
    models.swap(models_);
  }
  for (auto& [name, model] : models) retire(model);
}

}  // namespace kiln::serving
