// What the repository poller counts as a changed model directory.
#include "serving/directory_fingerprint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace kiln::serving {
namespace {
namespace fs = std::filesystem;

class DirectoryFingerprintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kiln-fingerprint-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "1");
    write("config.pbtxt", "max_batch_size: 4\n");
    write("1/model.onnx", "model bytes");
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& relative, const std::string& text) const { std::ofstream(root_ / relative) << text; }
  std::string fingerprint() const { return directory_fingerprint(root_.string()); }

  fs::path root_;
};

TEST_F(DirectoryFingerprintTest, UnchangedTreeReadsTheSame) {
  EXPECT_FALSE(fingerprint().empty());
  EXPECT_EQ(fingerprint(), fingerprint());
}

TEST_F(DirectoryFingerprintTest, NewVersionDirectoryChangesIt) {
  const std::string before = fingerprint();
  fs::create_directories(root_ / "2");
  EXPECT_NE(fingerprint(), before) << "even an empty version directory changes which versions exist";
}

TEST_F(DirectoryFingerprintTest, RewrittenFileOfTheSameSizeChangesIt) {
  const std::string before = fingerprint();
  // Same size: only the modification time tells; set it explicitly so the test does not depend
  // on the file system's timestamp granularity.
  write("config.pbtxt", "max_batch_size: 8\n");
  fs::last_write_time(root_ / "config.pbtxt", fs::last_write_time(root_ / "config.pbtxt") + std::chrono::seconds(2));
  EXPECT_NE(fingerprint(), before);
}

TEST_F(DirectoryFingerprintTest, RemovedFileChangesIt) {
  const std::string before = fingerprint();
  fs::remove(root_ / "config.pbtxt");
  EXPECT_NE(fingerprint(), before);
}

TEST_F(DirectoryFingerprintTest, HiddenEntriesAreIgnored) {
  const std::string before = fingerprint();
  fs::create_directories(root_ / ".scratch");
  write(".scratch/tmp", "editor swap file");
  write(".config.pbtxt.swp", "x");
  EXPECT_EQ(fingerprint(), before);
}

TEST_F(DirectoryFingerprintTest, MissingDirectoryIsEmpty) {
  EXPECT_EQ(directory_fingerprint((root_ / "absent").string()), "");
}

}  // namespace
}  // namespace kiln::serving
