// The known data errors allow-list: its format, its errors, and the list kiln ships.
#include "known_data_errors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kiln::conformance {
namespace {

namespace fs = std::filesystem;

class KnownDataErrorsFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = fs::temp_directory_path() /
            ("kiln_known_data_errors_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }

 private:
  fs::path path_;
};

TEST_F(KnownDataErrorsFile, ReadsNamesAndReasonsSkippingCommentsAndBlankLines) {
  auto entries = read_known_data_errors(write("# comment\n\n  test_a   the data is wrong  \ntest_b\tshape [1] vs [3,4]\n"));
  ASSERT_TRUE(entries.ok()) << entries.status().to_string();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(entries->at("test_a"), "the data is wrong");
  EXPECT_EQ(entries->at("test_b"), "shape [1] vs [3,4]");
}

TEST_F(KnownDataErrorsFile, MissingReasonAndRepeatedNameAreErrorsNamingTheLine) {
  auto no_reason = read_known_data_errors(write("# header\ntest_a\n"));
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_reason.status().message().find(":2:"), std::string::npos) << no_reason.status().to_string();
  auto twice = read_known_data_errors(write("test_a one\ntest_a two\n"));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("listed twice"), std::string::npos) << twice.status().to_string();
}

TEST(KnownDataErrors, MissingFileIsNotFound) {
  auto missing = read_known_data_errors((fs::temp_directory_path() / "kiln_no_such_list.txt").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(KnownDataErrors, ShippedListParsesAndNamesOnlyNodeTests) {
  auto entries = read_known_data_errors(KILN_CONFORMANCE_KNOWN_DATA_ERRORS);
  ASSERT_TRUE(entries.ok()) << entries.status().to_string();
  EXPECT_FALSE(entries->empty());
  for (const auto& [name, reason] : *entries) {
    EXPECT_EQ(name.rfind("test_", 0), 0u) << name;
    EXPECT_FALSE(reason.empty()) << name;
  }
}

}  // namespace
}  // namespace kiln::conformance
