#include "serving/engine_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

namespace kiln::serving {
namespace {
namespace fs = std::filesystem;

// examples/tiny_cnn.onnx: image [N,3,32,32] -> probabilities [N,10].
class EngineCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kiln-engine-cache-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "tiny_cnn" / "1");
    model_ = (root_ / "tiny_cnn" / "1" / "model.onnx").string();
    fs::copy_file(fs::path(KILN_SOURCE_DIR) / "examples" / "tiny_cnn.onnx", model_);
  }
  void TearDown() override { fs::remove_all(root_); }

  EngineRequest request(const std::string& precision = "fp32") const {
    EngineRequest r;
    r.model_path = model_;
    r.label = "model 'tiny_cnn' version 1";
    r.entry_name = "tiny_cnn.1";
    r.settings.backends = {"cpu", "reference"};
    r.settings.precision = precision;
    r.settings.profiles = {{{"image", Shape({2, 3, 32, 32})}}, {{"image", Shape({4, 3, 32, 32})}}};
    Result<BuildTarget> target = build_target(r.settings.backends);
    EXPECT_TRUE(target.ok()) << target.status().message();
    if (target.ok()) r.target = *target;
    return r;
  }

  // A request whose profiles are one per batch size (different batches: different cache keys).
  EngineRequest request_for_batches(const std::vector<int64_t>& batches) const {
    EngineRequest r = request();
    r.settings.profiles.clear();
    for (int64_t b : batches) r.settings.profiles.push_back({{"image", Shape({b, 3, 32, 32})}});
    return r;
  }

  LogFn logger() {
    return [this](const std::string& line) { log_ += line + "\n"; };
  }
  bool logged(const std::string& text) const { return log_.find(text) != std::string::npos; }

  fs::path root_;
  std::string model_;
  std::string log_;
};

Tensor random_image(int64_t batch, std::mt19937& rng) {
  Tensor t(DType::kFloat32, Shape({batch, 3, 32, 32}));
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

TEST_F(EngineCacheTest, BuildsOnceThenHitsAndAnswersAsTheReferenceExecutor) {
  const std::string cache_dir = (root_ / ".kiln-cache").string();
  EngineCache cache(cache_dir, logger());
  Result<OpenedEngine> built = cache.open(request());
  ASSERT_TRUE(built.ok()) << built.status().message();
  EXPECT_FALSE(built->cache_hit);
  EXPECT_TRUE(logged("engine cache miss")) << log_;
  EXPECT_TRUE(logged("building profile 2/2")) << log_;
  ASSERT_TRUE(fs::is_regular_file(built->plan_path));
  EXPECT_EQ(fs::path(built->plan_path).parent_path(), fs::path(cache_dir));
  EXPECT_EQ(built->session->description().rfind("engine: host", 0), 0u) << built->session->description();
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(cache_dir)) entries += entry.path().extension() == ".plan";
  EXPECT_EQ(entries, 1u) << "no temporary file is left behind";

  log_.clear();
  Result<OpenedEngine> again = EngineCache(cache_dir, logger()).open(request());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->cache_hit);
  EXPECT_EQ(again->plan_path, built->plan_path);
  EXPECT_TRUE(logged("engine cache hit")) << log_;
  EXPECT_FALSE(logged("building")) << log_;

  // Fresh random inputs, batches at and between the profiles (3 is padded up to 4).
  Result<std::unique_ptr<Session>> reference = Session::open(model_);
  ASSERT_TRUE(reference.ok()) << reference.status().message();
  std::mt19937 rng(std::random_device{}());
  for (int64_t batch : {2, 3, 4}) {
    const std::map<std::string, Tensor> feeds = {{"image", random_image(batch, rng)}};
    Result<std::vector<Tensor>> want = (*reference)->run(feeds);
    Result<std::vector<Tensor>> got = again->session->run(feeds);
    ASSERT_TRUE(want.ok() && got.ok()) << want.status().message() << got.status().message();
    ASSERT_EQ((*got)[0].shape(), (*want)[0].shape());
    for (int64_t i = 0; i < (*want)[0].numel(); ++i) {
      EXPECT_NEAR((*got)[0].data<float>()[i], (*want)[0].data<float>()[i], 1e-4) << "batch " << batch << " element " << i;
    }
  }
}

TEST_F(EngineCacheTest, KeyCoversPrecisionAndModelBytes) {
  Result<std::string> fp32 = cache_key_text(request("fp32"));
  Result<std::string> fp16 = cache_key_text(request("fp16"));
  ASSERT_TRUE(fp32.ok() && fp16.ok());
  EXPECT_NE(sha256_hex(*fp32), sha256_hex(*fp16));
  EXPECT_NE(fp32->find("device host"), std::string::npos) << *fp32;
  EXPECT_NE(fp32->find("profile 1 image=4x3x32x32"), std::string::npos) << *fp32;
  // The GELU approximation changes the engine, so it changes the key; unset, the key has no line for it.
  EXPECT_EQ(fp32->find("approximate_gelu"), std::string::npos) << *fp32;
  EngineRequest approximate = request("fp32");
  approximate.settings.approximate_gelu = true;
  Result<std::string> approximate_key = cache_key_text(approximate);
  ASSERT_TRUE(approximate_key.ok());
  EXPECT_NE(sha256_hex(*approximate_key), sha256_hex(*fp32));
  std::ofstream(fs::path(model_).parent_path() / "model.onnx.data") << "external weights";
  Result<std::string> with_data = cache_key_text(request("fp32"));
  ASSERT_TRUE(with_data.ok());
  EXPECT_NE(*with_data, *fp32);
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(EngineCacheTest, DamagedEntryIsRebuiltAndReplaced) {
  const std::string cache_dir = (root_ / "cache").string();
  Result<OpenedEngine> built = EngineCache(cache_dir, logger()).open(request());
  ASSERT_TRUE(built.ok()) << built.status().message();
  const std::string path = built->plan_path;
  built.value().session.reset();  // drop the mapping before damaging the file
  for (const char* damage : {"truncate", "garbage"}) {
    if (std::string(damage) == "truncate") fs::resize_file(path, 100);
    else std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a plan at all";
    log_.clear();
    Result<OpenedEngine> rebuilt = EngineCache(cache_dir, logger()).open(request());
    ASSERT_TRUE(rebuilt.ok()) << damage << ": " << rebuilt.status().message();
    EXPECT_FALSE(rebuilt->cache_hit) << damage;
    EXPECT_TRUE(logged("refused")) << damage << ": " << log_;
    EXPECT_TRUE(logged("rebuilding")) << log_;
    rebuilt.value().session.reset();
    Result<OpenedEngine> hit = EngineCache(cache_dir, logger()).open(request());
    ASSERT_TRUE(hit.ok()) << hit.status().message();
    EXPECT_TRUE(hit->cache_hit) << damage << ": the rebuilt entry replaced the damaged one";
  }
}

TEST_F(EngineCacheTest, UnwritableDirectoryBuildsInMemoryWithAWarning) {
  std::ofstream(root_ / "a_file") << "x";  // a directory below a file cannot be created, even by root
  Result<OpenedEngine> opened = EngineCache((root_ / "a_file" / "cache").string(), logger()).open(request());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_FALSE(opened->cache_hit);
  EXPECT_TRUE(opened->plan_path.empty());
  EXPECT_TRUE(logged("warning: model 'tiny_cnn' version 1: engine cache unusable")) << log_;
  const std::map<std::string, Tensor> feeds = {{"image", Tensor(DType::kFloat32, Shape({2, 3, 32, 32}))}};
  EXPECT_TRUE(opened->session->run(feeds).ok());
}

// Storing an entry beyond the size limit evicts the least recently used others (a hit counts as
// a use), never the entry just stored; and builds into a cache share its timing cache.
TEST_F(EngineCacheTest, EvictsTheLeastRecentlyUsedEntriesBeyondTheLimit) {
  auto size_of = [](const std::string& path) { return static_cast<uint64_t>(fs::file_size(path)); };
  // B's size, learnt from a build into another directory (the same build gives the same plan).
  Result<OpenedEngine> scratch = EngineCache((root_ / "scratch").string(), logger()).open(request_for_batches({1}));
  ASSERT_TRUE(scratch.ok()) << scratch.status().message();
  const uint64_t size_b = size_of(scratch->plan_path);

  const std::string dir = (root_ / "cache").string();
  Result<OpenedEngine> a = EngineCache(dir, logger()).open(request_for_batches({2}));
  Result<OpenedEngine> c = EngineCache(dir, logger()).open(request_for_batches({3}));
  ASSERT_TRUE(a.ok() && c.ok()) << a.status().message() << c.status().message();
  const std::string path_a = a->plan_path, path_c = c->plan_path;
  EXPECT_TRUE(fs::exists(fs::path(dir) / "timing.cache")) << "builds into the cache keep a timing cache beside it";
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(path_a, now - std::chrono::hours(2));
  fs::last_write_time(path_c, now - std::chrono::hours(1));
  // A hit makes A the most recently used, so C is the one to go.
  Result<OpenedEngine> hit = EngineCache(dir, logger()).open(request_for_batches({2}));
  ASSERT_TRUE(hit.ok() && hit->cache_hit) << hit.status().message();
  EXPECT_GT(fs::last_write_time(path_a), now - std::chrono::minutes(1));

  log_.clear();
  const uint64_t limit = size_of(path_a) + size_of(path_c) + size_b - 1;
  Result<OpenedEngine> b = EngineCache(dir, logger(), limit).open(request_for_batches({1}));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_FALSE(fs::exists(path_c)) << log_;
  EXPECT_TRUE(fs::exists(path_a)) << log_;
  EXPECT_TRUE(fs::exists(b->plan_path)) << log_;
  EXPECT_TRUE(logged("evicted " + fs::path(path_c).filename().string())) << log_;

  // A limit below one entry: everything else goes, the new entry stays (it is in use), with a warning.
  log_.clear();
  Result<OpenedEngine> again = EngineCache(dir, logger(), 1).open(request_for_batches({3}));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_FALSE(fs::exists(path_a));
  EXPECT_FALSE(fs::exists(b->plan_path));
  EXPECT_TRUE(fs::exists(again->plan_path));
  EXPECT_TRUE(logged("exceeds the limit")) << log_;
  // C's rebuild found every tactic choice in the directory's timing cache.
  EXPECT_TRUE(logged(" 0 tactics timed")) << log_;
  EXPECT_FALSE(logged(" 0 timing cache hits")) << log_;
  // Engines opened before their entry was evicted keep running on their mapping.
  const std::map<std::string, Tensor> feeds = {{"image", Tensor(DType::kFloat32, Shape({1, 3, 32, 32}))}};
  EXPECT_TRUE(b->session->run(feeds).ok());
}

}  // namespace
}  // namespace kiln::serving
