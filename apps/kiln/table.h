// A plain-text table with aligned columns, for the human-readable reports.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace kiln::cli {

class TextTable {
 public:
  enum class Align { kLeft, kRight };

  explicit TextTable(std::vector<std::string> headers, std::vector<Align> aligns = {});
  void add_row(std::vector<std::string> cells);
  // Writes the header, a rule, then the rows; each line starts with `indent`.
  void print(std::FILE* out, const std::string& indent = "  ") const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> aligns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace kiln::cli
