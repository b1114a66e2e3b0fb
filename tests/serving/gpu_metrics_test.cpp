// The GPU metrics text: Triton's names, types and units, gpu_uuid labels, values a GPU cannot
// report left out, and families no GPU reports absent. A fake reading source stands in for NVML.
#include "serving/gpu_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace kiln::serving {
namespace {

class FakeReadingSource final : public GpuReadingSource {
 public:
  explicit FakeReadingSource(std::vector<GpuReading> readings) : readings_(std::move(readings)) {}
  std::vector<GpuReading> read() override {
    ++reads;
    return readings_;
  }
  int reads = 0;

 private:
  std::vector<GpuReading> readings_;
};

GpuReading full_reading() {
  GpuReading r;
  r.uuid = "GPU-0a1b2c3d-1111-2222-3333-444455556666";
  r.utilization = 0.75;
  r.memory_total_bytes = 150754820096ULL;  // an H200: more digits than %g's default keeps
  r.memory_used_bytes = 1048576;
  r.power_watts = 123.456;
  r.power_limit_watts = 700;
  r.energy_joules = 4321.5;
  return r;
}

TEST(GpuMetrics, TritonNamesTypesUnitsAndLabels) {
  FakeReadingSource source({full_reading()});
  const std::string text = render_gpu_metrics(source.read());
  const std::string label = "{gpu_uuid=\"GPU-0a1b2c3d-1111-2222-3333-444455556666\"} ";
  EXPECT_NE(text.find("# TYPE nv_gpu_utilization gauge\nnv_gpu_utilization" + label + "0.75\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE nv_gpu_memory_total_bytes gauge\nnv_gpu_memory_total_bytes" + label + "150754820096\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("nv_gpu_memory_used_bytes" + label + "1048576\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE nv_gpu_power_usage gauge\nnv_gpu_power_usage" + label + "123.456\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nv_gpu_power_limit" + label + "700\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE nv_energy_consumption counter\nnv_energy_consumption" + label + "4321.5\n"), std::string::npos)
      << text;
  EXPECT_EQ(source.reads, 1);
}

TEST(GpuMetrics, OneSamplePerGpuUnderOneFamilyHeader) {
  GpuReading second = full_reading();
  second.uuid = "GPU-second";
  second.utilization = 0;
  const std::string text = render_gpu_metrics({full_reading(), second});
  size_t headers = 0;
  for (size_t at = text.find("# TYPE nv_gpu_utilization "); at != std::string::npos;
       at = text.find("# TYPE nv_gpu_utilization ", at + 1)) {
    ++headers;
  }
  EXPECT_EQ(headers, 1u) << text;
  EXPECT_NE(text.find("nv_gpu_utilization{gpu_uuid=\"GPU-second\"} 0\n"), std::string::npos) << text;
  const size_t first_at = text.find("nv_gpu_utilization{gpu_uuid=\"GPU-0a1b");
  EXPECT_LT(first_at, text.find("nv_gpu_utilization{gpu_uuid=\"GPU-second\"}")) << "device order kept";
}

TEST(GpuMetrics, UnsupportedValuesAreLeftOutNotZero) {
  GpuReading partial = full_reading();
  partial.power_watts.reset();
  partial.energy_joules.reset();
  GpuReading no_power = full_reading();
  no_power.uuid = "GPU-other";
  no_power.power_watts.reset();
  no_power.power_limit_watts.reset();
  no_power.energy_joules.reset();
  const std::string text = render_gpu_metrics({partial, no_power});
  EXPECT_EQ(text.find("nv_gpu_power_usage"), std::string::npos) << "a family no GPU reports is absent:\n" << text;
  EXPECT_EQ(text.find("nv_energy_consumption"), std::string::npos) << text;
  EXPECT_NE(text.find("nv_gpu_power_limit{gpu_uuid=\"GPU-0a1b"), std::string::npos) << text;
  EXPECT_EQ(text.find("nv_gpu_power_limit{gpu_uuid=\"GPU-other\"}"), std::string::npos) << text;
}

TEST(GpuMetrics, NoGpusNoText) { EXPECT_EQ(render_gpu_metrics({}), ""); }

TEST(GpuMetrics, LabelValuesAreEscaped) {
  GpuReading odd = full_reading();
  odd.uuid = "GPU-\"x\"\\y\nz";
  const std::string text = render_gpu_metrics({odd});
  EXPECT_NE(text.find("{gpu_uuid=\"GPU-\\\"x\\\"\\\\y\\nz\"}"), std::string::npos) << text;
}

}  // namespace
}  // namespace kiln::serving
