// JSON writing shared by the KServe v2 and TF-Serving front ends: one writer type (NaN and inf
// allowed, as both protocols' clients accept them) and one way to write a tensor element.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>

#include "kiln/tensor.h"

namespace kiln::cli::serve {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                     rapidjson::CrtAllocator, rapidjson::kWriteNanAndInfFlag>;

// Element i of t as a JSON value (numbers, bools, strings; null for types JSON cannot carry).
void write_json_element(JsonWriter& w, const Tensor& t, int64_t i);
// "key": "value"
void write_json_string(JsonWriter& w, const char* key, const std::string& value);

}  // namespace kiln::cli::serve
