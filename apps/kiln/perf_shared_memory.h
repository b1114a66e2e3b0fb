// kiln perf --shared-memory system (perf_analyzer's flag): each client owns a POSIX
// shared-memory object holding its inputs (written once) and room for every output, registers it
// with the server as a region, and sends requests that name the region instead of carrying
// tensor bytes. The object is unregistered and unlinked when the client goes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "kiln/status.h"

namespace kiln::cli::perf {

struct InputSpec;

class SharedMemoryRegion {
 public:
  struct Place {
    size_t offset = 0;
    size_t bytes = 0;
  };

  // A fresh object sized for `inputs` and `outputs` x `output_bytes`, inputs copied in.
  static Result<std::unique_ptr<SharedMemoryRegion>> create(const std::vector<InputSpec>& inputs, size_t outputs, size_t output_bytes);
  ~SharedMemoryRegion();
  SharedMemoryRegion(const SharedMemoryRegion&) = delete;
  SharedMemoryRegion& operator=(const SharedMemoryRegion&) = delete;

  const std::string& name() const { return name_; }  // the region name, also unique per process
  const std::string& key() const { return key_; }    // "/name", for shm_open
  size_t size() const { return size_; }
  const std::vector<Place>& inputs() const { return inputs_; }
  const std::vector<Place>& outputs() const { return outputs_; }

 private:
  SharedMemoryRegion() = default;
  std::string name_;
  std::string key_;
  size_t size_ = 0;
  void* base_ = nullptr;
  std::vector<Place> inputs_;
  std::vector<Place> outputs_;
};

}  // namespace kiln::cli::perf
