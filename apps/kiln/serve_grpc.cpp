#include "serve_grpc.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "grpc_service.grpc.pb.h"
#include "openssl_common.h"
#include "serve_grpc_codec.h"
#include "serve_grpc_wire.h"
#include "serve_protocol.h"

namespace kiln::cli::serve {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(5);
constexpr int kMillisecondsPerSecond = 1000;

grpc::Status to_grpc(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return grpc::Status::OK;
    case StatusCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, status.message()};
    case StatusCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, status.message()};
    case StatusCode::kUnimplemented: return {grpc::StatusCode::UNIMPLEMENTED, status.message()};
    case StatusCode::kDataLoss: return {grpc::StatusCode::DATA_LOSS, status.message()};
    case StatusCode::kFailedPrecondition: return {grpc::StatusCode::FAILED_PRECONDITION, status.message()};
    case StatusCode::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, status.message()};
    case StatusCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, status.message()};
    case StatusCode::kDeadlineExceeded: return {grpc::StatusCode::DEADLINE_EXCEEDED, status.message()};
    case StatusCode::kInternal: return {grpc::StatusCode::INTERNAL, status.message()};
  }
  return {grpc::StatusCode::UNKNOWN, status.message()};
}

// The call's deadline on the scheduler's steady clock; none (max) when the client set none.
// gRPC states deadlines on the system clock, which can jump: only the time left is carried over.
serving::Clock::time_point client_deadline(const grpc::CallbackServerContext& call, serving::Clock::time_point now) {
  const std::chrono::system_clock::time_point deadline = call.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return serving::Clock::time_point::max();
  const auto left = std::chrono::duration_cast<serving::Clock::duration>(deadline - std::chrono::system_clock::now());
  return now + left;
}

// Runs tasks one at a time on its own thread, so slow model loads never occupy gRPC's threads.
class SerialWorker {
 public:
  SerialWorker() : thread_([this] { loop(); }) {}
  ~SerialWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and every posted task ran
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

struct Context {
  serving::InferenceServer& server;
  ServeMetrics& metrics;
  const ApiKey& api_key;
  const GrpcOptions& options;
  serving::SharedMemoryRegistry& shared_memory;
};

// One ModelStreamInfer call. Requests are decoded as they arrive and run concurrently; responses
// are written in completion order, one write in flight at a time (as gRPC requires). The call
// ends when the client has half-closed and every accepted request has been answered.
class StreamInferReactor final : public grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse> {
 public:
  // `call` outlives the reactor: gRPC frees it after OnDone.
  StreamInferReactor(const Context& context, const grpc::CallbackServerContext& call) : context_(context), call_(call) {
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard<std::mutex> lock(mutex_);
      reads_done_ = true;
      finish_if_done_locked();
      return;
    }
    auto request = std::make_unique<serving::InferenceRequest>();
    request->timestamps.received = serving::Clock::now();
    request->model_name = incoming_.model_name();
    request->model_version = incoming_.model_version();
    // The stream's deadline bounds every request in it: none is run after the client gave up.
    request->client_deadline = client_deadline(call_, request->timestamps.received);
    // A cancelled stream (the client went away) runs none of its still-queued requests.
    request->client_gone = [&call = call_] { return call.IsCancelled(); };
    Status decoded = decode_model_infer_request(incoming_, context_.shared_memory, *request);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++in_flight_;
    }
    if (!decoded.ok()) {
      serving::InferenceResponse failed;
      failed.id = request->id;
      failed.model_name = request->model_name;
      failed.model_version = request->model_version;
      failed.status = decoded;
      complete(std::move(failed));
    } else {
      const std::string model = request->model_name;
      const std::string version = request->model_version;
      context_.metrics.request_started(model, version);
      request->on_complete = [this, model, version](serving::InferenceResponse&& response) {
        response.timestamps.sent = serving::Clock::now();
        context_.metrics.request_finished(model, version, response);
        complete(std::move(response));
      };
      context_.server.infer(std::move(request));
    }
    incoming_.Clear();
    StartRead(&incoming_);
  }

  void OnWriteDone(bool /*ok: false once the client is gone; the remaining writes fail fast*/) override {
    std::lock_guard<std::mutex> lock(mutex_);
    outgoing_.pop_front();
    if (!outgoing_.empty()) {
      StartWrite(&outgoing_.front());
    } else {
      writing_ = false;
      finish_if_done_locked();
    }
  }

  void OnDone() override { delete this; }

 private:
  // Errors travel in-band (error_message), so one bad request does not end the stream.
  void complete(serving::InferenceResponse&& response) {
    inference::ModelStreamInferResponse message;
    if (response.status.ok()) {
      encode_model_infer_response(response, *message.mutable_infer_response());
    } else {
      message.set_error_message(response.status.message());
      message.mutable_infer_response()->set_id(response.id);
      message.mutable_infer_response()->set_model_name(response.model_name);
      message.mutable_infer_response()->set_model_version(response.model_version);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
    outgoing_.push_back(std::move(message));  // a deque: the element being written stays put
    if (!writing_) {
      writing_ = true;
      StartWrite(&outgoing_.front());
    }
  }

  void finish_if_done_locked() {
    if (reads_done_ && in_flight_ == 0 && !writing_ && !finished_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  Context context_;
  const grpc::CallbackServerContext& call_;
  inference::ModelInferRequest incoming_;
  std::mutex mutex_;  // guards everything below
  std::deque<inference::ModelStreamInferResponse> outgoing_;
  size_t in_flight_ = 0;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
};

class InferenceService final : public inference::GRPCInferenceService::WithRawCallbackMethod_ModelInfer<inference::GRPCInferenceService::CallbackService> {
 public:
  explicit InferenceService(const Context& context) : context_(context) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* call, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* response) override {
    response->set_live(context_.server.live());
    return finish(call, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* call, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* response) override {
    response->set_ready(context_.server.ready());
    return finish(call, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* call, const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override {
    response->set_ready(context_.server.model_ready(request->name(), request->version()));
    return finish(call, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* call, const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* response) override {
    response->set_name(kServerName);
    response->set_version(context_.options.server_version);
    for (const char* extension : kServerExtensions) response->add_extensions(extension);
    return finish(call, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* call, const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    Result<serving::ModelMetadata> meta = context_.server.model_metadata(request->name(), request->version());
    if (meta.ok()) encode_model_metadata(*meta, *response);
    return finish(call, to_grpc(meta.status()));
  }

  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* call, const inference::ModelConfigRequest* request,
                                        inference::ModelConfigResponse* response) override {
    Result<serving::ModelConfig> config = context_.server.model_config(request->name(), request->version());
    if (config.ok()) *response->mutable_config() = *config;
    return finish(call, to_grpc(config.status()));
  }

  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* call, const inference::ModelStatisticsRequest* request,
                                            inference::ModelStatisticsResponse* response) override {
    Result<std::vector<serving::VersionStatistics>> stats = context_.server.statistics(request->name(), request->version());
    if (stats.ok()) encode_statistics(*stats, *response);
    return finish(call, to_grpc(stats.status()));
  }

  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* call, const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    encode_repository_index(context_.server.repository_index(request->ready()), *response);
    return finish(call, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* RepositoryModelLoad(grpc::CallbackServerContext* call,
                                                const inference::RepositoryModelLoadRequest* request,
                                                inference::RepositoryModelLoadResponse*) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    return control(call, [this, name = request->model_name()] { return context_.server.load_model(name); });
  }

  grpc::ServerUnaryReactor* RepositoryModelUnload(grpc::CallbackServerContext* call,
                                                  const inference::RepositoryModelUnloadRequest* request,
                                                  inference::RepositoryModelUnloadResponse*) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    return control(call, [this, name = request->model_name()] { return context_.server.unload_model(name); });
  }

  grpc::ServerUnaryReactor* SystemSharedMemoryStatus(grpc::CallbackServerContext* call,
                                                     const inference::SystemSharedMemoryStatusRequest* request,
                                                     inference::SystemSharedMemoryStatusResponse* response) override {
    Result<std::vector<serving::SharedMemoryRegionStatus>> regions = context_.shared_memory.status(request->name());
    if (regions.ok()) {
      for (const serving::SharedMemoryRegionStatus& region : *regions) {
        auto& out = (*response->mutable_regions())[region.name];
        out.set_name(region.name);
        out.set_key(region.key);
        out.set_offset(region.offset);
        out.set_byte_size(region.byte_size);
      }
    }
    return finish(call, to_grpc(regions.status()));
  }

  grpc::ServerUnaryReactor* SystemSharedMemoryRegister(grpc::CallbackServerContext* call,
                                                       const inference::SystemSharedMemoryRegisterRequest* request,
                                                       inference::SystemSharedMemoryRegisterResponse*) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    return finish(call, to_grpc(context_.shared_memory.register_region(request->name(), request->key(), request->offset(),
                                                                       request->byte_size())));
  }

  grpc::ServerUnaryReactor* CudaSharedMemoryStatus(grpc::CallbackServerContext* call, const inference::CudaSharedMemoryStatusRequest* request,
                                                   inference::CudaSharedMemoryStatusResponse* response) override {
    Result<std::vector<serving::CudaSharedMemoryRegionStatus>> regions = context_.shared_memory.cuda_status(request->name());
    if (regions.ok()) {
      for (const serving::CudaSharedMemoryRegionStatus& region : *regions) {
        auto& out = (*response->mutable_regions())[region.name];
        out.set_name(region.name);
        out.set_device_id(static_cast<uint64_t>(region.device_id));
        out.set_byte_size(region.byte_size);
      }
    }
    return finish(call, to_grpc(regions.status()));
  }

  grpc::ServerUnaryReactor* CudaSharedMemoryRegister(grpc::CallbackServerContext* call, const inference::CudaSharedMemoryRegisterRequest* request,
                                                     inference::CudaSharedMemoryRegisterResponse*) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    return finish(call, to_grpc(context_.shared_memory.register_cuda_region(request->name(), request->raw_handle(), request->device_id(),
                                                                            request->byte_size())));
  }

  grpc::ServerUnaryReactor* CudaSharedMemoryUnregister(grpc::CallbackServerContext* call,
                                                       const inference::CudaSharedMemoryUnregisterRequest* request,
                                                       inference::CudaSharedMemoryUnregisterResponse*) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    return finish(call, to_grpc(context_.shared_memory.unregister_cuda_region(request->name())));
  }

  grpc::ServerUnaryReactor* SystemSharedMemoryUnregister(grpc::CallbackServerContext* call,
                                                         const inference::SystemSharedMemoryUnregisterRequest* request,
                                                         inference::SystemSharedMemoryUnregisterResponse*) override {
    if (!authorized(*call)) return finish(call, unauthenticated());
    return finish(call, to_grpc(context_.shared_memory.unregister_region(request->name())));
  }

  // Raw (ByteBuffer in, ByteBuffer out): the request's tensor bytes go from gRPC's slices straight
  // into transfer buffers (serve_grpc_wire.h) instead of through a parsed message's strings.
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* call, const grpc::ByteBuffer* wire,
                                       grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    auto request = std::make_unique<serving::InferenceRequest>();
    request->timestamps.received = serving::Clock::now();
    std::vector<grpc::Slice> slices;
    if (!wire->Dump(&slices).ok()) {
      reactor->Finish({grpc::StatusCode::INTERNAL, "cannot read the request's bytes"});
      return reactor;
    }
    std::vector<std::string_view> pieces;
    pieces.reserve(slices.size());
    for (const grpc::Slice& slice : slices) pieces.emplace_back(reinterpret_cast<const char*>(slice.begin()), slice.size());
    inference::ModelInferRequest message;
    std::vector<InferBody> raw_contents;
    if (Status status = split_model_infer_request(pieces, *context_.options.transfer_buffers, message, raw_contents); !status.ok()) {
      reactor->Finish(to_grpc(status));
      return reactor;
    }
    request->model_name = message.model_name();
    request->model_version = message.model_version();
    request->client_deadline = client_deadline(*call, request->timestamps.received);
    // The call lives until Finish (which on_complete calls), so the scheduler may ask it.
    request->client_gone = [call] { return call->IsCancelled(); };
    if (Status status = decode_model_infer_request(message, raw_contents, context_.shared_memory, *request); !status.ok()) {
      reactor->Finish(to_grpc(status));
      return reactor;
    }
    const std::string model = request->model_name;
    const std::string version = request->model_version;
    context_.metrics.request_started(model, version);
    request->on_complete = [this, reactor, response, model, version](serving::InferenceResponse&& result) {
      result.timestamps.sent = serving::Clock::now();
      context_.metrics.request_finished(model, version, result);
      if (!result.status.ok()) return reactor->Finish(to_grpc(result.status));
      inference::ModelInferResponse message;
      encode_model_infer_response(result, message);
      bool own_buffer = false;
      reactor->Finish(grpc::SerializationTraits<inference::ModelInferResponse>::Serialize(message, response, &own_buffer));
    };
    context_.server.infer(std::move(request));
    return reactor;
  }

  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>* ModelStreamInfer(
      grpc::CallbackServerContext* call) override {
    return new StreamInferReactor(context_, *call);
  }

 private:
  static grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* call, const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  static grpc::Status unauthenticated() { return {grpc::StatusCode::UNAUTHENTICATED, kUnauthenticatedMessage}; }

  bool authorized(const grpc::CallbackServerContext& call) const {
    if (!context_.api_key.required()) return true;
    const auto& metadata = call.client_metadata();
    auto it = metadata.find(kAuthorizationMetadataKey);
    return it != metadata.end() && context_.api_key.accepts(std::string_view(it->second.data(), it->second.size()));
  }

  grpc::ServerUnaryReactor* control(grpc::CallbackServerContext* call, std::function<Status()> action) {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    control_worker_.post([reactor, action = std::move(action)] { reactor->Finish(to_grpc(action())); });
    return reactor;
  }

  Context context_;
  SerialWorker control_worker_;
};

}  // namespace

class GrpcFrontEnd::Impl {
 public:
  Impl(serving::InferenceServer& server, ServeMetrics& metrics, const ApiKey& api_key, const GrpcOptions& options)
      : api_key_(api_key), options_(options), service_(Context{server, metrics, api_key_, options_, *options.shared_memory}) {}

  Status start() {
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (options_.tls.enabled()) {
      grpc::SslServerCredentialsOptions ssl;
      KILN_ASSIGN_OR_RETURN(std::string key, read_pem_file("--tls-key", options_.tls.key_file));
      KILN_ASSIGN_OR_RETURN(std::string cert, read_pem_file("--tls-cert", options_.tls.cert_file));
      ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
      credentials = grpc::SslServerCredentials(ssl);
    }
    grpc::ServerBuilder builder;
    const std::string endpoint = options_.address + ":" + std::to_string(options_.port);
    int bound_port = 0;
    builder.AddListeningPort(endpoint, credentials, &bound_port);
    builder.RegisterService(&service_);
    // gRPC sets SO_REUSEPORT by default: a second server on the same port would then start and
    // silently take half the connections instead of failing.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    constexpr size_t kLargestMessage = INT32_MAX;  // gRPC counts message sizes in an int
    builder.SetMaxReceiveMessageSize(static_cast<int>(std::min(options_.max_message_bytes, kLargestMessage)));
    builder.SetMaxSendMessageSize(INT32_MAX);  // responses are as large as the model makes them
    if (options_.max_connection_age_seconds > 0) {
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, options_.max_connection_age_seconds * kMillisecondsPerSecond);
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                                 options_.max_connection_age_grace_seconds * kMillisecondsPerSecond);
    }
    server_ = builder.BuildAndStart();
    if (!server_ || bound_port == 0) return unavailable("cannot listen for gRPC on " + endpoint + " (is the port in use?)");
    std::fprintf(stderr, "kiln serve: gRPC listening on %s%s\n", endpoint.c_str(), options_.tls.enabled() ? " (TLS)" : "");
    return {};
  }

  void shutdown() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    server_->Wait();
    server_.reset();
  }

  ~Impl() { shutdown(); }

 private:
  ApiKey api_key_;
  GrpcOptions options_;
  InferenceService service_;               // outlives server_ (declared first, destroyed last)
  std::unique_ptr<grpc::Server> server_;
};

GrpcFrontEnd::GrpcFrontEnd(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcFrontEnd::~GrpcFrontEnd() = default;

Result<std::unique_ptr<GrpcFrontEnd>> GrpcFrontEnd::start(serving::InferenceServer& server, ServeMetrics& metrics,
                                                          const ApiKey& api_key, const GrpcOptions& options) {
  auto impl = std::make_unique<Impl>(server, metrics, api_key, options);
  KILN_RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<GrpcFrontEnd>(new GrpcFrontEnd(std::move(impl)));
}

void GrpcFrontEnd::shutdown() { impl_->shutdown(); }

}  // namespace kiln::cli::serve
