// Node attributes, as a name -> value map. Lives in core (not ir) so that backend kernels can
// read attributes without depending on the IR.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

using AttributeValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                                    std::vector<float>, std::vector<std::string>, Tensor>;

class Attributes {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, AttributeValue value) { values_[name] = std::move(value); }
  void erase(const std::string& name) { values_.erase(name); }
  const std::map<std::string, AttributeValue>& all() const { return values_; }
  bool empty() const { return values_.empty(); }

  // Getters with a default for absent attributes. A present attribute of the wrong kind is a
  // model error; these return the default then, and validate() style callers use the
  // Result-returning forms below.
  int64_t get_int(const std::string& name, int64_t fallback) const;
  float get_float(const std::string& name, float fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> get_floats(const std::string& name, std::vector<float> fallback = {}) const;
  std::vector<std::string> get_strings(const std::string& name) const;
  const Tensor* get_tensor(const std::string& name) const;

  // Required attributes: an error naming the attribute when missing or of the wrong kind.
  Result<int64_t> require_int(const std::string& name) const;
  Result<float> require_float(const std::string& name) const;
  Result<std::vector<int64_t>> require_ints(const std::string& name) const;

  // "axis=1, pads=[0,0,1,1]": used by the textual IR dump.
  std::string to_string() const;

  friend bool operator==(const Attributes&, const Attributes&);

 private:
  std::map<std::string, AttributeValue> values_;
};

}  // namespace kiln
