#include "serve_http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include <csignal>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "serve_json.h"

namespace kiln::cli::serve {
namespace {

constexpr int kHttpOk = 200;
constexpr int kHttpBadRequest = 400;
constexpr int kHttpNotFound = 404;
constexpr int kHttpMethodNotAllowed = 405;
constexpr int kHttpInternalError = 500;
constexpr int kHttpNotImplemented = 501;
constexpr int kHttpUnavailable = 503;
constexpr timeval kExitFlushDelay = {0, 100000};  // lets the last replies reach the socket

int http_status_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kHttpOk;
    case StatusCode::kNotFound: return kHttpNotFound;
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted: return kHttpUnavailable;
    case StatusCode::kUnimplemented: return kHttpNotImplemented;
    case StatusCode::kInternal: return kHttpInternalError;
    default: return kHttpBadRequest;
  }
}

struct Reply {
  evhttp_request* request = nullptr;
  int code = kHttpOk;
  std::string body;
};

void send_now(evhttp_request* request, int code, const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", "application/json");
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body.data(), body.size());
  evhttp_send_reply(request, code, nullptr, out);
  evbuffer_free(out);
}

class HttpFrontEnd {
 public:
  HttpFrontEnd(serving::InferenceServer& server, HttpOptions options) : server_(server), options_(std::move(options)) {}
  ~HttpFrontEnd() {
    if (drain_thread_.joinable()) drain_thread_.join();
    for (event* e : events_) event_free(e);
    if (http_) evhttp_free(http_);
    if (base_) event_base_free(base_);
  }

  Status run() {
    if (evthread_use_pthreads() != 0) return internal_error("libevent has no pthreads support");
    base_ = event_base_new();
    if (!base_) return internal_error("cannot create the libevent event loop");
    http_ = evhttp_new(base_);
    if (!http_) return internal_error("cannot create the HTTP server");
    evhttp_set_max_body_size(http_, static_cast<ev_ssize_t>(options_.max_body_bytes));
    evhttp_set_timeout(http_, options_.io_timeout_seconds);
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(http_, &HttpFrontEnd::on_request, this);
    if (evhttp_bind_socket(http_, options_.address.c_str(), options_.port) != 0) {
      return unavailable("cannot listen on " + options_.address + ":" + std::to_string(options_.port) +
                         " (is the port in use?)");
    }
    replies_ready_ = event_new(base_, -1, EV_PERSIST, &HttpFrontEnd::on_replies_ready, this);
    events_.push_back(replies_ready_);
    for (int signal_number : {SIGINT, SIGTERM}) {
      event* e = evsignal_new(base_, signal_number, &HttpFrontEnd::on_signal, this);
      event_add(e, nullptr);
      events_.push_back(e);
    }
    event_add(replies_ready_, nullptr);
    std::fprintf(stderr, "kiln serve: listening on http://%s:%u\n", options_.address.c_str(), options_.port);
    event_base_dispatch(base_);
    return {};
  }

 private:
  // Called from any thread: queue a reply for the I/O thread.
  void post(Reply reply) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back(std::move(reply));
    }
    event_active(replies_ready_, EV_READ, 0);
  }

  static void on_replies_ready(evutil_socket_t, short, void* self) {
    auto* front = static_cast<HttpFrontEnd*>(self);
    std::deque<Reply> replies;
    bool exit_now = false;
    {
      std::lock_guard<std::mutex> lock(front->mutex_);
      replies.swap(front->pending_);
      exit_now = front->drained_;
    }
    for (Reply& r : replies) send_now(r.request, r.code, r.body);
    if (exit_now) event_base_loopexit(front->base_, &kExitFlushDelay);
  }

  static void on_signal(evutil_socket_t, short, void* self) {
    auto* front = static_cast<HttpFrontEnd*>(self);
    if (front->drain_thread_.joinable()) return;
    std::fprintf(stderr, "kiln serve: shutting down (completing accepted requests)\n");
    // Draining waits for the schedulers, whose replies need this loop: drain on another thread.
    front->drain_thread_ = std::thread([front] {
      front->server_.shutdown();
      {
        std::lock_guard<std::mutex> lock(front->mutex_);
        front->drained_ = true;
      }
      event_active(front->replies_ready_, EV_READ, 0);
    });
  }

  static void on_request(evhttp_request* request, void* self) {
    static_cast<HttpFrontEnd*>(self)->route(request);
  }

  void reply_status(evhttp_request* request, const Status& status) {
    send_now(request, http_status_for(status), encode_error(status.message()));
  }

  void route(evhttp_request* request) {
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* raw_path = uri ? evhttp_uri_get_path(uri) : nullptr;
    std::vector<std::string> parts;
    std::string path = raw_path ? raw_path : "";
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      if (end > start) {
        char* decoded = evhttp_uridecode(path.substr(start, end - start).c_str(), 0, nullptr);
        parts.emplace_back(decoded ? decoded : "");
        std::free(decoded);
      }
      start = end + 1;
    }
    const bool is_get = evhttp_request_get_command(request) == EVHTTP_REQ_GET;
    const bool is_post = evhttp_request_get_command(request) == EVHTTP_REQ_POST;
    auto method_error = [&] { send_now(request, kHttpMethodNotAllowed, encode_error("method not allowed for " + path)); };

    if (parts.empty() || parts[0] != "v2") return send_now(request, kHttpNotFound, encode_error("unknown path " + path));
    if (parts.size() == 1) return is_get ? send_now(request, kHttpOk, encode_server_metadata(options_.server_version)) : method_error();
    if (parts.size() == 3 && parts[1] == "health") {
      if (!is_get) return method_error();
      if (parts[2] == "live") return send_now(request, server_.live() ? kHttpOk : kHttpBadRequest, "");
      if (parts[2] == "ready") return send_now(request, server_.ready() ? kHttpOk : kHttpBadRequest, "");
    }
    if (parts[1] == "repository") return route_repository(request, parts, is_post);
    if (parts[1] == "models") {
      if (parts.size() == 3 && parts[2] == "stats") return reply_statistics(request, "", "");
      if (parts.size() < 3) return send_now(request, kHttpNotFound, encode_error("unknown path " + path));
      const std::string& model = parts[2];
      std::string version;
      size_t next = 3;
      if (parts.size() >= 5 && parts[3] == "versions") {
        version = parts[4];
        next = 5;
      }
      const std::string action = parts.size() > next ? parts[next] : "";
      if (parts.size() > next + 1) return send_now(request, kHttpNotFound, encode_error("unknown path " + path));
      if (action == "infer") return is_post ? infer(request, model, version) : method_error();
      if (!is_get) return method_error();
      if (action.empty()) {
        Result<serving::ModelMetadata> meta = server_.model_metadata(model, version);
        return meta.ok() ? send_now(request, kHttpOk, encode_model_metadata(*meta)) : reply_status(request, meta.status());
      }
      if (action == "ready") return send_now(request, server_.model_ready(model, version) ? kHttpOk : kHttpBadRequest, "");
      if (action == "config") {
        Result<serving::ModelConfig> config = server_.model_config(model, version);
        if (!config.ok()) return reply_status(request, config.status());
        Result<std::string> json = encode_model_config(*config);
        return json.ok() ? send_now(request, kHttpOk, *json) : reply_status(request, json.status());
      }
      if (action == "stats") return reply_statistics(request, model, version);
    }
    send_now(request, kHttpNotFound, encode_error("unknown path " + path));
  }

  static std::string body_of(evhttp_request* request) {
    evbuffer* in = evhttp_request_get_input_buffer(request);
    const size_t length = evbuffer_get_length(in);
    std::string body(length, '\0');
    if (length > 0) evbuffer_copyout(in, body.data(), length);
    return body;
  }

  void route_repository(evhttp_request* request, const std::vector<std::string>& parts, bool is_post) {
    if (!is_post) return send_now(request, kHttpMethodNotAllowed, encode_error("repository requests use POST"));
    if (parts.size() == 3 && parts[2] == "index") {
      Result<bool> ready_only = decode_index_ready_flag(body_of(request));
      if (!ready_only.ok()) return reply_status(request, ready_only.status());
      return send_now(request, kHttpOk, encode_repository_index(server_.repository_index(*ready_only)));
    }
    if (parts.size() == 5 && parts[2] == "models" && (parts[4] == "load" || parts[4] == "unload")) {
      // Loading runs the importer: it takes a while but keeps the protocol simple; a load thread
      // pool is the next step.
      Status status = parts[4] == "load" ? server_.load_model(parts[3]) : server_.unload_model(parts[3]);
      return status.ok() ? send_now(request, kHttpOk, "") : reply_status(request, status);
    }
    send_now(request, kHttpNotFound, encode_error("unknown repository request"));
  }

  void reply_statistics(evhttp_request* request, const std::string& model, const std::string& version) {
    Result<std::vector<serving::VersionStatistics>> stats = server_.statistics(model, version);
    stats.ok() ? send_now(request, kHttpOk, encode_statistics(*stats)) : reply_status(request, stats.status());
  }

  void infer(evhttp_request* request, const std::string& model, const std::string& version) {
    auto inference = std::make_unique<serving::InferenceRequest>();
    inference->timestamps.received = serving::Clock::now();
    inference->model_name = model;
    inference->model_version = version;
    if (Status status = decode_infer_request(body_of(request), *inference); !status.ok()) return reply_status(request, status);
    inference->on_complete = [this, request](serving::InferenceResponse&& response) {
      response.timestamps.sent = serving::Clock::now();
      if (!response.status.ok()) {
        post({request, http_status_for(response.status), encode_error(response.status.message())});
      } else {
        post({request, kHttpOk, encode_infer_response(response)});
      }
    };
    server_.infer(std::move(inference));
  }

  serving::InferenceServer& server_;
  HttpOptions options_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  event* replies_ready_ = nullptr;
  std::vector<event*> events_;
  std::thread drain_thread_;
  std::mutex mutex_;
  std::deque<Reply> pending_;
  bool drained_ = false;
};

}  // namespace

Status run_http_server(serving::InferenceServer& server, const HttpOptions& options) {
  HttpFrontEnd front(server, options);
  return front.run();
}

}  // namespace kiln::cli::serve
