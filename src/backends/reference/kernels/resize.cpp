// Resize (opset 13-17): nearest / linear / cubic interpolation on any number of dims. Each output
// coordinate maps back to the input through the coordinate transformation; the interpolation is
// separable, so every output dim gets its own list of (input index, weight) taps and an output
// element is the weighted sum over the product of its dims' taps.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/linalg_kernels.h"

namespace kiln::reference::linalg {
namespace {

enum ResizeInput : size_t { kX = 0, kRoi = 1, kScales = 2, kSizes = 3 };

enum class Mode { kNearest, kLinear, kCubic };
enum class Transform { kHalfPixel, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfCropAndResize };
enum class Rounding { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

constexpr float kDefaultCubicCoeffA = -0.75f;
constexpr double kHalf = 0.5;
// Refuse outputs this large (elements): a scale typo should not try to allocate terabytes.
constexpr double kMaxOutputElements = 1ull << 36;

struct ResizeOptions {
  Mode mode = Mode::kNearest;
  Transform transform = Transform::kHalfPixel;
  Rounding rounding = Rounding::kRoundPreferFloor;
  double cubic_a = kDefaultCubicCoeffA;
  bool exclude_outside = false;
  double extrapolation_value = 0.0;
};

template <class E>
Result<E> parse_choice(const Attributes& attrs, const char* name, const char* fallback,
                       std::initializer_list<std::pair<const char*, E>> choices) {
  const std::string value = attrs.get_string(name, fallback);
  for (const auto& [text, e] : choices)
    if (value == text) return e;
  return invalid_argument(std::string("Resize: attribute ") + name + " has unsupported value '" + value + "'");
}

Result<ResizeOptions> parse_options(const Attributes& attrs) {
  ResizeOptions o;
  KILN_ASSIGN_OR_RETURN(o.mode, parse_choice<Mode>(attrs, "mode", "nearest",
                                                   {{"nearest", Mode::kNearest}, {"linear", Mode::kLinear}, {"cubic", Mode::kCubic}}));
  KILN_ASSIGN_OR_RETURN(o.transform, parse_choice<Transform>(attrs, "coordinate_transformation_mode", "half_pixel",
                                                             {{"half_pixel", Transform::kHalfPixel},
                                                              {"pytorch_half_pixel", Transform::kPytorchHalfPixel},
                                                              {"align_corners", Transform::kAlignCorners},
                                                              {"asymmetric", Transform::kAsymmetric},
                                                              {"tf_crop_and_resize", Transform::kTfCropAndResize}}));
  KILN_ASSIGN_OR_RETURN(o.rounding, parse_choice<Rounding>(attrs, "nearest_mode", "round_prefer_floor",
                                                           {{"round_prefer_floor", Rounding::kRoundPreferFloor},
                                                            {"round_prefer_ceil", Rounding::kRoundPreferCeil},
                                                            {"floor", Rounding::kFloor},
                                                            {"ceil", Rounding::kCeil}}));
  o.cubic_a = attrs.get_float("cubic_coeff_a", kDefaultCubicCoeffA);
  o.exclude_outside = attrs.get_int("exclude_outside", 0) != 0;
  o.extrapolation_value = attrs.get_float("extrapolation_value", 0.0f);
  return o;
}

bool present(const Tensor* t) { return t && t->defined() && t->numel() > 0; }

Result<std::vector<double>> float_values(const Tensor& t, const char* what) {
  if (!is_float_dtype(t.dtype()))
    return invalid_argument(std::string("Resize: ") + what + " must be a float tensor, got " + std::string(dtype_name(t.dtype())));
  return to_doubles(t);
}

// Output shape and per-dim scale from exactly one of scales / sizes.
Status output_geometry(const KernelContext& ctx, const Shape& in, Shape& out, std::vector<double>& scales) {
  const Tensor* scales_t = ctx.input(kScales);
  const Tensor* sizes_t = ctx.input(kSizes);
  if (present(scales_t) == present(sizes_t))
    return invalid_argument(present(scales_t) ? "Resize: both scales and sizes are given; exactly one must be"
                                              : "Resize: neither scales nor sizes is given; exactly one must be");
  const size_t rank = in.rank();
  out = in;
  scales.assign(rank, 1.0);
  if (present(scales_t)) {
    KILN_ASSIGN_OR_RETURN(scales, float_values(*scales_t, "scales"));
    if (scales.size() != rank)
      return invalid_argument("Resize: scales has " + std::to_string(scales.size()) + " values but X has rank " + std::to_string(rank));
    for (size_t d = 0; d < rank; ++d) {
      if (!(scales[d] > 0.0) || !std::isfinite(scales[d]))
        return invalid_argument("Resize: scales[" + std::to_string(d) + "] must be positive, got " + std::to_string(scales[d]));
      const double size = std::floor(static_cast<double>(in[d]) * scales[d]);
      if (size > kMaxOutputElements) return invalid_argument("Resize: scales[" + std::to_string(d) + "] gives a huge output");
      out[d] = static_cast<int64_t>(size);
    }
  } else {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, to_int64s(*sizes_t, "Resize: sizes"));
    if (sizes.size() != rank)
      return invalid_argument("Resize: sizes has " + std::to_string(sizes.size()) + " values but X has rank " + std::to_string(rank));
    for (size_t d = 0; d < rank; ++d) {
      if (sizes[d] < 0) return invalid_argument("Resize: sizes[" + std::to_string(d) + "] is negative");
      out[d] = sizes[d];
      scales[d] = in[d] > 0 ? static_cast<double>(sizes[d]) / static_cast<double>(in[d]) : 1.0;
    }
  }
  double elements = 1.0;
  for (int64_t d : out.dims()) elements *= static_cast<double>(d);
  if (elements > kMaxOutputElements) return invalid_argument("Resize: output " + out.to_string() + " is too large");
  return {};
}

// The input coordinate that output coordinate `x` maps to.
double source_coordinate(const ResizeOptions& o, double x, int64_t in_len, int64_t out_len, double scale,
                         double roi_start, double roi_end) {
  const double in_last = static_cast<double>(in_len - 1);
  switch (o.transform) {
    case Transform::kHalfPixel:
      return (x + kHalf) / scale - kHalf;
    case Transform::kPytorchHalfPixel:
      return out_len > 1 ? (x + kHalf) / scale - kHalf : 0.0;
    case Transform::kAlignCorners: {
      // ONNX's reference measures the resized length as in_len * scale before rounding (with
      // scales given and a fractional product it differs from the output size).
      const double resized_len = static_cast<double>(in_len) * scale;
      return resized_len > 1.0 ? x * in_last / (resized_len - 1.0) : 0.0;
    }
    case Transform::kAsymmetric:
      return x / scale;
    case Transform::kTfCropAndResize:
      return out_len > 1 ? roi_start * in_last + x * (roi_end - roi_start) * in_last / static_cast<double>(out_len - 1)
                         : kHalf * (roi_start + roi_end) * in_last;
  }
  return x;
}

int64_t nearest_index(double x, Rounding r) {
  const double lower = std::floor(x);
  const double frac = x - lower;
  if (frac == 0.0) return static_cast<int64_t>(lower);
  switch (r) {
    case Rounding::kRoundPreferFloor: return static_cast<int64_t>(frac <= kHalf ? lower : lower + 1);
    case Rounding::kRoundPreferCeil: return static_cast<int64_t>(frac < kHalf ? lower : lower + 1);
    case Rounding::kFloor: return static_cast<int64_t>(lower);
    case Rounding::kCeil: return static_cast<int64_t>(lower + 1);
  }
  return static_cast<int64_t>(lower);
}

// Keys' cubic convolution kernel with parameter a, at distance |t|.
double cubic_weight(double t, double a) {
  t = std::fabs(t);
  if (t <= 1.0) return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
  if (t < 2.0) return ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a;
  return 0.0;
}

struct Tap {
  int64_t index;
  double weight;
};

struct DimTaps {
  std::vector<std::vector<Tap>> taps;  // per output coordinate
  std::vector<bool> outside;           // tf_crop_and_resize: maps outside the input
};

DimTaps taps_for_dim(const ResizeOptions& o, int64_t in_len, int64_t out_len, double scale, double roi_start, double roi_end) {
  DimTaps result;
  result.taps.resize(static_cast<size_t>(out_len));
  result.outside.assign(static_cast<size_t>(out_len), false);
  for (int64_t x = 0; x < out_len; ++x) {
    const double src = source_coordinate(o, static_cast<double>(x), in_len, out_len, scale, roi_start, roi_end);
    std::vector<Tap>& taps = result.taps[static_cast<size_t>(x)];
    if (o.transform == Transform::kTfCropAndResize && !(src >= 0.0 && src <= static_cast<double>(in_len - 1)))
      result.outside[static_cast<size_t>(x)] = true;
    // Only tf_crop_and_resize (with an arbitrary roi) can map outside the input by more than the
    // kernel's reach; such elements take the extrapolation value and need no taps.
    if (result.outside[static_cast<size_t>(x)] || !std::isfinite(src)) {
      taps.push_back({0, 1.0});
      continue;
    }
    const double lower = std::floor(src);
    const double ratio = src - lower;
    const auto base = static_cast<int64_t>(lower);
    if (o.mode == Mode::kNearest) {
      taps.push_back({nearest_index(src, o.rounding), 1.0});
    } else if (o.mode == Mode::kLinear) {
      taps = {{base, 1.0 - ratio}, {base + 1, ratio}};
    } else {
      taps = {{base - 1, cubic_weight(1.0 + ratio, o.cubic_a)},
              {base, cubic_weight(ratio, o.cubic_a)},
              {base + 1, cubic_weight(1.0 - ratio, o.cubic_a)},
              {base + 2, cubic_weight(2.0 - ratio, o.cubic_a)}};
    }
    if (o.exclude_outside) {
      double sum = 0.0;
      for (Tap& t : taps) {
        if (t.index < 0 || t.index >= in_len) t.weight = 0.0;
        sum += t.weight;
      }
      if (sum != 0.0)
        for (Tap& t : taps) t.weight /= sum;
    }
    // Out-of-range taps read the edge value; zero-weight taps are dropped (non-resized dims
    // then cost a single tap).
    std::vector<Tap> kept;
    for (Tap t : taps) {
      if (t.weight == 0.0) continue;
      t.index = std::clamp<int64_t>(t.index, 0, in_len - 1);
      kept.push_back(t);
    }
    if (kept.empty()) kept.push_back({std::clamp<int64_t>(base, 0, in_len - 1), 0.0});
    taps = std::move(kept);
  }
  return result;
}

// Sum over the taps of dims [d, rank) for the output coordinate `index`.
double interpolate(const std::vector<double>& input, const std::vector<DimTaps>& dims, const std::vector<int64_t>& strides,
                   const std::vector<int64_t>& index, size_t d, int64_t offset) {
  if (d == dims.size()) return input[static_cast<size_t>(offset)];
  double sum = 0.0;
  for (const Tap& t : dims[d].taps[static_cast<size_t>(index[d])])
    sum += t.weight * interpolate(input, dims, strides, index, d + 1, offset + t.index * strides[d]);
  return sum;
}

Status resize_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(kX);
  if (!x) return invalid_argument("Resize: input X is required");
  if (x->dtype() == DType::kBytes || x->dtype() == DType::kUndefined) return unsupported_dtype("Resize", x->dtype());
  KILN_ASSIGN_OR_RETURN(ResizeOptions options, parse_options(ctx.attributes()));
  const Shape& in = x->shape();
  const size_t rank = in.rank();
  Shape out;
  std::vector<double> scales;
  KILN_RETURN_IF_ERROR(output_geometry(ctx, in, out, scales));

  std::vector<double> roi(2 * rank, 0.0);
  for (size_t d = 0; d < rank; ++d) roi[rank + d] = 1.0;
  if (options.transform == Transform::kTfCropAndResize) {
    const Tensor* roi_t = ctx.input(kRoi);
    if (!present(roi_t)) return invalid_argument("Resize: tf_crop_and_resize needs the roi input");
    KILN_ASSIGN_OR_RETURN(roi, float_values(*roi_t, "roi"));
    if (roi.size() != 2 * rank)
      return invalid_argument("Resize: roi has " + std::to_string(roi.size()) + " values; expected 2 * rank = " +
                              std::to_string(2 * rank));
  }

  Tensor result(x->dtype(), out);
  if (result.numel() == 0) {
    ctx.outputs[0] = std::move(result);
    return {};
  }
  if (x->numel() == 0)
    return invalid_argument("Resize: cannot resize the empty input " + in.to_string() + " to " + out.to_string());
  std::vector<DimTaps> dims;
  for (size_t d = 0; d < rank; ++d) dims.push_back(taps_for_dim(options, in[d], out[d], scales[d], roi[d], roi[rank + d]));
  const std::vector<double> input = to_doubles(*x);
  const std::vector<int64_t> strides = contiguous_strides(in);
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* out_data = result.data<T>();
    size_t i = 0;
    for_each_index(out, [&](const std::vector<int64_t>& index) {
      bool outside = false;
      for (size_t d = 0; d < rank; ++d) outside = outside || dims[d].outside[static_cast<size_t>(index[d])];
      const double v = outside ? options.extrapolation_value : interpolate(input, dims, strides, index, 0, 0);
      out_data[i++] = saturate_from_double<T>(v);
    });
  });
  ctx.outputs[0] = std::move(result);
  return {};
}

}  // namespace

void register_resize_kernel(KernelTable& table) { table.add(OpKind::Resize, resize_kernel); }

}  // namespace kiln::reference::linalg
