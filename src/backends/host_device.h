// The host as a Device: plain aligned heap memory; work runs synchronously in the calling
// thread, so streams are null and events are clock readings.
#pragma once

#include "backends/device.h"

namespace kiln::backends {

const Device& host_device();

}  // namespace kiln::backends
