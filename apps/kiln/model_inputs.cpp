#include "model_inputs.h"

#include <random>

#include "core/dtype_dispatch.h"
#include "core/npy.h"
#include "kiln/inspect.h"
#include "kiln/transfer_tensor.h"

namespace kiln::cli {
namespace {

// Random data ranges: integer inputs are often indices or ids, so keep them small and valid.
constexpr double kRandomFloatLow = -1.0;
constexpr double kRandomFloatHigh = 1.0;
constexpr int64_t kRandomIntLow = 0;
constexpr int64_t kRandomIntHighInclusive = 7;
constexpr int64_t kDefaultDynamicDim = 1;
// Refuse to generate absurd inputs (a typo in --shapes) instead of exhausting memory.
constexpr uint64_t kMaxGeneratedInputBytes = uint64_t{4} << 30;

std::string list_names(const std::vector<TensorInfo>& infos) {
  std::string names;
  for (const TensorInfo& info : infos) names += (names.empty() ? "'" : ", '") + info.name + "'";
  return names.empty() ? "none" : names;
}

std::string expected_text(const TensorInfo& info) {
  return std::string(dtype_name(info.dtype)) + shape_string(info);
}

Status check_fits(const TensorInfo& info, const Shape& shape, const std::string& source) {
  if (!info.rank_known) return {};
  bool fits = info.dims.size() == shape.rank();
  for (size_t d = 0; fits && d < info.dims.size(); ++d) fits = info.dims[d] < 0 || info.dims[d] == shape[d];
  if (fits) return {};
  return invalid_argument("input '" + info.name + "' " + source + " has shape " + shape.to_string() +
                          " but the model expects " + expected_text(info));
}

// Ties symbolic dims together: once N is known from one input, every other N follows.
class SymbolTable {
 public:
  Status record(const TensorInfo& info, const Shape& shape) {
    for (size_t d = 0; d < info.dims.size() && d < shape.rank(); ++d) {
      if (info.dims[d] >= 0 || d >= info.dim_names.size() || info.dim_names[d].empty()) continue;
      auto [it, inserted] = values_.emplace(info.dim_names[d], shape[d]);
      if (!inserted && it->second != shape[d])
        return invalid_argument("input '" + info.name + "' dim " + std::to_string(d) + " ('" + info.dim_names[d] +
                                "') is " + std::to_string(shape[d]) + " but another input sets it to " +
                                std::to_string(it->second));
    }
    return {};
  }
  std::optional<int64_t> find(const TensorInfo& info, size_t d) const {
    if (d >= info.dim_names.size() || info.dim_names[d].empty()) return std::nullopt;
    auto it = values_.find(info.dim_names[d]);
    return it == values_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }

 private:
  std::map<std::string, int64_t> values_;
};

Result<Shape> default_shape(const TensorInfo& info, std::optional<int64_t> batch, const SymbolTable& symbols) {
  if (!info.rank_known)
    return invalid_argument("input '" + info.name + "' has unknown rank: give its shape with --shapes " + info.name +
                            ":DxD...");
  std::vector<int64_t> dims;
  for (size_t d = 0; d < info.dims.size(); ++d) {
    if (info.dims[d] >= 0) dims.push_back(info.dims[d]);
    else if (d == 0 && batch) dims.push_back(*batch);
    else if (auto v = symbols.find(info, d)) dims.push_back(*v);
    else dims.push_back(kDefaultDynamicDim);
  }
  return Shape(std::move(dims));
}

Status check_batch(const TensorInfo& info, const Shape& shape, int64_t batch) {
  if (!info.rank_known || info.dims.empty()) return {};  // scalars have no batch dim
  if (info.dims[0] >= 0 && info.dims[0] != batch)
    return invalid_argument("--batch " + std::to_string(batch) + " does not fit input '" + info.name +
                            "': its dim 0 is fixed at " + std::to_string(info.dims[0]) + " (" + expected_text(info) +
                            ")");
  if (shape.rank() > 0 && shape[0] != batch)
    return invalid_argument("--batch " + std::to_string(batch) + " contradicts the shape " + shape.to_string() +
                            " given for input '" + info.name + "'");
  return {};
}

Result<Tensor> random_tensor(const TensorInfo& info, const Shape& shape, std::mt19937_64& rng) {
  const size_t element_size = dtype_size(info.dtype);
  if (element_size == 0)
    return unimplemented("input '" + info.name + "' is " + std::string(dtype_name(info.dtype)) +
                         ": kiln cannot generate data for it");
  uint64_t bytes = element_size;
  for (int64_t d : shape.dims())
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) || bytes > kMaxGeneratedInputBytes)
      return invalid_argument("input '" + info.name + "' of shape " + shape.to_string() +
                              " would need more than " + std::to_string(kMaxGeneratedInputBytes >> 30) +
                              " GiB of random data");
  // Page-locked where a GPU exists, as trtexec's host buffers: `kiln bench` then times the engine's
  // direct host-to-device copy, the path the server's batch buffers take too.
  Tensor t = allocate_transfer_tensor(info.dtype, shape);
  std::uniform_real_distribution<double> real(kRandomFloatLow, kRandomFloatHigh);
  std::uniform_int_distribution<int64_t> integer(kRandomIntLow, kRandomIntHighInclusive);
  visit_dtype(info.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* data = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, bool>) data[i] = (rng() & 1) != 0;
      else if constexpr (std::is_integral_v<T>) data[i] = static_cast<T>(integer(rng));
      else data[i] = convert_element<T>(real(rng));
    }
  });
  return t;
}

}  // namespace

Result<Tensor> random_input(const TensorInfo& info, const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return random_tensor(info, shape, rng);
}

std::vector<TensorInfo> required_inputs(const Session& session) {
  std::vector<TensorInfo> out;
  for (const TensorInfo& info : session.inputs())
    if (!info.has_default) out.push_back(info);
  return out;
}

Result<std::map<std::string, Tensor>> prepare_inputs(const Session& session, const InputRequest& request) {
  const std::vector<TensorInfo>& all = session.inputs();
  auto find = [&](const std::string& name) -> const TensorInfo* {
    for (const TensorInfo& info : all)
      if (info.name == name) return &info;
    return nullptr;
  };

  SymbolTable symbols;
  for (const auto& [name, shape] : request.shapes) {
    const TensorInfo* info = find(name);
    if (!info)
      return invalid_argument("--shapes names input '" + name + "' but the model has no such input (inputs: " +
                              list_names(all) + ")");
    KILN_RETURN_IF_ERROR(check_fits(*info, shape, "(from --shapes)"));
    KILN_RETURN_IF_ERROR(symbols.record(*info, shape));
  }

  std::map<std::string, Tensor> feeds;
  for (const std::string& spec : request.files) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      return invalid_argument("malformed --input '" + spec + "': expected NAME=FILE.npy");
    const std::string name = spec.substr(0, eq);
    const std::string path = spec.substr(eq + 1);
    const TensorInfo* info = find(name);
    if (!info)
      return invalid_argument("--input names input '" + name + "' but the model has no such input (inputs: " +
                              list_names(all) + ")");
    if (feeds.count(name)) return invalid_argument("--input gives input '" + name + "' more than once");
    KILN_ASSIGN_OR_RETURN(Tensor tensor, read_npy(path));
    const std::string source = "(from " + path + ")";
    if (tensor.dtype() != info->dtype)
      return invalid_argument("input '" + name + "' " + source + " is " + std::string(dtype_name(tensor.dtype())) +
                              " but the model expects " + expected_text(*info));
    KILN_RETURN_IF_ERROR(check_fits(*info, tensor.shape(), source));
    auto given = request.shapes.find(name);
    if (given != request.shapes.end() && given->second != tensor.shape())
      return invalid_argument("input '" + name + "' " + source + " has shape " + tensor.shape().to_string() +
                              " but --shapes gives " + given->second.to_string());
    KILN_RETURN_IF_ERROR(symbols.record(*info, tensor.shape()));
    feeds.emplace(name, std::move(tensor));
  }

  const std::vector<TensorInfo> required = required_inputs(session);
  if (request.batch) {
    for (const TensorInfo& info : required) {
      auto fed = feeds.find(info.name);
      auto given = request.shapes.find(info.name);
      Shape shape = fed != feeds.end() ? fed->second.shape() : given != request.shapes.end() ? given->second : Shape();
      KILN_RETURN_IF_ERROR(check_batch(info, shape, *request.batch));
      if (info.rank_known && !info.dims.empty()) {
        std::vector<int64_t> dims(info.dims.size(), 0);
        dims[0] = *request.batch;
        TensorInfo first_dim_only = info;
        for (size_t d = 1; d < first_dim_only.dim_names.size(); ++d) first_dim_only.dim_names[d].clear();
        KILN_RETURN_IF_ERROR(symbols.record(first_dim_only, Shape(dims)));
      }
    }
  }

  std::mt19937_64 rng(request.seed);
  for (const TensorInfo& info : required) {
    if (feeds.count(info.name)) continue;
    auto given = request.shapes.find(info.name);
    Shape shape;
    if (given != request.shapes.end()) {
      shape = given->second;
    } else {
      KILN_ASSIGN_OR_RETURN(shape, default_shape(info, request.batch, symbols));
    }
    KILN_RETURN_IF_ERROR(symbols.record(info, shape));
    KILN_ASSIGN_OR_RETURN(Tensor tensor, random_tensor(info, shape, rng));
    feeds.emplace(info.name, std::move(tensor));
  }
  return feeds;
}

}  // namespace kiln::cli
