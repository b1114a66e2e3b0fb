#include "plan/plan_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace kiln::plan {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

size_t weights_start(uint64_t header_bytes) {
  const uint64_t end = kPlanPreambleBytes + header_bytes;
  return static_cast<size_t>((end + kWeightsAlignment - 1) / kWeightsAlignment * kWeightsAlignment);
}

}  // namespace

const char* kiln_version() { return KILN_VERSION_STRING; }

bool looks_like_plan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof(kPlanMagic)] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == sizeof(magic) && std::memcmp(magic, kPlanMagic, sizeof(magic)) == 0;
}

Status write_plan(const std::string& path, const PlanHeader& header, const std::vector<uint8_t>& weights) {
  if (weights.size() != header.weights_bytes())
    return internal_error("plan weights are " + std::to_string(weights.size()) + " bytes but the header says " +
                          std::to_string(header.weights_bytes()));
  std::string header_bytes;
  if (!header.SerializeToString(&header_bytes)) return internal_error("could not serialize the plan header");
  std::string preamble(kPlanMagic, sizeof(kPlanMagic));
  put_u32(preamble, kPlanFormatVersion);
  put_u32(preamble, 0);
  put_u64(preamble, header_bytes.size());
  const size_t padding = weights_start(header_bytes.size()) - kPlanPreambleBytes - header_bytes.size();

  // Write to a temporary name and rename, so a crash never leaves a truncated plan in place.
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) return invalid_argument("cannot write plan file '" + path + "'");
    out.write(preamble.data(), static_cast<std::streamsize>(preamble.size()));
    out.write(header_bytes.data(), static_cast<std::streamsize>(header_bytes.size()));
    const std::string zeros(padding, '\0');
    out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    out.write(reinterpret_cast<const char*>(weights.data()), static_cast<std::streamsize>(weights.size()));
    out.flush();
    if (!out) return data_loss("writing plan file '" + path + "' failed (disk full?)");
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) return data_loss("cannot rename '" + partial + "' to '" + path + "'");
  return {};
}

PlanFile::~PlanFile() {
  if (map_) munmap(map_, map_bytes_);
}

Result<std::shared_ptr<const PlanFile>> PlanFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open plan file '" + path + "'");
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return data_loss("cannot stat plan file '" + path + "'");
  }
  const auto file_bytes = static_cast<size_t>(st.st_size);
  if (file_bytes < kPlanPreambleBytes) {
    ::close(fd);
    return invalid_argument("'" + path + "' is not a kiln plan: it is only " + std::to_string(file_bytes) + " bytes");
  }
  void* map = mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return data_loss("cannot map plan file '" + path + "'");

  std::shared_ptr<PlanFile> plan(new PlanFile());
  plan->path_ = path;
  plan->map_ = map;
  plan->map_bytes_ = file_bytes;
  const auto* bytes = static_cast<const uint8_t*>(map);
  if (std::memcmp(bytes, kPlanMagic, sizeof(kPlanMagic)) != 0)
    return invalid_argument("'" + path + "' is not a kiln plan (no KILNPLAN magic)");
  const auto version = static_cast<uint32_t>(get_le(bytes + 8, 4));
  if (version != kPlanFormatVersion)
    return failed_precondition("'" + path + "' has plan format version " + std::to_string(version) +
                               "; this kiln reads version " + std::to_string(kPlanFormatVersion) + ": rebuild the plan");
  const uint64_t header_bytes = get_le(bytes + 16, 8);
  if (header_bytes > file_bytes - kPlanPreambleBytes)
    return data_loss("'" + path + "' is truncated: its header claims " + std::to_string(header_bytes) + " bytes");
  if (!plan->header_.ParseFromArray(bytes + kPlanPreambleBytes, static_cast<int>(header_bytes)))
    return data_loss("'" + path + "' has a corrupt plan header");
  const PlanHeader& h = plan->header_;
  if (h.kiln_version() != kiln_version())
    return failed_precondition("'" + path + "' was built by kiln " + h.kiln_version() + "; this is kiln " +
                               kiln_version() + ": rebuild the plan with this version");
  const size_t start = weights_start(header_bytes);
  if (start > file_bytes || h.weights_bytes() > file_bytes - start)
    return data_loss("'" + path + "' is truncated: the weights blob needs " + std::to_string(h.weights_bytes()) +
                     " bytes after offset " + std::to_string(start) + ", the file has " + std::to_string(file_bytes));
  if (h.profiles_size() == 0) return data_loss("'" + path + "' has no profile");
  for (const Profile& profile : h.profiles())
    for (const Value& v : profile.values())
      if (v.kind() == Value::CONSTANT && (v.weights_offset() > h.weights_bytes() ||
                                          v.nbytes() > h.weights_bytes() - v.weights_offset()))
        return data_loss("'" + path + "': constant '" + v.name() + "' lies outside the weights blob");
  plan->weights_ = bytes + start;
  return std::shared_ptr<const PlanFile>(std::move(plan));
}

}  // namespace kiln::plan
