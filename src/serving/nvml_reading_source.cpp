#include "serving/nvml_reading_source.h"

#include <dlfcn.h>

#include <optional>
#include <string>
#include <vector>

namespace kiln::serving {
namespace {

// The few NVML declarations used here, as the NVML API defines them (stable C ABI); declared
// rather than included so that builds need no driver development headers.
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
using NvmlDevice = struct NvmlDeviceOpaque*;
struct NvmlUtilization {
  unsigned int gpu;     // percent of the sample period a kernel ran
  unsigned int memory;  // percent of it device memory was read or written
};
struct NvmlMemory {
  unsigned long long total;  // NOLINT(google-runtime-int): NVML's type
  unsigned long long free;   // NOLINT(google-runtime-int)
  unsigned long long used;   // NOLINT(google-runtime-int)
};
constexpr unsigned int kNvmlUuidBufferSize = 96;
constexpr double kMilliPerUnit = 1000.0;
constexpr double kPercent = 100.0;

struct NvmlFunctions {
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*device_count)(unsigned int*) = nullptr;
  NvmlReturn (*device_by_index)(unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned int) = nullptr;
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*) = nullptr;
  NvmlReturn (*memory)(NvmlDevice, NvmlMemory*) = nullptr;
  NvmlReturn (*power_milliwatts)(NvmlDevice, unsigned int*) = nullptr;
  NvmlReturn (*power_limit_milliwatts)(NvmlDevice, unsigned int*) = nullptr;
  NvmlReturn (*energy_millijoules)(NvmlDevice, unsigned long long*) = nullptr;  // NOLINT(google-runtime-int)
};

template <class Fn>
Status bind(void* library, const char* symbol, Fn& fn) {
  void* address = dlsym(library, symbol);
  if (!address) return unavailable(std::string("libnvidia-ml.so.1 has no ") + symbol);
  fn = reinterpret_cast<Fn>(address);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's contract
  return {};
}

Status bind_all(void* library, NvmlFunctions& f) {
  KILN_RETURN_IF_ERROR(bind(library, "nvmlInit_v2", f.init));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlShutdown", f.shutdown));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlErrorString", f.error_string));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetCount_v2", f.device_count));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetHandleByIndex_v2", f.device_by_index));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetUUID", f.uuid));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetUtilizationRates", f.utilization));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetMemoryInfo", f.memory));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetPowerUsage", f.power_milliwatts));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetEnforcedPowerLimit", f.power_limit_milliwatts));
  KILN_RETURN_IF_ERROR(bind(library, "nvmlDeviceGetTotalEnergyConsumption", f.energy_millijoules));
  return {};
}

class NvmlReadingSource final : public GpuReadingSource {
 public:
  NvmlReadingSource(void* library, const NvmlFunctions& nvml) : library_(library), nvml_(nvml) {}
  ~NvmlReadingSource() override {
    if (initialized_) nvml_.shutdown();
    dlclose(library_);
  }
  NvmlReadingSource(const NvmlReadingSource&) = delete;
  NvmlReadingSource& operator=(const NvmlReadingSource&) = delete;

  Status open() {
    if (NvmlReturn rc = nvml_.init(); rc != kNvmlSuccess) return unavailable("NVML does not start: " + message(rc));
    initialized_ = true;
    unsigned int count = 0;
    if (NvmlReturn rc = nvml_.device_count(&count); rc != kNvmlSuccess) {
      return unavailable("NVML cannot count GPUs: " + message(rc));
    }
    if (count == 0) return unavailable("NVML sees no GPU");
    for (unsigned int i = 0; i < count; ++i) {
      Device device;
      if (NvmlReturn rc = nvml_.device_by_index(i, &device.handle); rc != kNvmlSuccess) {
        return unavailable("NVML cannot open GPU " + std::to_string(i) + ": " + message(rc));
      }
      char uuid[kNvmlUuidBufferSize] = {};
      if (NvmlReturn rc = nvml_.uuid(device.handle, uuid, sizeof(uuid)); rc != kNvmlSuccess) {
        return unavailable("NVML has no UUID for GPU " + std::to_string(i) + ": " + message(rc));
      }
      device.uuid = uuid;
      // Triton reports energy since the server started; NVML counts since the driver loaded.
      unsigned long long millijoules = 0;  // NOLINT(google-runtime-int)
      if (nvml_.energy_millijoules(device.handle, &millijoules) == kNvmlSuccess) device.energy_start_mj = millijoules;
      devices_.push_back(std::move(device));
    }
    return {};
  }

  std::vector<GpuReading> read() override {
    std::vector<GpuReading> readings;
    for (const Device& device : devices_) {
      GpuReading r;
      r.uuid = device.uuid;
      // A query a board does not support (power on some) leaves its value absent.
      if (NvmlUtilization u{}; nvml_.utilization(device.handle, &u) == kNvmlSuccess) r.utilization = u.gpu / kPercent;
      if (NvmlMemory m{}; nvml_.memory(device.handle, &m) == kNvmlSuccess) {
        r.memory_total_bytes = m.total;
        r.memory_used_bytes = m.used;
      }
      if (unsigned int mw = 0; nvml_.power_milliwatts(device.handle, &mw) == kNvmlSuccess) r.power_watts = mw / kMilliPerUnit;
      if (unsigned int mw = 0; nvml_.power_limit_milliwatts(device.handle, &mw) == kNvmlSuccess) {
        r.power_limit_watts = mw / kMilliPerUnit;
      }
      unsigned long long mj = 0;  // NOLINT(google-runtime-int)
      if (device.energy_start_mj && nvml_.energy_millijoules(device.handle, &mj) == kNvmlSuccess && mj >= *device.energy_start_mj) {
        r.energy_joules = static_cast<double>(mj - *device.energy_start_mj) / kMilliPerUnit;
      }
      readings.push_back(std::move(r));
    }
    return readings;
  }

 private:
  struct Device {
    NvmlDevice handle = nullptr;
    std::string uuid;
    std::optional<unsigned long long> energy_start_mj;  // NOLINT(google-runtime-int); none: not supported
  };

  std::string message(NvmlReturn rc) const {
    const char* text = nvml_.error_string(rc);
    return (text ? std::string(text) : "error") + " (NVML code " + std::to_string(rc) + ")";
  }

  void* library_;
  NvmlFunctions nvml_;
  bool initialized_ = false;
  std::vector<Device> devices_;
};

}  // namespace

Result<std::unique_ptr<GpuReadingSource>> open_nvml_reading_source() {
  // The versioned name: the unversioned libnvidia-ml.so is only in the driver's development package.
  void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    return unavailable(std::string("cannot load libnvidia-ml.so.1 (no NVIDIA driver here?): ") + (why ? why : "dlopen failed"));
  }
  NvmlFunctions nvml;
  if (Status status = bind_all(library, nvml); !status.ok()) {
    dlclose(library);
    return status;
  }
  auto source = std::make_unique<NvmlReadingSource>(library, nvml);
  KILN_RETURN_IF_ERROR(source->open());
  return std::unique_ptr<GpuReadingSource>(std::move(source));
}

}  // namespace kiln::serving
