// kiln inspect PLAN: the steps of a built engine with their backend, tactic, precision and
// build-time timing, grouped totals per backend, and the memory plan.
#pragma once

#include <string>

#include "kiln/status.h"

namespace kiln::cli {

Status inspect_plan(const std::string& path, bool json);

}  // namespace kiln::cli
