#include "core/attributes.h"

#include <cstring>
#include <sstream>

namespace kiln {
namespace {

template <class T>
const T* find_as(const std::map<std::string, AttributeValue>& values, const std::string& name) {
  auto it = values.find(name);
  if (it == values.end()) return nullptr;
  return std::get_if<T>(&it->second);
}

template <class T>
std::string join(const std::vector<T>& v) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  os << ']';
  return os.str();
}

bool tensors_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || !(a.shape() == b.shape())) return false;
  if (a.dtype() == DType::kBytes) return a.strings() == b.strings();
  return a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

}  // namespace

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  const auto* v = find_as<int64_t>(values_, name);
  return v ? *v : fallback;
}

float Attributes::get_float(const std::string& name, float fallback) const {
  if (const auto* v = find_as<float>(values_, name)) return *v;
  if (const auto* v = find_as<int64_t>(values_, name)) return static_cast<float>(*v);
  return fallback;
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  const auto* v = find_as<std::string>(values_, name);
  return v ? *v : fallback;
}

std::vector<int64_t> Attributes::get_ints(const std::string& name, std::vector<int64_t> fallback) const {
  const auto* v = find_as<std::vector<int64_t>>(values_, name);
  return v ? *v : fallback;
}

std::vector<float> Attributes::get_floats(const std::string& name, std::vector<float> fallback) const {
  const auto* v = find_as<std::vector<float>>(values_, name);
  return v ? *v : fallback;
}

std::vector<std::string> Attributes::get_strings(const std::string& name) const {
  const auto* v = find_as<std::vector<std::string>>(values_, name);
  return v ? *v : std::vector<std::string>{};
}

const Tensor* Attributes::get_tensor(const std::string& name) const {
  return find_as<Tensor>(values_, name);
}

Result<int64_t> Attributes::require_int(const std::string& name) const {
  if (const auto* v = find_as<int64_t>(values_, name)) return *v;
  return invalid_argument("attribute '" + name + "' (an integer) is " +
                          (has(name) ? "of the wrong kind" : "missing"));
}

Result<float> Attributes::require_float(const std::string& name) const {
  if (const auto* v = find_as<float>(values_, name)) return *v;
  return invalid_argument("attribute '" + name + "' (a float) is " +
                          (has(name) ? "of the wrong kind" : "missing"));
}

Result<std::vector<int64_t>> Attributes::require_ints(const std::string& name) const {
  if (const auto* v = find_as<std::vector<int64_t>>(values_, name)) return *v;
  return invalid_argument("attribute '" + name + "' (a list of integers) is " +
                          (has(name) ? "of the wrong kind" : "missing"));
}

std::string Attributes::to_string() const {
  std::ostringstream os;
  bool first = true;
  for (const auto& [name, value] : values_) {
    if (!first) os << ", ";
    first = false;
    os << name << '=';
    std::visit(
        [&os](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) os << '"' << v << '"';
          else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            os << '[';
            for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << '"' << v[i] << '"';
            os << ']';
          } else if constexpr (std::is_same_v<V, Tensor>) {
            os << "tensor<" << dtype_name(v.dtype()) << ' ' << v.shape().to_string() << '>';
          } else if constexpr (std::is_same_v<V, std::vector<int64_t>> ||
                               std::is_same_v<V, std::vector<float>>) {
            os << join(v);
          } else {
            os << v;
          }
        },
        value);
  }
  return os.str();
}

bool operator==(const Attributes& a, const Attributes& b) {
  if (a.values_.size() != b.values_.size()) return false;
  for (const auto& [name, value] : a.values_) {
    auto it = b.values_.find(name);
    if (it == b.values_.end() || it->second.index() != value.index()) return false;
    bool same = std::visit(
        [&other = it->second](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          const V& w = std::get<V>(other);
          if constexpr (std::is_same_v<V, Tensor>) return tensors_equal(v, w);
          else return v == w;
        },
        value);
    if (!same) return false;
  }
  return true;
}

}  // namespace kiln
