#include "perf_clients.h"

#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "cli_common.h"
#include "grpc_service.grpc.pb.h"
#include "model_inputs.h"
#include "perf_shared_memory.h"
#include "serving/datatype.h"

namespace kiln::cli::perf {
namespace {

constexpr const char* kHeaderLength = "Inference-Header-Content-Length";
constexpr size_t kMaxHeaderBytes = 64 << 10;
constexpr int kHttpOk = 200;

std::string model_path(const TargetOptions& o) {
  return "/v2/models/" + o.model + (o.version.empty() ? "" : "/versions/" + o.version);
}

// One blocking HTTP/1.1 keep-alive connection; reconnects when the server closed it.
class HttpConnection {
 public:
  explicit HttpConnection(const TargetOptions& options) : options_(options) {}
  ~HttpConnection() { close_socket(); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  struct Response {
    int status = 0;
    std::string body;
  };

  Result<Response> exchange(const std::string& request) {
    if (fd_ < 0) KILN_RETURN_IF_ERROR(connect_socket());
    if (Status sent = send_all(request); !sent.ok()) {
      // A keep-alive connection the server closed meanwhile: one fresh try.
      close_socket();
      KILN_RETURN_IF_ERROR(connect_socket());
      KILN_RETURN_IF_ERROR(send_all(request));
    }
    Result<Response> response = read_response();
    if (!response.ok()) close_socket();
    return response;
  }

 private:
  Status connect_socket() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options_.port);
    if (const int e = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); e != 0)
      return unavailable("cannot resolve '" + options_.host + "': " + gai_strerror(e));
    std::string why = "no address";
    for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        why = std::strerror(errno);
        ::close(fd);
      }
    }
    ::freeaddrinfo(found);
    if (fd_ < 0) return unavailable("cannot connect to " + options_.host + ":" + port + ": " + why);
    const int on = 1;
    (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(options_.timeout_s);
    timeout.tv_usec = static_cast<suseconds_t>((options_.timeout_s - static_cast<double>(timeout.tv_sec)) * 1e6);
    (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    (void)::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    pending_.clear();
    if (options_.tls) {
      Result<std::unique_ptr<TlsSession>> session = TlsSession::connect(*options_.tls, fd_, options_.host);
      if (!session.ok()) {
        close_socket();
        return session.status();
      }
      tls_ = std::move(session).value();
    }
    return {};
  }

  void close_socket() {
    tls_.reset();  // its close_notify goes out before the socket closes
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  Status send_all(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = tls_ ? tls_->write(bytes.data() + sent, bytes.size() - sent)
                             : ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return unavailable(std::string("sending the request failed: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    return {};
  }

  // Appends what the socket has to pending_; false at end of stream or timeout.
  Status read_more() {
    char chunk[64 << 10];
    const ssize_t n = tls_ ? tls_->read(chunk, sizeof chunk) : ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) {
      return unavailable(std::string("the server closed the connection before answering") +
                         (tls_ ? "" : " (if it serves TLS: --tls, or --tls-ca FILE)"));
    }
    if (n < 0) {
      const bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
      return timeout ? deadline_exceeded("no answer within the request timeout")
                     : unavailable(std::string("reading the answer failed: ") + std::strerror(errno));
    }
    pending_.append(chunk, static_cast<size_t>(n));
    return {};
  }

  Result<Response> read_response() {
    size_t header_end = std::string::npos;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (pending_.size() > kMaxHeaderBytes) return invalid_argument("the answer's headers exceed 64 KiB");
      KILN_RETURN_IF_ERROR(read_more());
    }
    const std::string head = pending_.substr(0, header_end);
    Response r;
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return invalid_argument("not an HTTP answer: " + head.substr(0, 40));
    r.status = std::atoi(head.c_str() + head.find(' ') + 1);
    size_t length = 0;
    bool has_length = false;
    size_t line = head.find("\r\n");
    while (line != std::string::npos) {
      const size_t next = head.find("\r\n", line + 2);
      std::string field = head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      for (char& c : field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (field.rfind("content-length:", 0) == 0) {
        length = std::strtoull(field.c_str() + std::strlen("content-length:"), nullptr, 10);
        has_length = true;
      }
      line = next;
    }
    if (!has_length) return unimplemented("the answer has no Content-Length (chunked answers are not supported)");
    const size_t body_start = header_end + 4;
    while (pending_.size() < body_start + length) KILN_RETURN_IF_ERROR(read_more());
    r.body = pending_.substr(body_start, length);
    pending_.erase(0, body_start + length);
    return r;
  }

  const TargetOptions& options_;
  int fd_ = -1;
  std::unique_ptr<TlsSession> tls_;
  std::string pending_;
};

std::string error_text(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error") && doc["error"].IsString()) return doc["error"].GetString();
  return body.substr(0, 200);
}

// Dims from the metadata, with -1 resolved: dim 0 by --batch (`batched` says so), the rest by
// --shapes.
Result<std::vector<int64_t>> concrete_shape(const std::string& name, std::vector<int64_t> dims, const TargetOptions& o,
                                            const std::map<std::string, Shape>& given, bool& batched) {
  if (auto it = given.find(name); it != given.end()) {
    batched = !dims.empty() && dims[0] < 0 && !it->second.dims().empty() && it->second.dims()[0] == o.batch;
    return it->second.dims();
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] >= 0) continue;
    if (d != 0) {
      std::string message = "input '" + name + "' has a variable dim " + std::to_string(d);
      message.append(": give its shape with --shapes ").append(name).append(":DxD...");
      return invalid_argument(message);
    }
    dims[d] = o.batch;
    batched = true;
  }
  return dims;
}

Result<InputSpec> make_spec(const std::string& name, const std::string& datatype, std::vector<int64_t> dims, const TargetOptions& o,
                            const std::map<std::string, Shape>& given, uint64_t seed) {
  const std::optional<DType> dtype = serving::dtype_from_wire_name(datatype);
  if (!dtype || *dtype == DType::kBytes)
    return unimplemented("input '" + name + "' is " + datatype + ": kiln perf generates numeric tensors only");
  InputSpec spec;
  spec.name = name;
  spec.datatype = datatype;
  KILN_ASSIGN_OR_RETURN(spec.shape, concrete_shape(name, std::move(dims), o, given, spec.batched));
  TensorInfo info;
  info.name = name;
  info.dtype = *dtype;
  info.dims = spec.shape;
  KILN_ASSIGN_OR_RETURN(Tensor t, random_input(info, Shape(spec.shape), seed));
  spec.bytes.assign(static_cast<const char*>(t.raw_data()), t.nbytes());
  return spec;
}

Result<ModelSpec> describe_over_http(const TargetOptions& o, const std::map<std::string, Shape>& given, uint64_t seed) {
  HttpConnection connection(o);
  const std::string request = "GET " + model_path(o) + " HTTP/1.1\r\nHost: " + o.host + "\r\n\r\n";
  KILN_ASSIGN_OR_RETURN(HttpConnection::Response r, connection.exchange(request));
  if (r.status != kHttpOk)
    return not_found("model '" + o.model + "' metadata: HTTP " + std::to_string(r.status) + ": " + error_text(r.body));
  rapidjson::Document doc;
  doc.Parse(r.body.c_str(), r.body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("inputs") || !doc["inputs"].IsArray())
    return invalid_argument("model '" + o.model + "' metadata is not KServe v2 JSON: " + r.body.substr(0, 200));
  std::vector<InputSpec> specs;
  for (const auto& input : doc["inputs"].GetArray()) {
    if (!input.IsObject() || !input.HasMember("name") || !input["name"].IsString() || !input.HasMember("datatype") ||
        !input["datatype"].IsString() || !input.HasMember("shape") || !input["shape"].IsArray())
      return invalid_argument("model '" + o.model + "' metadata has a malformed input");
    std::vector<int64_t> dims;
    for (const auto& d : input["shape"].GetArray()) {
      if (!d.IsInt64()) return invalid_argument("model '" + o.model + "' metadata has a non-integer dim");
      dims.push_back(d.GetInt64());
    }
    KILN_ASSIGN_OR_RETURN(InputSpec spec, make_spec(input["name"].GetString(), input["datatype"].GetString(), std::move(dims), o,
                                                    given, seed + specs.size()));
    specs.push_back(std::move(spec));
  }
  ModelSpec model{std::move(specs), {}};
  if (doc.HasMember("outputs") && doc["outputs"].IsArray()) {
    for (const auto& output : doc["outputs"].GetArray()) {
      if (output.IsObject() && output.HasMember("name") && output["name"].IsString()) model.outputs.emplace_back(output["name"].GetString());
    }
  }
  return model;
}

std::shared_ptr<grpc::Channel> open_channel(const TargetOptions& o) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // Each worker's own connection, as independent clients have (gRPC would share one otherwise).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (o.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = o.tls->ca_pem();  // empty: gRPC's default roots
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(o.host + ":" + std::to_string(o.port), credentials, args);
}

void set_deadline(grpc::ClientContext& context, double timeout_s) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(timeout_s)));
}

Result<ModelSpec> describe_over_grpc(const TargetOptions& o, const std::map<std::string, Shape>& given, uint64_t seed) {
  auto stub = inference::GRPCInferenceService::NewStub(open_channel(o));
  inference::ModelMetadataRequest request;
  request.set_name(o.model);
  request.set_version(o.version);
  inference::ModelMetadataResponse response;
  grpc::ClientContext context;
  set_deadline(context, o.timeout_s);
  const grpc::Status status = stub->ModelMetadata(&context, request, &response);
  if (!status.ok()) return not_found("model '" + o.model + "' metadata over gRPC: " + status.error_message());
  std::vector<InputSpec> specs;
  for (const auto& input : response.inputs()) {
    KILN_ASSIGN_OR_RETURN(InputSpec spec, make_spec(input.name(), input.datatype(),
                                                    std::vector<int64_t>(input.shape().begin(), input.shape().end()), o, given,
                                                    seed + specs.size()));
    specs.push_back(std::move(spec));
  }
  ModelSpec model{std::move(specs), {}};
  for (const auto& output : response.outputs()) model.outputs.push_back(output.name());
  return model;
}

void write_shm_parameters(rapidjson::Writer<rapidjson::StringBuffer>& w, const SharedMemoryRegion& region,
                          const SharedMemoryRegion::Place& place) {
  w.Key("parameters");
  w.StartObject();
  w.Key("shared_memory_region");
  w.String(region.name().c_str());
  w.Key("shared_memory_offset");
  w.Uint64(place.offset);
  w.Key("shared_memory_byte_size");
  w.Uint64(place.bytes);
  w.EndObject();
}

class HttpClient final : public Client {
 public:
  HttpClient(const TargetOptions& options, const ModelSpec& model, std::unique_ptr<SharedMemoryRegion> region)
      : connection_(options), host_(options.host), region_(std::move(region)) {
    // The JSON header (every output binary, or placed in the region), then each input's bytes
    // unless they are in the region: built once, sent always.
    rapidjson::StringBuffer json;
    rapidjson::Writer<rapidjson::StringBuffer> w(json);
    w.StartObject();
    w.Key("inputs");
    w.StartArray();
    for (size_t i = 0; i < model.inputs.size(); ++i) {
      const InputSpec& in = model.inputs[i];
      w.StartObject();
      w.Key("name");
      w.String(in.name.c_str());
      w.Key("datatype");
      w.String(in.datatype.c_str());
      w.Key("shape");
      w.StartArray();
      for (int64_t d : in.shape) w.Int64(d);
      w.EndArray();
      if (region_) {
        write_shm_parameters(w, *region_, region_->inputs()[i]);
      } else {
        w.Key("parameters");
        w.StartObject();
        w.Key("binary_data_size");
        w.Uint64(in.bytes.size());
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    if (region_) {
      w.Key("outputs");
      w.StartArray();
      for (size_t i = 0; i < model.outputs.size(); ++i) {
        w.StartObject();
        w.Key("name");
        w.String(model.outputs[i].c_str());
        write_shm_parameters(w, *region_, region_->outputs()[i]);
        w.EndObject();
      }
      w.EndArray();
    } else {
      w.Key("parameters");
      w.StartObject();
      w.Key("binary_data_output");
      w.Bool(true);
      w.EndObject();
    }
    w.EndObject();
    std::string body = json.GetString();
    const size_t json_length = body.size();
    if (!region_) {
      for (const InputSpec& in : model.inputs) body += in.bytes;
    }
    request_ = "POST " + model_path(options) + "/infer HTTP/1.1\r\nHost: " + options.host + "\r\nContent-Type: " +
               (region_ ? "application/json" : "application/octet-stream\r\n" + std::string(kHeaderLength) + ": " + std::to_string(json_length)) +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  ~HttpClient() override {
    if (region_) (void)post("/v2/systemsharedmemory/region/" + region_->name() + "/unregister", "{}");
  }

  // Registers the client's region, which the requests name.
  Status register_region() {
    const std::string body = "{\"key\": \"" + region_->key() + "\", \"offset\": 0, \"byte_size\": " + std::to_string(region_->size()) + "}";
    return post("/v2/systemsharedmemory/region/" + region_->name() + "/register", body);
  }

  Status infer() override {
    KILN_ASSIGN_OR_RETURN(HttpConnection::Response r, connection_.exchange(request_));
    if (r.status != kHttpOk) return unavailable("HTTP " + std::to_string(r.status) + ": " + error_text(r.body));
    received_ += r.body.size();
    return {};
  }
  uint64_t bytes_received() const override { return received_; }

 private:
  Status post(const std::string& path, const std::string& body) {
    const std::string request = "POST " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    KILN_ASSIGN_OR_RETURN(HttpConnection::Response r, connection_.exchange(request));
    if (r.status != kHttpOk) return unavailable(path + ": HTTP " + std::to_string(r.status) + ": " + error_text(r.body));
    return {};
  }

  HttpConnection connection_;
  std::string host_;
  std::unique_ptr<SharedMemoryRegion> region_;
  std::string request_;
  uint64_t received_ = 0;
};

class GrpcClient final : public Client {
 public:
  GrpcClient(const TargetOptions& options, const ModelSpec& model, std::unique_ptr<SharedMemoryRegion> region)
      : stub_(inference::GRPCInferenceService::NewStub(open_channel(options))), timeout_s_(options.timeout_s), region_(std::move(region)) {
    request_.set_model_name(options.model);
    request_.set_model_version(options.version);
    const auto place = [this](google::protobuf::Map<std::string, inference::InferParameter>& parameters, const SharedMemoryRegion::Place& p) {
      parameters["shared_memory_region"].set_string_param(region_->name());
      parameters["shared_memory_offset"].set_int64_param(static_cast<int64_t>(p.offset));
      parameters["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(p.bytes));
    };
    for (size_t i = 0; i < model.inputs.size(); ++i) {
      const InputSpec& in = model.inputs[i];
      auto* tensor = request_.add_inputs();
      tensor->set_name(in.name);
      tensor->set_datatype(in.datatype);
      for (int64_t d : in.shape) tensor->add_shape(d);
      if (region_) {
        place(*tensor->mutable_parameters(), region_->inputs()[i]);
      } else {
        request_.add_raw_input_contents(in.bytes);
      }
    }
    if (region_) {
      for (size_t i = 0; i < model.outputs.size(); ++i) {
        auto* output = request_.add_outputs();
        output->set_name(model.outputs[i]);
        place(*output->mutable_parameters(), region_->outputs()[i]);
      }
    }
  }
  ~GrpcClient() override {
    if (!region_) return;
    inference::SystemSharedMemoryUnregisterRequest request;
    request.set_name(region_->name());
    inference::SystemSharedMemoryUnregisterResponse response;
    grpc::ClientContext context;
    set_deadline(context, timeout_s_);
    (void)stub_->SystemSharedMemoryUnregister(&context, request, &response);
  }

  Status register_region() {
    inference::SystemSharedMemoryRegisterRequest request;
    request.set_name(region_->name());
    request.set_key(region_->key());
    request.set_byte_size(region_->size());
    inference::SystemSharedMemoryRegisterResponse response;
    grpc::ClientContext context;
    set_deadline(context, timeout_s_);
    const grpc::Status status = stub_->SystemSharedMemoryRegister(&context, request, &response);
    if (!status.ok()) return unavailable("registering shared memory over gRPC: " + status.error_message());
    return {};
  }

  Status infer() override {
    inference::ModelInferResponse response;
    grpc::ClientContext context;
    set_deadline(context, timeout_s_);
    const grpc::Status status = stub_->ModelInfer(&context, request_, &response);
    if (!status.ok()) return unavailable("gRPC " + std::to_string(status.error_code()) + ": " + status.error_message());
    for (const std::string& raw : response.raw_output_contents()) received_ += raw.size();
    return {};
  }
  uint64_t bytes_received() const override { return received_; }

 private:
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  inference::ModelInferRequest request_;
  double timeout_s_;
  std::unique_ptr<SharedMemoryRegion> region_;
  uint64_t received_ = 0;
};

}  // namespace

Result<ModelSpec> describe_model(const TargetOptions& options, uint64_t seed) {
  KILN_ASSIGN_OR_RETURN(const auto given, parse_shape_specs(options.shapes));
  KILN_ASSIGN_OR_RETURN(ModelSpec model, options.protocol == Protocol::kGrpc ? describe_over_grpc(options, given, seed)
                                                                              : describe_over_http(options, given, seed));
  const std::vector<InputSpec>& specs = model.inputs;
  // inferences/s is requests x batch: a batch no input takes would inflate it.
  const bool any_batched = std::any_of(specs.begin(), specs.end(), [](const InputSpec& s) { return s.batched; });
  if (options.batch != 1 && !any_batched)
    return invalid_argument("--batch " + std::to_string(options.batch) + ": model '" + options.model +
                            "' has no input with a variable dim 0 to take it");
  return model;
}

Result<std::unique_ptr<Client>> make_client(const TargetOptions& options, const ModelSpec& model) {
  std::unique_ptr<SharedMemoryRegion> region;
  if (options.system_shared_memory) {
    KILN_ASSIGN_OR_RETURN(region, SharedMemoryRegion::create(model.inputs, model.outputs.size(), options.output_shared_memory_bytes));
  }
  const bool shared = region != nullptr;
  if (options.protocol == Protocol::kGrpc) {
    auto client = std::make_unique<GrpcClient>(options, model, std::move(region));
    if (shared) KILN_RETURN_IF_ERROR(client->register_region());
    return std::unique_ptr<Client>(std::move(client));
  }
  auto client = std::make_unique<HttpClient>(options, model, std::move(region));
  if (shared) KILN_RETURN_IF_ERROR(client->register_region());
  return std::unique_ptr<Client>(std::move(client));
}

}  // namespace kiln::cli::perf
