#include "serve_http.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "core/thread_name.h"
#include "http_body_reader.h"
#include "http_listen.h"
#include "serve_json.h"
#include "serve_metrics.h"
#include "serve_tfs.h"

namespace kiln::cli::serve {
namespace {

constexpr int kHttpOk = 200;
constexpr int kHttpBadRequest = 400;
constexpr int kHttpUnauthorized = 401;
constexpr int kHttpNotFound = 404;
constexpr int kHttpMethodNotAllowed = 405;
constexpr int kHttpInternalError = 500;
constexpr int kHttpNotImplemented = 501;
constexpr int kHttpUnavailable = 503;
constexpr timeval kExitFlushDelay = {0, 100000};  // lets the last replies reach the socket
// How often sockets with a request inside are checked for a client that went away.
constexpr timeval kClientWatchInterval = {0, 50000};

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
  std::optional<size_t> json_length;  // set when binary tensor data follows the JSON
};

void send_now(evhttp_request* request, int code, const std::string& body, std::optional<size_t> json_length = std::nullopt) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  if (json_length && *json_length < body.size()) {
    evhttp_add_header(headers, "Content-Type", "application/octet-stream");
    evhttp_add_header(headers, kInferenceHeaderContentLength, std::to_string(*json_length).c_str());
  } else {
    evhttp_add_header(headers, "Content-Type", "application/json");
  }
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body.data(), body.size());
  evhttp_send_reply(request, code, nullptr, out);
  evbuffer_free(out);
}

// The JSON length announced in Inference-Header-Content-Length: a decimal within the body.
Result<size_t> parse_header_length(const char* text, size_t body_size) {
  const std::string value(text);
  size_t length = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (error != std::errc() || end != value.data() + value.size() || value.empty()) {
    return invalid_argument(std::string(kInferenceHeaderContentLength) + " '" + value + "' is not a non-negative integer");
  }
  if (length > body_size) {
    return invalid_argument(std::string(kInferenceHeaderContentLength) + " is " + value + " but the body has only " +
                            std::to_string(body_size) + " bytes: truncated request");
  }
  return length;
}

class HttpFrontEnd;

// One I/O thread: its event loop, its evhttp on a copy of the shared listening socket, and the
// replies that scheduler threads hand back to it (a request is answered on the loop that read it).
struct IoLoop {
  HttpFrontEnd* front = nullptr;
  event_base* base = nullptr;
  evhttp* http = nullptr;
  event* replies_ready = nullptr;
  std::mutex mutex;  // guards pending
  std::deque<Reply> pending;
  // Connections with a request in the server, each with the flag set when its client goes away
  // (loop thread only; the scheduler threads read the flags), and the timer that checks them.
  struct Watch {
    std::shared_ptr<std::atomic<bool>> gone;
    evutil_socket_t fd = -1;
  };
  std::unordered_map<evhttp_connection*, Watch> watched;
  event* watch_timer = nullptr;
  HttpBodyReaders readers;  // big reads of large bodies on the plain connections
  std::thread thread;  // empty for loop 0, which runs on run()'s caller
};

class HttpFrontEnd {
 public:
  HttpFrontEnd(serving::InferenceServer& server, ServeMetrics& metrics, const ApiKey& api_key, HttpOptions options)
      : server_(server), metrics_(metrics), api_key_(api_key), options_(std::move(options)) {}
  ~HttpFrontEnd() {
    if (drain_thread_.joinable()) drain_thread_.join();
    for (auto& loop : loops_) {
      if (loop->thread.joinable()) {
        event_base_loopbreak(loop->base);
        loop->thread.join();
      }
    }
    for (event* e : events_) event_free(e);
    if (metrics_http_) evhttp_free(metrics_http_);
    for (auto& loop : loops_) {
      if (loop->replies_ready) event_free(loop->replies_ready);
      if (loop->watch_timer) event_free(loop->watch_timer);
      if (loop->http) evhttp_free(loop->http);
      if (loop->base) event_base_free(loop->base);
    }
  }

  Status run() {
    if (evthread_use_pthreads() != 0) return internal_error("libevent has no pthreads support");
    if (options_.tls.enabled()) {
      Result<SslContext> context = make_server_ssl_context(options_.tls);
      if (!context.ok()) return context.status();
      ssl_context_ = std::move(context).value();
    }
    const int threads = std::max(options_.io_threads, 1);
    for (int i = 0; i < threads; ++i) KILN_RETURN_IF_ERROR(add_loop());
    IoLoop& main_loop = *loops_.front();
    // One listening socket per loop on the same address and port (SO_REUSEPORT): the kernel
    // spreads new connections over them by their addresses, so the I/O threads share the work.
    // With one shared socket whichever thread woke first took each connection, and a burst of
    // clients connecting at once could all land on one thread.
    KILN_ASSIGN_OR_RETURN(const uint16_t port, claim_port(options_.address, options_.port));
    for (size_t i = 0; i < loops_.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(const evutil_socket_t fd, listen_on(options_.address, port, true));
      if (evhttp_accept_socket(loops_[i]->http, fd) != 0) {
        close(fd);
        return internal_error("cannot accept HTTP connections on I/O thread " + std::to_string(i));
      }
    }
    if (options_.metrics_port != 0) KILN_RETURN_IF_ERROR(start_metrics_listener());
    for (int signal_number : {SIGINT, SIGTERM}) {
      event* e = evsignal_new(main_loop.base, signal_number, &HttpFrontEnd::on_signal, this);
      event_add(e, nullptr);
      events_.push_back(e);
    }
    std::fprintf(stderr, "kiln serve: listening on %s://%s:%u (%d I/O thread%s)\n", scheme(), options_.address.c_str(),
                 static_cast<unsigned>(port), threads, threads == 1 ? "" : "s");
    for (size_t i = 1; i < loops_.size(); ++i) {
      IoLoop* loop = loops_[i].get();
      loop->thread = std::thread([loop, i] {
        set_current_thread_name("kiln-http-" + std::to_string(i));
        event_base_dispatch(loop->base);
      });
    }
    event_base_dispatch(main_loop.base);
    for (size_t i = 1; i < loops_.size(); ++i) loops_[i]->thread.join();
    return {};
  }

 private:
  const char* scheme() const { return ssl_context_ ? "https" : "http"; }

  Status add_loop() {
    auto loop = std::make_unique<IoLoop>();
    loop->front = this;
    loop->base = event_base_new();
    if (!loop->base) return internal_error("cannot create the libevent event loop");
    loop->http = evhttp_new(loop->base);
    if (!loop->http) {
      event_base_free(loop->base);
      return internal_error("cannot create the HTTP server");
    }
    configure_listener(loop->http);
    evhttp_set_bevcb(loop->http, &HttpFrontEnd::make_loop_bufferevent, loop.get());
    evhttp_set_max_body_size(loop->http, static_cast<ev_ssize_t>(options_.max_body_bytes));
    evhttp_set_allowed_methods(loop->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(loop->http, &HttpFrontEnd::on_request, loop.get());
    loop->replies_ready = event_new(loop->base, -1, EV_PERSIST, &HttpFrontEnd::on_replies_ready, loop.get());
    event_add(loop->replies_ready, nullptr);
    loop->watch_timer = event_new(loop->base, -1, EV_PERSIST, &HttpFrontEnd::on_watch_timer, loop.get());
    event_add(loop->watch_timer, &kClientWatchInterval);
    loops_.push_back(std::move(loop));
    return {};
  }

  // Both listeners: the idle timeout that closes stalled (slow-loris) connections and the header
  // size limit.
  void configure_listener(evhttp* listener) {
    evhttp_set_timeout(listener, options_.io_timeout_seconds);
    evhttp_set_max_headers_size(listener, static_cast<ev_ssize_t>(options_.max_header_bytes));
  }

  // Every accepted connection's bufferevent, plain or TLS; plain ones on the I/O loops get the
  // big reads of http_body_reader.h.
  static bufferevent* make_loop_bufferevent(event_base* base, void* loop_arg) {
    auto* loop = static_cast<IoLoop*>(loop_arg);
    bufferevent* bev = loop->front->make_bufferevent(base);
    if (bev != nullptr && !loop->front->ssl_context_) loop->readers.attach(bev);
    return bev;
  }

  static bufferevent* make_metrics_bufferevent(event_base* base, void* self) {
    return static_cast<HttpFrontEnd*>(self)->make_bufferevent(base);
  }

  bufferevent* make_bufferevent(event_base* base) {
    if (!ssl_context_) return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    SSL* ssl = SSL_new(ssl_context_.get());
    if (!ssl) return nullptr;
    bufferevent* bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    // Clients commonly close without a TLS close_notify; that is an end of stream, not an error.
    if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
  }

  // Metrics get their own listener, as in Triton, so scrapers never queue behind inference.
  Status start_metrics_listener() {
    metrics_http_ = evhttp_new(loops_.front()->base);
    if (!metrics_http_) return internal_error("cannot create the metrics HTTP server");
    configure_listener(metrics_http_);
    if (ssl_context_) evhttp_set_bevcb(metrics_http_, &HttpFrontEnd::make_metrics_bufferevent, this);
    evhttp_set_allowed_methods(metrics_http_, EVHTTP_REQ_GET);
    evhttp_set_gencb(metrics_http_, &HttpFrontEnd::on_metrics_request, this);
    if (evhttp_bind_socket(metrics_http_, options_.address.c_str(), options_.metrics_port) != 0) {
      return unavailable("cannot listen for metrics on " + options_.address + ":" + std::to_string(options_.metrics_port) +
                         " (is the port in use?)");
    }
    std::fprintf(stderr, "kiln serve: metrics on %s://%s:%u/metrics\n", scheme(), options_.address.c_str(), options_.metrics_port);
    return {};
  }

  static void on_metrics_request(evhttp_request* request, void* self) {
    auto* front = static_cast<HttpFrontEnd*>(self);
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
    if (!path || std::string(path) != "/metrics") {
      return send_now(request, kHttpNotFound, encode_error("metrics are served at /metrics"));
    }
    Result<std::vector<serving::VersionStatistics>> stats = front->server_.statistics("", "");
    const std::string text = front->metrics_.render(stats.ok() ? *stats : std::vector<serving::VersionStatistics>{});
    evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evbuffer* out = evbuffer_new();
    evbuffer_add(out, text.data(), text.size());
    evhttp_send_reply(request, kHttpOk, nullptr, out);
    evbuffer_free(out);
  }

  // Called from any thread: queue a reply for the I/O thread that read the request.
  static void post(IoLoop* loop, Reply reply) {
    {
      std::lock_guard<std::mutex> lock(loop->mutex);
      loop->pending.push_back(std::move(reply));
    }
    event_active(loop->replies_ready, EV_READ, 0);
  }

  static void on_replies_ready(evutil_socket_t, short, void* arg) {
    auto* loop = static_cast<IoLoop*>(arg);
    std::deque<Reply> replies;
    {
      std::lock_guard<std::mutex> lock(loop->mutex);
      replies.swap(loop->pending);
    }
    // Read before sending: once drained, every accepted request's reply is already pending.
    const bool exit_now = loop->front->drained_.load();
    for (Reply& r : replies) {
      unwatch(loop, r.request);
      send_now(r.request, r.code, r.body, r.json_length);
    }
    if (exit_now) event_base_loopexit(loop->base, &kExitFlushDelay);
  }

  static void on_signal(evutil_socket_t, short, void* self) {
    auto* front = static_cast<HttpFrontEnd*>(self);
    if (front->drain_thread_.joinable()) return;
    std::fprintf(stderr, "kiln serve: shutting down (completing accepted requests)\n");
    // Draining waits for the schedulers, whose replies need the loops: drain on another thread.
    front->drain_thread_ = std::thread([front] {
      front->server_.shutdown();
      front->drained_.store(true);
      for (auto& loop : front->loops_) event_active(loop->replies_ready, EV_READ, 0);
    });
  }

  // A client that disconnects while its request is in the server. evhttp stops reading a
  // connection while its request is being handled, so it would notice only when the reply is
  // written: the loop's watch timer polls the sockets of connections with a request inside for
  // the peer's FIN (POLLRDHUP; as nginx, a client that closes its side has gone) and sets the
  // flag the scheduler checks before running a queued request. The sockets are polled on the
  // loop thread that owns them, so a closed and reused descriptor is never looked at: the close
  // callback and the reply drop the watch first.
  static std::function<bool()> watch_connection(IoLoop* loop, evhttp_request* request) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    bufferevent* events = connection ? evhttp_connection_get_bufferevent(connection) : nullptr;
    const evutil_socket_t fd = events ? bufferevent_getfd(events) : -1;
    if (fd < 0 || loop == nullptr) return {};
    auto gone = std::make_shared<std::atomic<bool>>(false);
    loop->watched[connection] = IoLoop::Watch{gone, fd};  // on_request set the close callback
    return [gone] { return gone->load(std::memory_order_relaxed); };
  }

  static void unwatch(IoLoop* loop, evhttp_request* request) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    if (connection != nullptr) loop->watched.erase(connection);
  }

  static void on_connection_closed(evhttp_connection* connection, void* arg) {
    auto* loop = static_cast<IoLoop*>(arg);
    loop->readers.forget(evhttp_connection_get_bufferevent(connection));
    auto it = loop->watched.find(connection);
    if (it == loop->watched.end()) return;
    it->second.gone->store(true, std::memory_order_relaxed);
    loop->watched.erase(it);
  }

  static void on_watch_timer(evutil_socket_t, short, void* arg) {
    auto* loop = static_cast<IoLoop*>(arg);
    for (auto& [connection, watch] : loop->watched) {
      pollfd p{watch.fd, POLLRDHUP, 0};
      if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        watch.gone->store(true, std::memory_order_relaxed);
      }
    }
  }

  static void on_request(evhttp_request* request, void* arg) {
    auto* loop = static_cast<IoLoop*>(arg);
    current_loop_ = loop;
    // Every connection with a request gets the close callback: it drops the connection's body
    // reader and its client-gone watch.
    if (evhttp_connection* connection = evhttp_request_get_connection(request))
      evhttp_connection_set_closecb(connection, &HttpFrontEnd::on_connection_closed, loop);
    disable_nagle(request);
    loop->front->route(request);
  }

  // Replies go out whole, without Nagle's wait for the client's (delayed) ACK of the segments
  // before: a large response's last partial segment otherwise waited up to 40 ms, which capped
  // HTTP at ~300 requests/s for 16 clients on the H200 host whatever the payload. gRPC sets
  // TCP_NODELAY itself. Per request, as evhttp gives no hook at accept; the call costs a syscall.
  static void disable_nagle(evhttp_request* request) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    bufferevent* events = connection ? evhttp_connection_get_bufferevent(connection) : nullptr;
    const evutil_socket_t fd = events ? bufferevent_getfd(events) : -1;
    const int on = 1;
    if (fd >= 0) (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }

  // The API key (when one is set) guards the model-control and shared-memory endpoints.
  bool authorized(evhttp_request* request) const {
    const char* authorization = evhttp_find_header(evhttp_request_get_input_headers(request), kAuthorizationHeader);
    return api_key_.accepts(authorization ? authorization : "");
  }

  void reply_unauthorized(evhttp_request* request) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "WWW-Authenticate", "Bearer");
    send_now(request, kHttpUnauthorized, encode_error(kUnauthenticatedMessage));
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

    if (!parts.empty() && parts[0] == "v1") return route_tfs(request, parts, is_get, is_post);
    if (parts.empty() || parts[0] != "v2") return send_now(request, kHttpNotFound, encode_error("unknown path " + path));
    if (parts.size() == 1) return is_get ? send_now(request, kHttpOk, encode_server_metadata(options_.server_version)) : method_error();
    if (parts.size() == 3 && parts[1] == "health") {
      if (!is_get) return method_error();
      if (parts[2] == "live") return send_now(request, server_.live() ? kHttpOk : kHttpBadRequest, "");
      if (parts[2] == "ready") return send_now(request, server_.ready() ? kHttpOk : kHttpBadRequest, "");
    }
    if (parts[1] == "repository") return route_repository(request, parts, is_post);
    if (parts[1] == "systemsharedmemory") return route_shared_memory(request, parts, is_get, is_post);
    if (parts[1] == "cudasharedmemory") return route_shared_memory(request, parts, is_get, is_post);
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
      if (action == "ready") {
        // Not ready: 400 as Triton answers, with the reason (loading, the load's error) as the body.
        const Status readiness = server_.model_readiness(model, version);
        return send_now(request, readiness.ok() ? kHttpOk : kHttpBadRequest, readiness.ok() ? "" : encode_error(readiness.message()));
      }
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

  // TensorFlow Serving's REST API: /v1/models/{name}[/versions/{v}][/metadata | :predict].
  void route_tfs(evhttp_request* request, const std::vector<std::string>& parts, bool is_get, bool is_post) {
    Result<TfsPath> path = parse_tfs_path(std::vector<std::string>(parts.begin() + 1, parts.end()));
    if (!path.ok()) return reply_status(request, path.status());
    const bool method_ok = path->action == TfsAction::kPredict ? is_post : is_get;
    if (!method_ok) return send_now(request, kHttpMethodNotAllowed, encode_error("method not allowed for this TensorFlow Serving path"));
    Result<serving::ModelMetadata> meta = server_.model_metadata(path->model, path->version);
    if (!meta.ok()) return reply_status(request, meta.status());
    if (path->action == TfsAction::kStatus) return send_now(request, kHttpOk, encode_tfs_model_status(*meta));
    if (path->action == TfsAction::kMetadata) return send_now(request, kHttpOk, encode_tfs_metadata(*meta, path->version));
    tfs_predict(request, *path, *meta);
  }

  void tfs_predict(evhttp_request* request, const TfsPath& path, const serving::ModelMetadata& meta) {
    auto inference = std::make_unique<serving::InferenceRequest>();
    inference->timestamps.received = serving::Clock::now();
    inference->model_name = path.model;
    inference->model_version = path.version;
    Result<TfsFormat> format = decode_tfs_predict(body_of(request), meta, *inference);
    if (!format.ok()) return reply_status(request, format.status());
    metrics_.request_started(path.model, path.version);
    inference->on_complete = [this, loop = current_loop_, request, format = *format, model = path.model, version = path.version](
                                 serving::InferenceResponse&& response) {
      response.timestamps.sent = serving::Clock::now();
      metrics_.request_finished(model, version, response);
      if (!response.status.ok()) {
        return post(loop, {request, http_status_for(response.status), encode_error(response.status.message()), std::nullopt});
      }
      Result<std::string> body = encode_tfs_predict_response(format, response);
      if (!body.ok()) return post(loop, {request, http_status_for(body.status()), encode_error(body.status().message()), std::nullopt});
      post(loop, {request, kHttpOk, std::move(*body), std::nullopt});
    };
    inference->client_gone = watch_connection(current_loop_, request);
    server_.infer(std::move(inference));
  }

  // Copies the body into a transfer buffer (serving/transfer_buffer_pool.h), placed so that the
  // binary tensor data after the JSON starts 64-byte aligned: the tensors then view it as it is
  // (misaligned data would be copied again) and go to the GPU from page-locked memory.
  InferBody receive_body(evbuffer* in, size_t size, size_t json_length) {
    constexpr size_t kAlignment = 64;
    const size_t pad = (kAlignment - json_length % kAlignment) % kAlignment;
    std::shared_ptr<uint8_t> buffer = options_.transfer_buffers->acquire(pad + size);
    char* start = reinterpret_cast<char*>(buffer.get()) + pad;
    if (size > 0) evbuffer_copyout(in, start, size);
    InferBody body;
    body.bytes = std::string_view(start, size);
    body.json_length = json_length;
    body.owner = std::move(buffer);
    return body;
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
    if (!authorized(request)) return reply_unauthorized(request);
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

  // v2/{system,cuda}sharedmemory[/region/{name}]/status|register|unregister (KServe's shared-memory
  // extensions): a region is a POSIX shm object or, for cuda, a GPU allocation's IPC handle.
  void route_shared_memory(evhttp_request* request, const std::vector<std::string>& parts, bool is_get, bool is_post) {
    const bool cuda = parts[1] == "cudasharedmemory";
    const bool with_region = parts.size() == 5 && parts[2] == "region";
    if (!with_region && parts.size() != 3) return send_now(request, kHttpNotFound, encode_error("unknown shared memory request"));
    const std::string region = with_region ? parts[3] : "";
    const std::string& action = parts.back();
    serving::SharedMemoryRegistry& registry = *options_.shared_memory;
    if (action == "status") {
      if (!is_get) return send_now(request, kHttpMethodNotAllowed, encode_error("shared memory status uses GET"));
      if (cuda) {
        Result<std::vector<serving::CudaSharedMemoryRegionStatus>> regions = registry.cuda_status(region);
        return regions.ok() ? send_now(request, kHttpOk, encode_cuda_shared_memory_status(*regions)) : reply_status(request, regions.status());
      }
      Result<std::vector<serving::SharedMemoryRegionStatus>> regions = registry.status(region);
      return regions.ok() ? send_now(request, kHttpOk, encode_shared_memory_status(*regions)) : reply_status(request, regions.status());
    }
    if (action != "register" && action != "unregister") return send_now(request, kHttpNotFound, encode_error("unknown shared memory request"));
    if (!is_post) return send_now(request, kHttpMethodNotAllowed, encode_error("shared memory " + action + " uses POST"));
    if (!authorized(request)) return reply_unauthorized(request);
    if (action == "unregister") {
      Status status = cuda ? registry.unregister_cuda_region(region) : registry.unregister_region(region);
      return status.ok() ? send_now(request, kHttpOk, "") : reply_status(request, status);
    }
    if (!with_region)
      return send_now(request, kHttpNotFound, encode_error("register needs a region: v2/" + parts[1] + "/region/NAME/register"));
    Status status;
    if (cuda) {
      Result<CudaRegisterRequest> wanted = decode_cuda_shared_memory_register(body_of(request));
      if (!wanted.ok()) return reply_status(request, wanted.status());
      status = registry.register_cuda_region(region, wanted->raw_handle, wanted->device_id, wanted->byte_size);
    } else {
      Result<serving::SharedMemoryRegionStatus> wanted = decode_shared_memory_register(body_of(request));
      if (!wanted.ok()) return reply_status(request, wanted.status());
      status = registry.register_region(region, wanted->key, wanted->offset, wanted->byte_size);
    }
    return status.ok() ? send_now(request, kHttpOk, "") : reply_status(request, status);
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
    evbuffer* in = evhttp_request_get_input_buffer(request);
    const size_t size = evbuffer_get_length(in);
    size_t json_length = size;
    if (const char* header = evhttp_find_header(evhttp_request_get_input_headers(request), kInferenceHeaderContentLength)) {
      Result<size_t> length = parse_header_length(header, size);
      if (!length.ok()) return reply_status(request, length.status());
      json_length = *length;
    }
    const InferBody body = receive_body(in, size, json_length);
    bool binary_by_default = false;
    if (Status status = decode_infer_request(body, *options_.shared_memory, *inference, binary_by_default); !status.ok()) return reply_status(request, status);
    metrics_.request_started(model, version);
    inference->on_complete = [this, loop = current_loop_, request, binary_by_default, model, version](serving::InferenceResponse&& response) {
      response.timestamps.sent = serving::Clock::now();
      metrics_.request_finished(model, version, response);
      if (!response.status.ok()) {
        post(loop, {request, http_status_for(response.status), encode_error(response.status.message()), std::nullopt});
      } else {
        EncodedInferResponse encoded = encode_infer_response(response, binary_by_default);
        post(loop, {request, kHttpOk, std::move(encoded.body), encoded.json_length});
      }
    };
    inference->client_gone = watch_connection(current_loop_, request);
    server_.infer(std::move(inference));
  }

  serving::InferenceServer& server_;
  ServeMetrics& metrics_;
  const ApiKey& api_key_;
  HttpOptions options_;
  SslContext ssl_context_{nullptr, SSL_CTX_free};
  // The loop whose thread is running a request handler: replies go back to it.
  static thread_local IoLoop* current_loop_;
  std::vector<std::unique_ptr<IoLoop>> loops_;  // loops_[0] also serves metrics and signals
  evhttp* metrics_http_ = nullptr;
  std::vector<event*> events_;
  std::thread drain_thread_;
  std::atomic<bool> drained_{false};
};

thread_local IoLoop* HttpFrontEnd::current_loop_ = nullptr;

}  // namespace

Status run_http_server(serving::InferenceServer& server, ServeMetrics& metrics, const ApiKey& api_key, const HttpOptions& options) {
  HttpFrontEnd front(server, metrics, api_key, options);
  return front.run();
}

}  // namespace kiln::cli::serve
