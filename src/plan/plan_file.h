// Plan files: a built engine on disk.
//
// Byte layout (all integers little-endian):
//   offset  size  field
//   0       8     magic "KILNPLAN"
//   8       4     format version (kPlanFormatVersion)
//   12      4     reserved, 0
//   16      8     header length H
//   24      H     PlanHeader (plan.proto), protobuf binary
//   ...           zero padding up to the next multiple of kWeightsAlignment
//   W       ...   weights blob: every constant, each at a kWeightsAlignment-aligned offset
//                 (PlanHeader.values[].weights_offset, relative to W), PlanHeader.weights_bytes long
//
// Opening maps the file read-only: constants are used in place (host) or uploaded from the map
// (CUDA) without an intermediate copy. A file whose format version, kiln version or device
// architecture differs from this runtime's is refused with a message naming both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "plan/plan.pb.h"

namespace kiln::plan {

inline constexpr char kPlanMagic[8] = {'K', 'I', 'L', 'N', 'P', 'L', 'A', 'N'};
inline constexpr uint32_t kPlanFormatVersion = 1;
inline constexpr size_t kWeightsAlignment = 256;
inline constexpr size_t kPlanPreambleBytes = 24;

// The kiln release that writes and reads plans (CMake's project version).
const char* kiln_version();

// Whether the file starts with the plan magic (for telling .plan from .onnx by content).
bool looks_like_plan(const std::string& path);

// Writes header + weights. weights.size() must equal header.weights_bytes().
Status write_plan(const std::string& path, const PlanHeader& header, const std::vector<uint8_t>& weights);

class PlanFile {
 public:
  // Maps and parses the file; checks magic, format version, kiln version and bounds of every
  // constant. The device architecture is checked by the runtime, which knows the device.
  static Result<std::shared_ptr<const PlanFile>> open(const std::string& path);
  ~PlanFile();
  PlanFile(const PlanFile&) = delete;
  PlanFile& operator=(const PlanFile&) = delete;

  const PlanHeader& header() const { return header_; }
  const uint8_t* weights() const { return weights_; }
  const std::string& path() const { return path_; }

 private:
  PlanFile() = default;
  std::string path_;
  PlanHeader header_;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const uint8_t* weights_ = nullptr;
};

}  // namespace kiln::plan
