#include "core/pad_params.h"

#include <algorithm>
#include <optional>
#include <string>

#include "core/checked_math.h"

namespace kiln {

Result<PadMode> decode_pad_mode(const Attributes& attrs) {
  const std::string mode = attrs.get_string("mode", "constant");
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  return invalid_argument("attribute 'mode' is '" + mode + "', expected constant, reflect or edge");
}

Result<PadAmounts> resolve_pad_amounts(const std::vector<int64_t>& pads, const std::vector<int64_t>* axes,
                                       size_t rank) {
  const auto signed_rank = static_cast<int64_t>(rank);
  std::vector<int64_t> axis_list;
  if (axes) {
    for (int64_t a : *axes) {
      if (a < -signed_rank || a >= signed_rank)
        return invalid_argument("input 'axes' has entry " + std::to_string(a) + ", out of range for rank " +
                                std::to_string(rank));
      axis_list.push_back(a < 0 ? a + signed_rank : a);
    }
  } else {
    for (int64_t a = 0; a < signed_rank; ++a) axis_list.push_back(a);
  }
  if (pads.size() != 2 * axis_list.size())
    return invalid_argument("input 'pads' has " + std::to_string(pads.size()) + " entries, expected " +
                            std::to_string(2 * axis_list.size()) + " (begin and end for each padded axis)");
  PadAmounts amounts{std::vector<int64_t>(rank, 0), std::vector<int64_t>(rank, 0)};
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < axis_list.size(); ++i) {
    const auto axis = static_cast<size_t>(axis_list[i]);
    if (seen[axis]) return invalid_argument("input 'axes' lists axis " + std::to_string(axis) + " twice");
    seen[axis] = true;
    amounts.begin[axis] = pads[i];
    amounts.end[axis] = pads[i + axis_list.size()];
  }
  return amounts;
}

Result<int64_t> padded_axis_size(PadMode mode, size_t axis, int64_t input, int64_t begin, int64_t end) {
  const std::optional<int64_t> with_begin = checked_add(input, begin);
  const std::optional<int64_t> padded = with_begin ? checked_add(*with_begin, end) : std::nullopt;
  if (!padded)
    return invalid_argument("pads " + std::to_string(begin) + " and " + std::to_string(end) + " of axis " +
                            std::to_string(axis) + " (size " + std::to_string(input) + ") overflow int64");
  const int64_t output = *padded;
  if (output < 0)
    return invalid_argument("pads crop axis " + std::to_string(axis) + " (size " + std::to_string(input) +
                            ") below zero");
  // Cannot overflow: input >= 0 and output = input + begin + end >= 0 fit, so dropping the
  // positive pads only moves the sum towards input.
  const int64_t kept = output - std::max<int64_t>(begin, 0) - std::max<int64_t>(end, 0);
  const bool grows = begin > 0 || end > 0;
  if (grows && mode != PadMode::kConstant && kept <= 0)
    return invalid_argument("axis " + std::to_string(axis) + " has no elements left to extend in reflect/edge mode");
  if (grows && mode == PadMode::kReflect && (begin >= kept || end >= kept))
    return invalid_argument("reflect padding of axis " + std::to_string(axis) + " must be smaller than its size " +
                            std::to_string(kept));
  return output;
}

}  // namespace kiln
