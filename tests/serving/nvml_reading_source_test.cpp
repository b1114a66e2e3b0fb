// The real NVML path: runs where a GPU and its driver are present and skips visibly elsewhere.
// Without NVML, opening must fail with a reason (for the server's log), never crash.
#include "serving/nvml_reading_source.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln::serving {
namespace {

TEST(NvmlReadingSource, ReadsEveryGpuOrSaysWhyNot) {
  Result<std::unique_ptr<GpuReadingSource>> source = open_nvml_reading_source();
  if (!source.ok()) {
    EXPECT_FALSE(source.status().message().empty());
    GTEST_SKIP() << "NOTE: NVML unavailable here (" << source.status().message() << "); GPU metrics test skipped";
  }
  const std::vector<GpuReading> readings = (*source)->read();
  ASSERT_FALSE(readings.empty());
  for (const GpuReading& r : readings) {
    EXPECT_TRUE(r.uuid.starts_with("GPU-")) << r.uuid;
    ASSERT_TRUE(r.memory_total_bytes.has_value()) << r.uuid;
    ASSERT_TRUE(r.memory_used_bytes.has_value()) << r.uuid;
    EXPECT_GT(*r.memory_total_bytes, 0u);
    EXPECT_LE(*r.memory_used_bytes, *r.memory_total_bytes);
    ASSERT_TRUE(r.utilization.has_value()) << r.uuid;
    EXPECT_GE(*r.utilization, 0.0);
    EXPECT_LE(*r.utilization, 1.0);
    if (r.power_limit_watts) {
      EXPECT_GT(*r.power_limit_watts, 0.0);
    }
    if (r.energy_joules) {
      EXPECT_GE(*r.energy_joules, 0.0);
    }
  }
  const std::string text = render_gpu_metrics(readings);
  EXPECT_NE(text.find("nv_gpu_memory_total_bytes{gpu_uuid=\"" + readings.front().uuid + "\"} "), std::string::npos) << text;
}

}  // namespace
}  // namespace kiln::serving
