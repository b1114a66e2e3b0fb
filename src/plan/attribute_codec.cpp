#include "plan/attribute_codec.h"

#include <cstring>
#include <type_traits>

namespace kiln::plan {

Status encode_attributes(const Attributes& attributes, google::protobuf::RepeatedPtrField<Attribute>* out) {
  for (const auto& entry : attributes.all()) {
    // Named, not a structured binding: clang before 16 cannot capture bindings in the lambda below.
    const std::string& name = entry.first;
    const auto& value = entry.second;
    Attribute* a = out->Add();
    a->set_name(name);
    Status status;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            a->set_i(v);
          } else if constexpr (std::is_same_v<T, float>) {
            a->set_f(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            a->set_s(v);
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            a->mutable_ints()->mutable_values()->Add(v.begin(), v.end());
          } else if constexpr (std::is_same_v<T, std::vector<float>>) {
            a->mutable_floats()->mutable_values()->Add(v.begin(), v.end());
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            for (const std::string& s : v) a->mutable_strings()->add_values(s);
          } else {
            static_assert(std::is_same_v<T, Tensor>);
            if (v.dtype() == DType::kBytes) {
              status = unimplemented("attribute '" + name + "' is a string tensor, which plans cannot store");
              return;
            }
            InlineTensor* t = a->mutable_tensor();
            t->set_dtype(static_cast<int32_t>(v.dtype()));
            for (int64_t d : v.shape().dims()) t->add_dims(d);
            t->set_data(v.raw_data(), v.nbytes());
          }
        },
        value);
    KILN_RETURN_IF_ERROR(status);
  }
  return {};
}

Result<Attributes> decode_attributes(const google::protobuf::RepeatedPtrField<Attribute>& in) {
  Attributes attributes;
  for (const Attribute& a : in) {
    switch (a.value_case()) {
      case Attribute::kI:
        attributes.set(a.name(), a.i());
        break;
      case Attribute::kF:
        attributes.set(a.name(), a.f());
        break;
      case Attribute::kS:
        attributes.set(a.name(), a.s());
        break;
      case Attribute::kInts:
        attributes.set(a.name(), std::vector<int64_t>(a.ints().values().begin(), a.ints().values().end()));
        break;
      case Attribute::kFloats:
        attributes.set(a.name(), std::vector<float>(a.floats().values().begin(), a.floats().values().end()));
        break;
      case Attribute::kStrings:
        attributes.set(a.name(), std::vector<std::string>(a.strings().values().begin(), a.strings().values().end()));
        break;
      case Attribute::kTensor: {
        const InlineTensor& t = a.tensor();
        const auto dtype = static_cast<DType>(t.dtype());
        Shape shape(std::vector<int64_t>(t.dims().begin(), t.dims().end()));
        if (!shape.is_static() || dtype == DType::kBytes || dtype == DType::kUndefined)
          return data_loss("plan attribute '" + a.name() + "' holds an invalid tensor");
        Tensor value(dtype, shape);
        if (value.nbytes() != t.data().size())
          return data_loss("plan attribute '" + a.name() + "' has " + std::to_string(t.data().size()) +
                           " data bytes for a tensor of " + std::to_string(value.nbytes()));
        if (value.nbytes()) std::memcpy(value.raw_data(), t.data().data(), value.nbytes());
        attributes.set(a.name(), std::move(value));
        break;
      }
      case Attribute::VALUE_NOT_SET:
        return data_loss("plan attribute '" + a.name() + "' has no value");
    }
  }
  return attributes;
}

}  // namespace kiln::plan
