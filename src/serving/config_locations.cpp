#include "serving/config_locations.h"

#include <cctype>
#include <vector>

namespace kiln::serving {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using ParseInfoTree = google::protobuf::TextFormat::ParseInfoTree;

// The string key of a map entry, read back from the text at the location of its `key` field:
// the parse tree keeps map entries in text order but not their keys, and the parsed map itself
// does not keep the text order. Empty when the key is not a quoted string.
std::string key_at(const std::vector<size_t>& line_starts, const std::string& text, int line, int column) {
  if (line < 0 || static_cast<size_t>(line) >= line_starts.size()) return "";
  size_t at = line_starts[static_cast<size_t>(line)] + static_cast<size_t>(column);
  auto skip = [&](auto is_skipped) {
    while (at < text.size() && is_skipped(text[at])) ++at;
  };
  skip([](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });  // "key"
  skip([](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':'; });
  if (at >= text.size() || (text[at] != '"' && text[at] != '\'')) return "";
  const char quote = text[at++];
  const size_t end = text.find(quote, at);
  return end == std::string::npos ? "" : text.substr(at, end - at);
}

class Collector {
 public:
  Collector(const std::string& text, std::map<std::string, int>& lines) : text_(text), lines_(lines) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts_.push_back(i + 1);
  }

  void collect(const ParseInfoTree& tree, const Message& message, const std::string& prefix) {
    const Reflection* reflection = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      const std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
      if (field->is_map()) {
        collect_map(tree, *field, path);
      } else if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          const std::string element = path + "[" + std::to_string(i) + "]";
          record(path, tree.GetLocation(field, i).line);
          record(element, tree.GetLocation(field, i).line);
          if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
          if (const ParseInfoTree* nested = tree.GetTreeForNested(field, i)) {
            collect(*nested, reflection->GetRepeatedMessage(message, field, i), element);
          }
        }
      } else {
        record(path, tree.GetLocation(field, -1).line);
        if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
        if (const ParseInfoTree* nested = tree.GetTreeForNested(field, -1)) {
          collect(*nested, reflection->GetMessage(message, field), path);
        }
      }
    }
  }

 private:
  void collect_map(const ParseInfoTree& tree, const FieldDescriptor& field, const std::string& path) {
    const FieldDescriptor* key_field = field.message_type()->map_key();
    for (int i = 0;; ++i) {
      const ParseInfoTree* entry = tree.GetTreeForNested(&field, i);
      if (!entry) break;
      const int line = tree.GetLocation(&field, i).line;
      record(path, line);
      const auto key_location = entry->GetLocation(key_field, -1);
      const std::string key = key_at(line_starts_, text_, key_location.line, key_location.column);
      if (!key.empty()) record(path + "[\"" + key + "\"]", key_location.line);
    }
  }

  // The first occurrence wins: a repeated field is reported where it starts.
  void record(const std::string& path, int zero_based_line) {
    if (zero_based_line >= 0) lines_.emplace(path, zero_based_line + 1);
  }

  const std::string& text_;
  std::map<std::string, int>& lines_;
  std::vector<size_t> line_starts_;
};

}  // namespace

ConfigLocations::ConfigLocations(const ParseInfoTree& tree, const ModelConfig& parsed, const std::string& text) {
  Collector(text, lines_).collect(tree, parsed, "");
}

std::optional<int> ConfigLocations::line(const std::string& field_path) const {
  auto it = lines_.find(field_path);
  if (it == lines_.end()) return std::nullopt;
  return it->second;
}

std::string ConfigLocations::error(const std::string& display_path, const std::string& field_path,
                                   const std::string& message) const {
  const std::optional<int> at = line(field_path);
  return display_path + (at ? ":" + std::to_string(*at) : "") + ": " + field_path + ": " + message;
}

}  // namespace kiln::serving
