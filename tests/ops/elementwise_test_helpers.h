// Shared helpers of the elementwise op tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "core/op_kind.h"
#include "op_test_util.h"

namespace kiln::testing::elementwise {

inline Attributes no_attrs() { return {}; }

// Runs `op` and returns output `index`; records a test failure (and returns an empty tensor)
// when the run fails.
inline Tensor run_ok(OpKind op, std::vector<Tensor> inputs, Attributes attrs = {}, size_t num_outputs = 1,
                     size_t index = 0) {
  OpRun run{op, std::move(inputs), std::move(attrs), num_outputs, {}};
  Result<std::vector<Tensor>> r = run_op(run);
  if (!r.ok()) {
    ADD_FAILURE() << op_kind_name(op) << ": " << r.status().to_string();
    return {};
  }
  return r.value()[index];
}

inline Status run_status(OpKind op, std::vector<Tensor> inputs, Attributes attrs = {}, size_t num_outputs = 1) {
  OpRun run{op, std::move(inputs), std::move(attrs), num_outputs, {}};
  return run_op(run).status();
}

// Element-wise comparison with NaN == NaN and a relative tolerance.
inline void expect_values(const Tensor& actual, const std::vector<double>& expected, double tol = 1e-6) {
  std::vector<double> got = values_of(actual);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i << " is " << got[i] << ", expected NaN";
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(got[i], expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got[i], expected[i], tol * std::max(1.0, std::fabs(expected[i]))) << "element " << i;
    }
  }
}

// f applied to every element of `in` (as doubles), for property checks against a formula.
inline std::vector<double> apply(const Tensor& in, const std::function<double(double)>& f) {
  std::vector<double> v = values_of(in);
  for (double& x : v) x = f(x);
  return v;
}

}  // namespace kiln::testing::elementwise
