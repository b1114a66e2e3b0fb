#include "onnx/external_data.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace kiln::onnx_import {
namespace {

namespace fs = std::filesystem;

std::string describe(const ExternalLocation& where, const std::string& tensor_name) {
  return "external data file '" + where.location + "' of tensor '" + tensor_name + "'";
}

}  // namespace

Status check_external_location(const std::string& location, const std::string& tensor_name) {
  const std::string what = "external data location '" + location + "' of tensor '" + tensor_name + "'";
  if (location.empty()) return invalid_argument("tensor '" + tensor_name + "' has external data without a location");
  if (location.find('\0') != std::string::npos) return invalid_argument(what + " contains a NUL character");
  const fs::path path(location);
  if (path.is_absolute() || path.has_root_name() || path.has_root_directory())
    return invalid_argument(what + " is an absolute path; it must be relative to the model's directory");
  for (const fs::path& part : path)
    if (part == "..")
      return invalid_argument(what + " escapes the model's directory ('..' is not allowed)");
  return {};
}

Status check_external_data(const std::string& base_dir, const ExternalLocation& where,
                           const std::string& tensor_name, uint64_t expected_bytes) {
  KILN_RETURN_IF_ERROR(check_external_location(where.location, tensor_name));
  const std::string what = describe(where, tensor_name);
  const fs::path path = fs::path(base_dir) / where.location;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return not_found(what + " does not exist (or is not a regular file)");
  const uint64_t file_size = fs::file_size(path, ec);
  if (ec) return not_found(what + " cannot be read: " + ec.message());

  if (where.length && *where.length != expected_bytes)
    return data_loss(what + " records a length of " + std::to_string(*where.length) +
                     " bytes but the tensor needs " + std::to_string(expected_bytes));
  if (where.offset > file_size || file_size - where.offset < expected_bytes)
    return data_loss(what + " is too short: the tensor needs " + std::to_string(expected_bytes) +
                     " bytes at offset " + std::to_string(where.offset) + " but the file has " +
                     std::to_string(file_size) + " bytes");
  return {};
}

Status read_external_data(const std::string& base_dir, const ExternalLocation& where,
                          const std::string& tensor_name, uint64_t expected_bytes, void* dest) {
  KILN_RETURN_IF_ERROR(check_external_data(base_dir, where, tensor_name, expected_bytes));
  if (expected_bytes == 0) return {};
  const std::string what = describe(where, tensor_name);
  const fs::path path = fs::path(base_dir) / where.location;

  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(what + " cannot be opened");
  in.seekg(static_cast<std::streamoff>(where.offset));
  in.read(static_cast<char*>(dest), static_cast<std::streamsize>(expected_bytes));
  if (!in || static_cast<uint64_t>(in.gcount()) != expected_bytes)
    return data_loss(what + " could not be read completely");
  return {};
}

}  // namespace kiln::onnx_import
