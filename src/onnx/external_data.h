// Importer-internal: reads the bytes of a tensor stored outside the model file
// (TensorProto.data_location = EXTERNAL). Locations are confined to the model's directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kiln/status.h"

namespace kiln::onnx_import {

struct ExternalLocation {
  std::string location;             // relative path, as written in the model
  uint64_t offset = 0;
  std::optional<uint64_t> length;   // absent: up to the end of the file
};

// Checks that `location` is relative and stays inside the base directory.
Status check_external_location(const std::string& location, const std::string& tensor_name);

// Checks that the file exists and holds `expected_bytes` at the recorded offset (call before
// allocating the destination). NOT_FOUND when the file is missing, DATA_LOSS when it is too
// short or the recorded length disagrees with the tensor's size.
Status check_external_data(const std::string& base_dir, const ExternalLocation& where,
                           const std::string& tensor_name, uint64_t expected_bytes);

// Reads exactly `expected_bytes` into `dest` after check_external_data's checks.
Status read_external_data(const std::string& base_dir, const ExternalLocation& where,
                          const std::string& tensor_name, uint64_t expected_bytes, void* dest);

}  // namespace kiln::onnx_import
