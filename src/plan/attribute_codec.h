// Attributes <-> plan.proto: each step of a plan keeps its node's attributes so the runtime can
// hand kernels the same Attributes the builder prepared them with.
#pragma once

#include "core/attributes.h"
#include "kiln/status.h"
#include "plan/plan.pb.h"

namespace kiln::plan {

Status encode_attributes(const Attributes& attributes, google::protobuf::RepeatedPtrField<Attribute>* out);
Result<Attributes> decode_attributes(const google::protobuf::RepeatedPtrField<Attribute>& in);

}  // namespace kiln::plan
