#include "serving/engine_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "core/temporary_name.h"
#include "kiln/plan_info.h"

namespace kiln::serving {
namespace fs = std::filesystem;
namespace {

// Bumped when the key text changes meaning, so old entries stop matching.
constexpr const char* kKeyFormat = "kiln engine cache key 1";
constexpr size_t kReadChunkBytes = 1 << 20;
constexpr int kProgressSteps = 4;  // log lines per profile built (every quarter of its nodes)

std::string hex(const unsigned char* bytes, unsigned int size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < size; ++i) {
    text += kDigits[bytes[i] >> 4];
    text += kDigits[bytes[i] & 0xf];
  }
  return text;
}

struct DigestDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr); }
  void update(const void* data, size_t size) { EVP_DigestUpdate(context_.get(), data, size); }
  std::string hex_digest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_.get(), digest, &size);
    return hex(digest, size);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> context_;
};

Result<std::string> file_sha256(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found("cannot read '" + path.string() + "'");
  Sha256 digest;
  std::vector<char> buffer(kReadChunkBytes);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    digest.update(buffer.data(), static_cast<size_t>(file.gcount()));
  }
  if (file.bad()) return data_loss("error reading '" + path.string() + "'");
  return digest.hex_digest();
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ",") + item;
  return text.empty() ? "(fastest)" : text;
}

// "batch sizes 1,2,4" or, for a model that does not batch, its one profile's shapes.
std::string profiles_text(const EngineRequest& request) {
  std::string text;
  if (!request.batch_sizes.empty()) {
    for (int64_t size : request.batch_sizes) text += (text.empty() ? "" : ",") + std::to_string(size);
    return "batch sizes " + text;
  }
  for (const auto& profile : request.settings.profiles)
    for (const auto& [name, shape] : profile) text += (text.empty() ? "" : " ") + name + "=" + shape.to_string();
  return "shapes " + (text.empty() ? std::string("as in the model") : text);
}

// Logs the start of each profile and every quarter of its nodes: a long GPU build shows that it
// moves without one line per node.
std::function<void(const BuildProgressInfo&)> progress_logger(const std::string& label, const LogFn& log) {
  auto last = std::make_shared<std::pair<size_t, int>>(SIZE_MAX, -1);  // profile, quarter
  return [label, log, last](const BuildProgressInfo& p) {
    const int step = p.total ? static_cast<int>(p.done * kProgressSteps / p.total) : kProgressSteps;
    if (p.profile == last->first && step == last->second) return;
    *last = {p.profile, step};
    log(label + ": building profile " + std::to_string(p.profile + 1) + "/" + std::to_string(p.profiles) + ": " +
        std::to_string(p.done) + "/" + std::to_string(p.total) + " nodes" + (p.node.empty() ? "" : " (" + p.node + ")"));
  };
}

// Whether a file can be created in `directory` (creating the directory first).
Status check_writable(const std::string& directory) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) return unavailable("cannot create '" + directory + "': " + ec.message());
  const std::string probe = temporary_name((fs::path(directory) / ".probe").string());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return unavailable("cannot write in '" + directory + "': " + std::string(std::strerror(errno)));
  ::close(fd);
  fs::remove(probe, ec);
  return {};
}

// Data before name: a crash after the rename must not leave an entry whose blocks never landed.
void flush_to_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// A cached plan is used only when its header says it is what the key describes (a copied or
// renamed file would otherwise be trusted on its name alone).
Status check_entry(const std::string& path, const EngineRequest& request) {
  if (!is_plan_file(path)) return data_loss("not a plan file");
  KILN_ASSIGN_OR_RETURN(PlanInfo info, read_plan_info(path));
  if (info.kiln_version != request.target.kiln_version) {
    return failed_precondition("built by kiln " + info.kiln_version + ", this is " + request.target.kiln_version);
  }
  if (info.device_kind != request.target.device_kind || info.device_arch != request.target.device_arch) {
    return failed_precondition("built for " + info.device_kind + " " + info.device_arch + ", this is " +
                               request.target.device_kind + " " + request.target.device_arch);
  }
  if (info.precision != request.settings.precision) {
    return failed_precondition("built in " + info.precision + ", " + request.settings.precision + " wanted");
  }
  const size_t wanted = std::max<size_t>(request.settings.profiles.size(), 1);
  if (info.profiles.size() != wanted) {
    return failed_precondition("has " + std::to_string(info.profiles.size()) + " profiles, " + std::to_string(wanted) + " wanted");
  }
  return {};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", seconds);
  return text;
}

}  // namespace

std::string sha256_hex(const std::string& bytes) {
  Sha256 digest;
  digest.update(bytes.data(), bytes.size());
  return digest.hex_digest();
}

Result<std::string> cache_key_text(const EngineRequest& request) {
  const BuildSettings& s = request.settings;
  std::string text = std::string(kKeyFormat) + "\n";
  text += "kiln " + request.target.kiln_version + "\n";
  text += "device " + request.target.device_kind + " " + request.target.device_arch + " " + request.target.device_name + "\n";
  text += "backends " + joined(s.backends) + "\n";
  text += "precision " + s.precision + "\n";
  text += "optimize " + std::to_string(s.optimize) + "\n";
  text += "channels_last " + std::to_string(s.channels_last) + "\n";
  // Only when set, so the keys of every existing entry (built without it) stay what they were.
  if (s.approximate_gelu) text += "approximate_gelu 1\n";
  if (s.low_precision_io) text += "low_precision_io 1\n";
  for (size_t p = 0; p < s.profiles.size(); ++p) {
    text += "profile " + std::to_string(p);
    for (const auto& [name, shape] : s.profiles[p]) text += " " + name + "=" + shape.to_string();
    text += "\n";
  }
  for (const auto& [name, shape] : s.shapes) text += "shape " + name + "=" + shape.to_string() + "\n";
  // The model file and everything beside it: ONNX external weights live in the same directory.
  const fs::path model(request.model_path);
  std::vector<fs::path> files;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(model.parent_path(), ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) return unavailable("cannot list '" + model.parent_path().string() + "': " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    KILN_ASSIGN_OR_RETURN(std::string digest, file_sha256(file));
    const std::string role = file == model ? "model " : "file ";
    text += role;
    text += fs::relative(file, model.parent_path()).string();
    text += " " + digest + "\n";
  }
  return text;
}

constexpr const char* kTimingCacheFile = "timing.cache";
constexpr const char* kEntryExtension = ".plan";

EngineCache::EngineCache(std::string directory, LogFn log, uint64_t max_bytes)
    : directory_(std::move(directory)), log_(std::move(log)), max_bytes_(max_bytes) {}

void EngineCache::evict_beyond_limit(const std::string& keep) const {
  if (max_bytes_ == 0) return;
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    uintmax_t bytes;
  };
  std::vector<Entry> entries;
  uintmax_t total = 0;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(directory_, ec)) {
    // One error code per query: a later success must not clear an earlier failure.
    std::error_code type_ec, size_ec, time_ec;
    if (e.path().extension() != kEntryExtension || !e.is_regular_file(type_ec)) continue;
    const uintmax_t bytes = e.file_size(size_ec);
    const fs::file_time_type used = e.last_write_time(time_ec);
    if (size_ec || time_ec) continue;  // vanished meanwhile (another server evicted it)
    entries.push_back({e.path(), used, bytes});
    total += bytes;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& e : entries) {
    if (total <= max_bytes_) return;
    if (e.path == fs::path(keep)) continue;
    fs::remove(e.path, ec);
    if (ec) continue;
    total -= e.bytes;
    log_("engine cache: evicted " + e.path.filename().string() + " (" + std::to_string(e.bytes) +
         " bytes, least recently used) to stay within " + std::to_string(max_bytes_) + " bytes");
  }
  if (total > max_bytes_)
    log_("warning: engine cache: " + fs::path(keep).filename().string() + " alone (" + std::to_string(total) +
         " bytes) exceeds the limit of " + std::to_string(max_bytes_) + " bytes; kept, as it is in use");
}

Status EngineCache::build(const EngineRequest& request, const std::string& plan_path, const std::string& timing_cache) const {
  // Models load on several threads; GPU builds time their tactics on the device, so two at once
  // would each measure the other's kernels and choose worse. Host builds overlap.
  static std::mutex gpu_builds;
  std::unique_lock<std::mutex> one_gpu_build(gpu_builds, std::defer_lock);
  if (request.target.device_kind == "cuda") one_gpu_build.lock();
  BuildSettings settings = request.settings;
  settings.progress = progress_logger(request.label, log_);
  if (!timing_cache.empty()) settings.timing_cache = timing_cache;
  log_(request.label + ": building a " + request.target.device_kind + " engine for " + request.target.device_name + " (" +
       settings.precision + ", " + profiles_text(request) + ")");
  const auto start = std::chrono::steady_clock::now();
  Result<BuildSummary> summary = build_plan(request.model_path, plan_path, settings);
  if (!summary.ok()) return summary.status().with_context(request.label + ": engine build");
  log_(request.label + ": engine built in " + seconds_text(seconds_since(start)) + " (" + std::to_string(summary->steps) +
       " steps per profile, " + std::to_string(summary->profiles) + " profiles, " + std::to_string(summary->tactics_timed) +
       " tactics timed, " + std::to_string(summary->timing_cache_hits) + " timing cache hits)");
  return {};
}

Result<OpenedEngine> EngineCache::build_in_memory(const EngineRequest& request) const {
  // The runtime maps plans from files: a private temporary one, unlinked once mapped.
  const std::string path = temporary_name((fs::temp_directory_path() / ("kiln-serve-" + request.entry_name + ".plan")).string());
  Status built = build(request, path, "");
  std::error_code ec;
  if (!built.ok()) {
    fs::remove(path, ec);
    return built;
  }
  SessionOptions options;
  options.cuda_graphs = request.cuda_graphs;
  options.threads = request.cpu_threads;
  Result<std::unique_ptr<Session>> session = Session::open(path, options);
  fs::remove(path, ec);
  if (!session.ok()) return session.status().with_context(request.label);
  return OpenedEngine{std::move(session).value(), false, ""};
}

Result<OpenedEngine> EngineCache::open(const EngineRequest& request) const {
  if (directory_.empty()) return build_in_memory(request);
  if (Status writable = check_writable(directory_); !writable.ok()) {
    log_("warning: " + request.label + ": engine cache unusable (" + writable.message() +
         "); building in memory, so every start builds again (pass --engine-cache DIR with a writable DIR)");
    return build_in_memory(request);
  }
  KILN_ASSIGN_OR_RETURN(std::string key_text, cache_key_text(request));
  const std::string path = (fs::path(directory_) / (request.entry_name + "." + sha256_hex(key_text) + ".plan")).string();
  SessionOptions options;
  options.cuda_graphs = request.cuda_graphs;
  options.threads = request.cpu_threads;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    Status usable = check_entry(path, request);
    Result<std::unique_ptr<Session>> session = usable.ok() ? Session::open(path, options) : Result<std::unique_ptr<Session>>(usable);
    if (session.ok()) {
      fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // most recently used now
      log_(request.label + ": engine cache hit: " + path);
      return OpenedEngine{std::move(session).value(), true, path};
    }
    log_(request.label + ": cached engine " + path + " refused (" + session.status().message() + "); rebuilding it");
  } else {
    log_(request.label + ": engine cache miss: " + path);
  }
  const std::string temporary = temporary_name(path);
  if (Status built = build(request, temporary, (fs::path(directory_) / kTimingCacheFile).string()); !built.ok()) {
    fs::remove(temporary, ec);
    return built;
  }
  flush_to_disk(temporary);
  fs::rename(temporary, path, ec);  // atomic: readers see the old entry or the whole new one
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temporary, ec);
    return unavailable(request.label + ": cannot store the engine as '" + path + "': " + why);
  }
  Result<std::unique_ptr<Session>> session = Session::open(path, options);
  if (!session.ok()) return session.status().with_context(request.label + ": the engine just built");
  evict_beyond_limit(path);
  return OpenedEngine{std::move(session).value(), false, path};
}

}  // namespace kiln::serving
